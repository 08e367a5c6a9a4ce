import { createHash } from "node:crypto";
import { isPyBlank, pySplitlines, pyStrip, sortByCodePoint } from "../compat/strings.ts";
import { InvalidItemError } from "../errors.ts";
import { Component } from "./component.ts";
import { deleteProperty, getProperty, LINE_BREAK } from "./properties.ts";

export { normalizeMetaValue } from "./meta.ts";

/**
 * Properties left out of the content hash (vdirsyncer's `IGNORE_PROPS`, in its order).
 *
 * Servers and feeds rewrite them without a real change: Radicale (`PRODID`, `X-RADICALE-NAME`), webcal
 * feeds (`METHOD`, `DTSTAMP`, sometimes `UID`), Horde (`X-WR-CALNAME`), change tracking (`REV`,
 * `LAST-MODIFIED`, `CREATED`).
 */
export const IGNORED_PROPERTIES: readonly string[] = Object.freeze([
  "PRODID",
  "METHOD",
  "X-RADICALE-NAME",
  "X-WR-CALNAME",
  "REV",
  "LAST-MODIFIED",
  "CREATED",
  "DTSTAMP",
  "UID",
]);

const IGNORED = new Set(IGNORED_PROPERTIES);
// Longest ignored key plus its delimiter: no need to look further into a line.
// Most lines can be ruled out by their first character, before any slicing.
const IGNORED_FIRST_CHARS = new Set(IGNORED_PROPERTIES.map((k) => k.charCodeAt(0)));
const KEY_SCAN_LIMIT = Math.max(...IGNORED_PROPERTIES.map((k) => k.length)) + 1;

const ITEM_COMPONENTS = new Set(["VEVENT", "VTODO", "VJOURNAL", "VCARD"]);

/**
 * One item (a VEVENT/VTODO/VJOURNAL with its VCALENDAR wrapper, or a VCARD) as raw text.
 *
 * Immutable. `raw` is kept byte for byte and never validated; `uid`, `hash` and `ident` are computed on first
 * use and cached, exactly as vdirsyncer computes them (spec/sync.md, "Item identity and content hash").
 */
export class Item {
  /** The text, exactly as read or to be written. */
  readonly raw: string;
  #lines: string[] | undefined;
  #uid: string | undefined | null = null;
  #hash: string | undefined;

  constructor(raw: string) {
    this.raw = raw;
  }

