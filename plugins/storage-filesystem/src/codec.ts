/**
 * Strict text encodings for item and metadata files, named the way vdirsyncer's `encoding` option names them
 * (Python codec names such as `utf-8`, `utf_8`, `latin-1`, `cp1252`).
 */

/** Converts between an item's text and the bytes of its file, refusing anything that does not round-trip. */
export interface Codec {
  /** The label as the user wrote it, for messages. */
  readonly label: string;
  /**
   * Decodes file bytes.
   * @throws {TypeError} the bytes are not valid in this encoding
   */
  decode(bytes: Uint8Array): string;
  /**
   * Encodes text for a file.
   * @throws {RangeError} a character cannot be written in this encoding (the message names it)
   */
  encode(text: string): Uint8Array;
}

// Python accepts these names; the WHATWG Encoding Standard either does not know them or maps them to
// windows-1252, which would decode bytes that Python rejects (ascii) or decode 0x80-0x9f differently (latin-1).
const PYTHON_ALIASES: Record<string, string> = {
  u8: "utf-8",
  utf: "utf-8",
  utf8: "utf-8",
  "utf-8": "utf-8",
  "utf8-ucs2": "utf-8",
  "utf8-ucs4": "utf-8",
  cp65001: "utf-8",
  ascii: "ascii",
  "us-ascii": "ascii",
  "646": "ascii",
  "latin-1": "latin-1",
  latin1: "latin-1",
  latin: "latin-1",
  l1: "latin-1",
  "iso-8859-1": "latin-1",
  "iso8859-1": "latin-1",
  "iso-8859-1:1987": "latin-1",
  "iso-ir-100": "latin-1",
  "8859": "latin-1",
  cp819: "latin-1",
  "utf-16le": "utf-16le",
  "utf-16-le": "utf-16le",
  "utf-16be": "utf-16be",
  "utf-16-be": "utf-16be",
};

/** Thrown by {@link resolveCodec} for a label no codec answers to; the options schema turns it into a problem. */
export class UnknownEncodingError extends Error {}

/**
 * Finds the codec for an `encoding` option value.
 *
 * MUST decode strictly (a malformed byte is an error, never U+FFFD) and MUST keep a byte-order mark as text,
 * as Python's `bytes.decode("utf-8")` does.
 * @throws {UnknownEncodingError} the label names no known encoding
 */
export function resolveCodec(label: string): Codec {
  const key = label.trim().toLowerCase().replaceAll("_", "-");
  const canonical = PYTHON_ALIASES[key] ?? key;
  switch (canonical) {
    case "utf-8":
      return utf8Codec(label);
    case "ascii":
      return byteTableCodec(label, (b) => (b < 0x80 ? String.fromCharCode(b) : undefined));
    case "latin-1":
      return byteTableCodec(label, (b) => String.fromCharCode(b));
    case "utf-16le":
    case "utf-16be":
      return utf16Codec(label, canonical === "utf-16be");
    default:
      return whatwgCodec(label, canonical);
  }
}

function utf8Codec(label: string): Codec {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const encoder = new TextEncoder();
  return {
    label,
    decode: (bytes) => decoder.decode(bytes),
    encode: (text) => {
      // TextEncoder silently turns a lone surrogate into U+FFFD; Python refuses to encode it. Refuse too.
      if (!text.isWellFormed())
        throw new RangeError(`the text contains a lone surrogate, which ${label} cannot encode`);
      return encoder.encode(text);
    },
  };
}

function utf16Codec(label: string, bigEndian: boolean): Codec {
  const decoder = new TextDecoder(bigEndian ? "utf-16be" : "utf-16le", { fatal: true, ignoreBOM: true });
  return {
    label,
    decode: (bytes) => decoder.decode(bytes),
    encode: (text) => {
      if (!text.isWellFormed())
        throw new RangeError(`the text contains a lone surrogate, which ${label} cannot encode`);
      const out = new Uint8Array(text.length * 2);
      const view = new DataView(out.buffer);
      for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), !bigEndian);
      return out;
    },
  };
}

/** A single-byte encoding given as "byte → character or undefined", encoded through the reverse table. */
function byteTableCodec(label: string, charOf: (byte: number) => string | undefined): Codec {
  const chars: (string | undefined)[] = [];
  const bytes = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    const c = charOf(b);
    chars.push(c);
    if (c !== undefined && !bytes.has(c)) bytes.set(c, b);
  }
  return {
    label,
    decode: (input) => {
      let out = "";
      for (let i = 0; i < input.length; i++) {
        const c = chars[input[i]!];
        if (c === undefined) {
          throw new TypeError(
            `byte 0x${input[i]!.toString(16).padStart(2, "0")} at offset ${i} is not valid ${label}`,
          );
        }
        out += c;
      }
      return out;
    },
    encode: (text) => {
      const out = new Uint8Array(text.length);
      let n = 0;
      for (const c of text) {
        const b = bytes.get(c);
        if (b === undefined) {
          const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
          throw new RangeError(`the character U+${cp} cannot be encoded in ${label}`);
        }
        out[n++] = b;
      }
      return out.subarray(0, n);
    },
  };
}

function whatwgCodec(label: string, canonical: string): Codec {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(canonical, { fatal: true, ignoreBOM: true });
  } catch (cause) {
    throw new UnknownEncodingError(`Unknown encoding "${label}".`, { cause });
  }
  if (decoder.encoding === "utf-8") return utf8Codec(label);
  // Multi-byte legacy encodings (Shift_JIS, GBK, …) would need the full tables to encode; refuse them up front
  // rather than fail at the first write.
  const single = singleByteTable(canonical);
  if (single === undefined) {
    throw new UnknownEncodingError(
      `The encoding "${label}" is not supported for writing; use utf-8, utf-16, ascii, latin-1 or a single-byte code page.`,
    );
  }
  const table = byteTableCodec(label, (b) => single[b]);
  return { label, decode: (bytes) => decoder.decode(bytes), encode: table.encode };
}

/** The 256 characters of a single-byte WHATWG encoding, or `undefined` when it is not single-byte. */
function singleByteTable(canonical: string): (string | undefined)[] | undefined {
  const decoder = new TextDecoder(canonical, { fatal: true, ignoreBOM: true });
  if (MULTI_BYTE.has(decoder.encoding)) return undefined;
  const table: (string | undefined)[] = [];
  for (let b = 0; b < 256; b++) {
    try {
      table.push(decoder.decode(Uint8Array.of(b)));
    } catch {
      table.push(undefined); // a byte this code page leaves undefined
    }
  }
  return table;
}

/** The WHATWG encodings that are not single-byte (their canonical names). */
const MULTI_BYTE = new Set([
  "utf-16le",
  "utf-16be",
  "shift_jis",
  "euc-jp",
  "iso-2022-jp",
  "gbk",
  "gb18030",
  "big5",
  "euc-kr",
]);
