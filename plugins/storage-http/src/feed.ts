/**
 * Reading a feed: strict UTF-8 decoding with an error that says where the bad byte is, and the collection tag that
 * carries the HTTP validators (ETag, Last-Modified) from one sync to the next.
 */
import { createHash } from "node:crypto";
import { InvalidResponseError } from "@vdirsyncer/core";
import { redactUrl } from "@vdirsyncer/dav";

const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or `-1` when all of `bytes` is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      // Only the second byte has the narrowed range; the others are plain continuation bytes.
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** What {@link decodeFeed} needs of an HTTP answer. */
export interface FeedBody {
  /** The final URL, for messages (credentials are removed before it is shown). */
  url: string;
  /** The declared `Content-Type`, for the message when decoding fails. */
  contentType: string | null;
  /** The body exactly as received, when the HTTP layer hands it out. */
  bytes?: Uint8Array;
  /** The body as the HTTP layer decoded it (UTF-8, a BOM dropped, bad bytes as U+FFFD). */
  text: string;
}

function badUtf8(body: FeedBody, offset: number): InvalidResponseError {
  const url = redactUrl(body.url);
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(body.contentType ?? "")?.[1];
  const declared =
    charset && !/^utf-?8$/i.test(charset)
      ? ` The server declares charset ${charset}, but feeds are always read as UTF-8, as vdirsyncer does.`
      : "";
  return new InvalidResponseError(
    `The feed at ${url} is not valid UTF-8: the byte at offset ${offset} starts no valid character.${declared}`,
    { context: { location: url } },
  );
}

/**
 * Decodes a feed as UTF-8 whatever charset the server declares (vdirsyncer does the same), accepting a leading
 * byte order mark.
 *
 * MUST refuse invalid UTF-8 instead of replacing it, naming the URL and the byte offset. When the HTTP layer only
 * hands out decoded text, a U+FFFD in it is taken for a replaced byte: its offset is then counted after any BOM.
 * @throws {InvalidResponseError} the body is not valid UTF-8
 */
export function decodeFeed(body: FeedBody): string {
  const { bytes } = body;
  if (bytes === undefined) {
    const at = body.text.indexOf("\uFFFD");
    // Everything before the first replacement decoded cleanly, so re-encoding it gives the original bytes back.
    if (at >= 0) throw badUtf8(body, Buffer.byteLength(body.text.slice(0, at), "utf8"));
    return body.text;
  }
  const start = BOM.every((b, i) => bytes[i] === b) ? BOM.length : 0;
  const content = bytes.subarray(start);
  const bad = firstInvalidUtf8(content);
  if (bad >= 0) throw badUtf8(body, start + bad);
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("utf8");
}

/** The HTTP validator a collection tag carries. */
export type Validator =
  | { kind: "etag"; value: string }
  | { kind: "lm"; value: string }
  | { kind: "items"; value: string };

/**
 * Builds a collection tag: a digest of the settings that shape the listing (URL, `filter_hook`), then the
 * validator. A stored tag from other settings is then never sent as a validator, so changing the hook re-reads an
 * unchanged feed.
 */
export function encodeTag(settings: string, validator: Validator): string {
  return `${settingsDigest(settings)}:${validator.kind}:${validator.value}`;
}

/** The validator in a tag written by {@link encodeTag} for the same settings; `undefined` for anything else. */
export function decodeTag(settings: string, tag: string | undefined): Validator | undefined {
  if (tag === undefined) return undefined;
  const m = /^([0-9a-f]{12}):(etag|lm|items):(.+)$/s.exec(tag);
  if (!m || m[1] !== settingsDigest(settings)) return undefined;
  return { kind: m[2] as Validator["kind"], value: m[3] as string };
}

function settingsDigest(settings: string): string {
  return createHash("sha256").update(settings).digest("hex").slice(0, 12);
}

/** The request headers that make a GET conditional on `validator`; none for a content digest. */
export function conditionalHeaders(validator: Validator | undefined): Record<string, string> {
  if (validator?.kind === "etag") return { "if-none-match": validator.value };
  if (validator?.kind === "lm") return { "if-modified-since": validator.value };
  return {};
}

/**
 * The validator of a 200 answer: its `ETag`, else its `Last-Modified`, else a digest of the listed hrefs (item
 * hashes), which ignores `DTSTAMP` and the feed's UIDs, so a feed that only restamps stays unchanged.
 */
export function validatorOf(headers: Headers, hrefs: Iterable<string>): Validator {
  const etag = headers.get("etag");
  if (etag) return { kind: "etag", value: etag };
  const modified = headers.get("last-modified");
  if (modified) return { kind: "lm", value: modified };
  const digest = createHash("sha256");
  for (const href of [...hrefs].sort()) digest.update(`${href}\n`);
  return { kind: "items", value: digest.digest("hex") };
}
