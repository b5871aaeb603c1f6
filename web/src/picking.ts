/** Turns dropped files and folders into a flat list with relative paths. */
export interface PickedFile {
  file: File;
  /** Relative path (folder/…/name) for display and de-duplication. */
  path: string;
}

/** Reads every dropped entry, recursing into folders. */
export async function collectDropped(transfer: DataTransfer): Promise<PickedFile[]> {
  // Entries must be taken synchronously: the DataTransfer is emptied once the event returns.
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...transfer.items]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  const out: PickedFile[] = loose.map((file) => ({ file, path: file.name }));
  for (const entry of entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  const path = entry.fullPath.replace(/^\//, '');
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: path || file.name });
    return;
  }
  if (!entry.isDirectory) return;
  const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
  for (const child of children) await walk(child, out);
}

/** readEntries returns at most 100 entries per call in Chromium: call it until it returns none. */
export async function readAllEntries(reader: { readEntries(success: (entries: FileSystemEntry[]) => void, error?: (e: unknown) => void): void }): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
