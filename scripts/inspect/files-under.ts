import { readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';

/**
 * Files under the arguments, folders recursed in name order; symlinked folders are visited once. A path that cannot
 * be listed is yielded as it is, so the inspection reports it. Directory entries carry their type, so only symlinks
 * and unknown types cost a stat.
 */
export async function* filesUnder(paths: string[], seen = new Set<string>()): AsyncGenerator<string> {
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch {
      yield path;
      continue;
    }
    if (isDirectory) yield* folder(path, seen);
    else yield path;
  }
}

async function* folder(path: string, seen: Set<string>): AsyncGenerator<string> {
  const real = await realpath(path);
  if (seen.has(real)) return;
  seen.add(real);
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    yield path;
    return;
  }
  // Code-unit order, as Array.prototype.sort orders plain names.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isFile()) yield child;
    else if (entry.isDirectory()) yield* folder(child, seen);
    else yield* filesUnder([child], seen);
  }
}
