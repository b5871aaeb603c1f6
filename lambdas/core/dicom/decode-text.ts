/**
 * Decodes DICOM text with its SpecificCharacterSet the way pydicom 2.3 does (charset.decode_bytes), with TextDecoder
 * so it runs in browsers and workers too. ISO 2022 code extensions: the value is cut at each ESC; each fragment is
 * decoded with the charset its escape sequence names, and the text after a delimiter goes back to the first charset.
 */

/** A decoder label, or 'latin1' (decoded by hand: WHATWG maps the 'latin1' label to windows-1252). */
type Charset = string;

const LATIN1: Charset = 'latin1';

/** SpecificCharacterSet term → charset (pydicom's python_encoding table, in WHATWG labels). */
const CHARSET_BY_TERM: Record<string, Charset> = {
  '': LATIN1,
  'ISO_IR 6': LATIN1,
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 100': LATIN1,
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
  'ISO 2022 IR 6': LATIN1,
  'ISO 2022 IR 13': 'shift_jis',
  'ISO 2022 IR 87': 'iso-2022-jp',
  'ISO 2022 IR 100': LATIN1,
  'ISO 2022 IR 101': 'iso-8859-2',
  'ISO 2022 IR 109': 'iso-8859-3',
  'ISO 2022 IR 110': 'iso-8859-4',
  'ISO 2022 IR 126': 'iso-8859-7',
  'ISO 2022 IR 127': 'iso-8859-6',
  'ISO 2022 IR 138': 'iso-8859-8',
  'ISO 2022 IR 144': 'iso-8859-5',
  'ISO 2022 IR 148': 'iso-8859-9',
  'ISO 2022 IR 149': 'euc-kr',
  'ISO 2022 IR 159': 'iso-2022-jp-2',
  'ISO 2022 IR 166': 'windows-874',
  'ISO 2022 IR 203': 'iso-8859-15',
  'ISO 2022 IR 58': 'gb2312',
};

/** Escape sequence (after ESC) → charset. */
const CHARSET_BY_ESCAPE: Record<string, Charset> = {
  '(B': LATIN1,
  '(J': 'shift_jis',
  ')I': 'shift_jis',
  '-A': LATIN1,
  '-B': 'iso-8859-2',
  '-C': 'iso-8859-3',
  '-D': 'iso-8859-4',
  '-F': 'iso-8859-7',
  '-G': 'iso-8859-6',
  '-H': 'iso-8859-8',
  '-L': 'iso-8859-5',
  '-M': 'iso-8859-9',
  '-T': 'windows-874',
  '-b': 'iso-8859-15',
  $B: 'iso-2022-jp',
  '$(D': 'iso-2022-jp-2',
  '$)C': 'euc-kr',
  '$)A': 'gb2312',
};

/** Charsets whose decoder reads the escape sequences itself (pydicom's handled_encodings). */
const KEEPS_ESCAPE = new Set<Charset>(['iso-2022-jp']);

const ESC = 0x1b;

const decoders = new Map<Charset, TextDecoder | undefined>();

/** The decoder for a label; latin1 where the runtime lacks it (a Node built without full ICU), never a throw. */
function decoderFor(charset: Charset): TextDecoder | undefined {
  if (!decoders.has(charset)) {
    let decoder: TextDecoder | undefined;
    try {
      decoder = new TextDecoder(charset);
    } catch {
      decoder = undefined;
    }
    decoders.set(charset, decoder);
  }
  return decoders.get(charset);
}

/** Reads one ISO-8859-1 (or ASCII) string; this is the hot path for UIDs and most names. */
export function decodeLatin1(bytes: Uint8Array): string {
  // One call for a value of up to 4 KiB (nearly all of them), without a view per call.
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}

function decodeWith(charset: Charset, bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  if (charset === LATIN1) return decodeLatin1(bytes);
  if (charset === 'iso-2022-jp-2') return decodeJisX0212(bytes);
  const decoder = decoderFor(charset);
  return decoder ? decoder.decode(bytes) : decodeLatin1(bytes);
}

/** JIS X 0212 (ESC $ ( D): TextDecoder has no ISO-2022-JP-2, so map the 7-bit pairs onto EUC-JP's 0x8F plane. */
function decodeJisX0212(bytes: Uint8Array): string {
  const euc = new Uint8Array(Math.ceil(bytes.length / 2) * 3);
  let n = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    euc[n++] = 0x8f;
    euc[n++] = bytes[i]! | 0x80;
    euc[n++] = bytes[i + 1]! | 0x80;
  }
  return decodeWith('euc-jp', euc.subarray(0, n));
}

/** The charsets a SpecificCharacterSet value names, first one first; unknown terms fall back to latin1. */
export function charsetsFor(specificCharacterSet: string | undefined): Charset[] {
  if (!specificCharacterSet) return [LATIN1];
  const terms = specificCharacterSet.split('\\').map((term) => term.trim());
  return terms.map((term) => CHARSET_BY_TERM[term] ?? CHARSET_BY_TERM[term.replace(/^ISO_IR(\d)/, 'ISO_IR $1')] ?? LATIN1);
}

/**
 * Decodes one value (already split at '\', and for names at '='). `delimiters` are the bytes after which the first
 * charset is active again ('^' for names; CR LF TAB FF for text).
 */
export function decodeText(bytes: Uint8Array, charsets: Charset[], delimiters: readonly number[]): string {
  const first = charsets[0] ?? LATIN1;
  const escAt = bytes.indexOf(ESC);
  if (escAt < 0) return decodeWith(first, bytes);
  let out = escAt > 0 ? decodeWith(first, bytes.subarray(0, escAt)) : '';
  let start = escAt;
  while (start < bytes.length) {
    let next = bytes.indexOf(ESC, start + 1);
    if (next < 0) next = bytes.length;
    out += decodeEscapedFragment(bytes.subarray(start, next), charsets, first, delimiters);
    start = next;
  }
  return out;
}

function decodeEscapedFragment(fragment: Uint8Array, charsets: Charset[], first: Charset, delimiters: readonly number[]): string {
  const longEscape = fragment[1] === 0x24 && (fragment[2] === 0x28 || fragment[2] === 0x29);
  const escapeLength = longEscape ? 4 : 3;
  const code = decodeLatin1(fragment.subarray(1, escapeLength));
  const charset = CHARSET_BY_ESCAPE[code];
  if (charset === undefined || (charset !== LATIN1 && !charsets.includes(charset))) {
    return decodeWith(first, fragment);
  }
  if (KEEPS_ESCAPE.has(charset)) return decodeWith(charset, fragment);
  const body = fragment.subarray(Math.min(escapeLength, fragment.length));
  for (let i = 0; i < body.length; i++) {
    if (delimiters.includes(body[i]!)) {
      return decodeWith(charset, body.subarray(0, i)) + decodeWith(first, body.subarray(i));
    }
  }
  return decodeWith(charset, body);
}