  /**
   * The first `UID` property anywhere in the text, unfolded and stripped; `undefined` when absent or empty.
   *
   * MUST NOT parse components: the text is one flat list of lines, and the first line starting with `UID:`
   * or `UID;` (case-sensitive) wins, even if it belongs to a VTIMEZONE or the VCALENDAR.
   */
  get uid(): string | undefined {
    if (this.#uid === null) {
      const value = getProperty(this.#splitLines(), "UID");
      this.#uid = value === undefined ? undefined : pyStrip(value) || undefined;
    }
    return this.#uid;
  }

  /** The sha256 hex digest of {@link normalizeItem}, bit for bit equal to vdirsyncer's `Item.hash`. */
  get hash(): string {
    this.#hash ??= sha256Hex(normalizeLines(this.#splitLines(), this.raw));
    return this.#hash;
  }

  /** The UID, or the hash when there is none: what the sync status is keyed by. */
  get ident(): string {
    return this.uid ?? this.hash;
  }

  /**
   * The component tree, or `undefined` when the text does not parse as exactly one component.
   *
   * A fresh tree on every call, because components are mutable and the item is not.
   */
  get parsed(): Component | undefined {
    const result = Component.tryParse(this.#splitLines());
    return result instanceof Error || result.length !== 1 ? undefined : result[0];
  }

  /**
   * A copy in which every VEVENT, VTODO, VJOURNAL and VCARD component, at any depth, carries `UID:<uid>` as
   * its last property, or no UID when `uid` is empty or undefined.
   *
   * The copy is re-serialised with `\r\n` and no trailing newline, as vdirsyncer's `with_uid` does.
   * @throws {ParseError} the item does not parse as exactly one component
   * @throws {InvalidItemError} `uid` holds a line break
   */
  withUid(uid: string | undefined): Item {
    if (uid && LINE_BREAK.test(uid)) throw new InvalidItemError("A UID cannot contain a line break.");
    const root = Component.parseOne(this.#splitLines());
    const stack = [root];
    for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
      stack.push(...c.subcomponents);
      if (ITEM_COMPONENTS.has(c.name)) {
        c.props = deleteProperty(c.props, "UID");
        if (uid) c.props.push(`UID:${uid}`);
      }
    }
    return new Item(root.toString());
  }

  #splitLines(): string[] {
    this.#lines ??= pySplitlines(this.raw);
    return this.#lines;
  }
}

/**
 * vdirsyncer's `normalize_item`: the text the content hash is computed from.
 *
 * MUST drop the VTIMEZONEs directly inside a parseable VCALENDAR, delete the {@link IGNORED_PROPERTIES}
 * with their continuation lines, sort the remaining lines by code point, strip them, drop empty ones and
 * join with `\r\n`. Folding is not undone, so re-folding a line changes the result.
 */
export function normalizeItem(raw: string): string {
  return normalizeLines(pySplitlines(raw), raw);
}

/** The sha256 hex digest of {@link normalizeItem}`(raw)`: an item's persisted content hash. */
export function hashItem(raw: string): string {
  return sha256Hex(normalizeLines(pySplitlines(raw), raw));
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function normalizeLines(rawLines: readonly string[], raw?: string): string {
  const kept: string[] = [];
  // Step 1, strip timezones, applies only when the text parses as exactly one VCALENDAR; vdirsyncer then
  // hashes the re-serialised tree instead of the raw lines.
  switch (classifyLayout(rawLines)) {
    case "raw":
      deleteIgnored(rawLines, kept);
      break;
    case "in-order":
      deleteIgnored(serialisedWithoutTimezones(rawLines), kept);
      break;
    case "reordered": {
      // Some component has properties after a subcomponent: only a real tree gives the serialised order.
      const root = (Component.tryParse(rawLines) as Component[])[0]!;
      root.subcomponents = root.subcomponents.filter((c) => c.name !== "VTIMEZONE");
      deleteIgnored(root.toLines(), kept);
      break;
    }
  }
  sortByCodePoint(kept, raw);
  const out: string[] = [];
  for (const line of kept) {
    const stripped = pyStrip(line);
    if (stripped !== "") out.push(stripped);
  }
  return out.join("\r\n");
}

/**
 * How the hash must read the lines: `raw` when they do not parse as exactly one VCALENDAR; `in-order` when
 * they do and serialising the tree would keep their order; `reordered` when some component has property lines
 * after a subcomponent. A cheap first pass, so the common case never builds components.
 */
function classifyLayout(lines: readonly string[]): "raw" | "in-order" | "reordered" {
  const names: string[] = [];
  const hasSub: boolean[] = [];
  let topLevel = 0;
  let rootName = "";
  let inOrder = true;
  for (const line of lines) {
    if (line.startsWith("BEGIN:")) {
      const name = pyStrip(line.slice(6)).toUpperCase();
      if (names.length === 0 && topLevel === 0) rootName = name;
      if (names.length > 0) hasSub[names.length - 1] = true;
      hasSub[names.length] = false;
      names.push(name);
    } else if (line.startsWith("END:")) {
      const name = names.pop();
      if (name === undefined || pyStrip(line.slice(4)).toUpperCase() !== name) return "raw";
      if (names.length === 0) topLevel++;
    } else if (!isPyBlank(line)) {
      if (names.length === 0) return "raw";
      if (hasSub[names.length - 1]) inOrder = false;
    }
  }
  if (names.length > 0 || topLevel !== 1 || rootName !== "VCALENDAR") return "raw";
  return inOrder ? "in-order" : "reordered";
}

/**
 * The serialised lines of a VCALENDAR that {@link classifyLayout} found `in-order`, without its direct
 * VTIMEZONEs: blank lines dropped, BEGIN/END lines spelled with the normalised name.
 */
function serialisedWithoutTimezones(lines: readonly string[]): string[] {
  const out: string[] = [];
  let depth = 0;
  // Depth at which a skipped VTIMEZONE was opened, or 0 when not skipping.
  let skipUntil = 0;
  for (const line of lines) {
    if (line.startsWith("BEGIN:")) {
      depth++;
      if (skipUntil !== 0) continue;
      const name = pyStrip(line.slice(6)).toUpperCase();
      if (depth === 2 && name === "VTIMEZONE") {
        skipUntil = depth;
        continue;
      }
      out.push(line.length === 6 + name.length && line.endsWith(name) ? line : `BEGIN:${name}`);
    } else if (line.startsWith("END:")) {
      depth--;
      if (skipUntil !== 0) {
        if (depth < skipUntil) skipUntil = 0;
        continue;
      }
      const name = pyStrip(line.slice(4)).toUpperCase();
      out.push(line.length === 4 + name.length && line.endsWith(name) ? line : `END:${name}`);
    } else if (skipUntil === 0 && !isPyBlank(line)) {
      out.push(line);
    }
  }
  return out;
}

/**
 * Step 3 of the hash: drops ignored properties and their continuation lines into `kept`. One pass for all
 * keys is equivalent to vdirsyncer's one pass per key: a continuation line goes with the nearest
 * non-continuation line before it, whichever key that one has.
 */
function deleteIgnored(lines: readonly string[], kept: string[]): void {
  let deleting = false;
  for (const line of lines) {
    if (isIgnoredProperty(line)) {
      deleting = true;
      continue;
    }
    const c = line.charCodeAt(0);
    if (deleting && (c === 0x20 || c === 0x09)) continue;
    deleting = false;
    kept.push(line);
  }
}

// True when the line starts with `KEY:` or `KEY;` for an ignored KEY. No key contains `:` or `;`, so the key
// is whatever comes before the first of them.
function isIgnoredProperty(line: string): boolean {
  if (!IGNORED_FIRST_CHARS.has(line.charCodeAt(0))) return false;
  const limit = Math.min(line.length, KEY_SCAN_LIMIT);
  for (let i = 0; i < limit; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x3a || c === 0x3b) return i > 0 && IGNORED.has(line.slice(0, i));
  }
  return false;
}
