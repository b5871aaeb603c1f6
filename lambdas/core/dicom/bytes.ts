/** Little helpers over a byte array; lengths are unsigned 32-bit, read without DataView allocations. */
export function u16(b: Uint8Array, p: number, le: boolean): number {
  return le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
}

export function u32(b: Uint8Array, p: number, le: boolean): number {
  return le
    ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000
    : b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/** (group << 16 | element) as an unsigned number, so tags compare in file order. */
export function readTag(b: Uint8Array, p: number, le: boolean): number {
  return u16(b, p, le) * 0x10000 + u16(b, p + 2, le);
}

/** pydicom's test for an explicit VR: two bytes in 'A'..'Z'. */
export function looksLikeVr(b: Uint8Array, p: number): boolean {
  const a = b[p]!;
  const c = b[p + 1]!;
  return a > 0x40 && a < 0x5b && c > 0x40 && c < 0x5b;
}

export function startsWith(b: Uint8Array, at: number, ascii: string): boolean {
  if (b.length < at + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (b[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}
