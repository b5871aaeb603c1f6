/** Why a byte string is not a readable DICOM header. */
export type InvalidDicomReason =
  /** Neither a Part 10 file nor a plausible preamble-less dataset. */
  | 'NOT_DICOM'
  /** The file ends before the header does. */
  | 'TRUNCATED'
  /** Lengths, tags or the deflate stream contradict themselves. */
  | 'MALFORMED'
  /** The prefix up to Pixel Data would exceed readHeaderFrom's limit (64 MiB by default). */
  | 'HEADER_TOO_LARGE';

/** The only error the DICOM reader throws. `reason` is a stable machine code; the message never carries header values. */
export class InvalidDicomError extends Error {
  override readonly name = 'InvalidDicomError';
  constructor(
    readonly reason: InvalidDicomReason,
    message: string = reason,
  ) {
    super(message);
  }
}
