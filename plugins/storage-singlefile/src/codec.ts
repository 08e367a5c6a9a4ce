/**
 * The text encodings the `encoding` option accepts, each with a strict decoder and a strict encoder.
 *
 * vdirsyncer hands `encoding` to Python's codec registry, which knows hundreds of names. Node can only *write*
 * a handful of encodings without a dependency, and a file we can read but not write back would fail in the middle
 * of a sync, so we accept exactly the encodings we can do both ways and refuse the rest when the config is read.
 */

/** A strict text codec: both directions throw instead of replacing characters. */
export interface Codec {
  /** The canonical name, used in messages. */
  readonly name: string;
  /**
   * Decodes bytes to text.
   * @throws {TypeError} the bytes are not valid in this encoding
   */
  decode(bytes: Uint8Array): string;
  /**
   * Encodes text to bytes.
   * @throws {RangeError} the text holds a character this encoding cannot represent
   */
  encode(text: string): Uint8Array;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf16leDecoder = new TextDecoder("utf-16le", { fatal: true, ignoreBOM: true });

function requireWellFormed(text: string, name: string): void {
  if (!text.isWellFormed())
    throw new RangeError(`The text holds a lone surrogate that ${name} cannot represent.`);
}

function requireMaxCodeUnit(text: string, max: number, name: string): void {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > max) {
      throw new RangeError(
        `The character U+${unit.toString(16).toUpperCase().padStart(4, "0")} cannot be written as ${name}.`,
      );
    }
  }
}

const utf8: Codec = {
  name: "utf-8",
  decode: (bytes) => {
    const text = utf8Decoder.decode(bytes);
    // Python's "utf-8" keeps a byte order mark as U+FEFF, which then breaks the first BEGIN line; files saved by
    // Windows editors often start with one, so we drop it (and write the file back without it).
    return text.startsWith("\uFEFF") ? text.slice(1) : text;
  },
  encode: (text) => {
    requireWellFormed(text, "utf-8");
    return Buffer.from(text, "utf8");
  },
};

const ascii: Codec = {
  name: "ascii",
  decode: (bytes) => {
    const bad = bytes.findIndex((b) => b > 0x7f);
    if (bad !== -1)
      throw new TypeError(`The byte 0x${bytes[bad]?.toString(16)} at offset ${bad} is not ascii.`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  },
  encode: (text) => {
    requireMaxCodeUnit(text, 0x7f, "ascii");
    return Buffer.from(text, "latin1");
  },
};

const latin1: Codec = {
  name: "latin-1",
  // Every byte is a valid ISO-8859-1 character, so decoding cannot fail.
  decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1"),
  encode: (text) => {
    // Buffer.from(…, "latin1") silently keeps the low byte of wider characters; refuse instead of corrupting.
    requireMaxCodeUnit(text, 0xff, "latin-1");
    return Buffer.from(text, "latin1");
  },
};

const utf16le: Codec = {
  name: "utf-16-le",
  decode: (bytes) => utf16leDecoder.decode(bytes),
  encode: (text) => {
    requireWellFormed(text, "utf-16-le");
    return Buffer.from(text, "utf16le");
  },
};

// Keys are Python codec names and aliases, lower-cased with "-", "_" and spaces removed (as Python normalises).
const CODECS: ReadonlyMap<string, Codec> = new Map([
  ["utf8", utf8],
  ["u8", utf8],
  ["utf", utf8],
  ["ascii", ascii],
  ["usascii", ascii],
  ["646", ascii],
  ["latin1", latin1],
  ["latin", latin1],
  ["l1", latin1],
  ["iso88591", latin1],
  ["8859", latin1],
  ["cp819", latin1],
  ["utf16le", utf16le],
]);

/** The encodings {@link findCodec} knows, as shown in error messages. */
export const SUPPORTED_ENCODINGS: readonly string[] = ["utf-8", "ascii", "latin-1", "utf-16-le"];

/** Looks up a codec by a Python-style encoding name (`UTF-8`, `utf8`, `latin_1`, …); `undefined` if unsupported. */
export function findCodec(encoding: string): Codec | undefined {
  return CODECS.get(encoding.toLowerCase().replace(/[-_\s]/g, ""));
}

/**
 * Finds the 1-based line of the first undecodable byte, for error messages.
 *
 * Only meaningful for encodings where a newline is the single byte 0x0A (not utf-16); `undefined` otherwise or when
 * every line decodes on its own.
 */
export function findUndecodableLine(bytes: Uint8Array, codec: Codec): number | undefined {
  if (codec === utf16le) return undefined;
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    try {
      codec.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    line++;
    start = end + 1;
  }
  return undefined;
}
