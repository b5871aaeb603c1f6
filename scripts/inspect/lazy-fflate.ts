/**
 * fflate as the CLI's bundle sees it (scripts/inspect.cjs maps the DICOM reader's `fflate` import here): loaded on the
 * first deflated file, not at start-up, where building its tables cost about 10 ms of every run.
 */
import type * as Fflate from 'fflate';

let fflate: typeof Fflate | undefined;

/** fflate's Inflate, constructed by the real class on first use. */
export const Inflate = function Inflate(ondata: Fflate.FlateStreamHandler): Fflate.Inflate {
  // A require() call, left outside the bundle (scripts/inspect.cjs marks fflate external): Node loads fflate from
  // node_modules when this line first runs.
  fflate ??= require('fflate') as typeof Fflate;
  return new fflate.Inflate(ondata);
} as unknown as typeof Fflate.Inflate;
