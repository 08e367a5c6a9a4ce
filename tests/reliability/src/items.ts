/**
 * Items, and the two sides of a pair as the checks see them: read straight from the vdir folder or the
 * server's storage folder (never through the code under test), and compared normalised as the storage
 * conformance suite compares them (`normalizeForCompare`): servers rewrite what they store, e.g. Radicale
 * reorders properties and replaces PRODID, so byte equality would call every server copy different.
 */

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IGNORED_PROPERTIES, Item } from "@vdirsyncer/core";

/** A minimal VEVENT calendar with `uid` (Radicale wants a DTSTART). */
export function event(uid: string, summary = uid): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//reliability//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20240101T100000Z\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
}

/** One side of a collection: file name → raw text (undecodable files kept as `null`). */
export type Side = Map<string, string | null>;

/** The item files of a collection folder (vdir, or Radicale's storage folder): dotfiles and folders left out. */
export function readFolder(dir: string, ext = ".ics"): Side {
  const out: Side = new Map();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (name.startsWith(".") || !name.endsWith(ext)) continue;
    const p = join(dir, name);
    if (!statSync(p).isFile()) continue;
    const bytes = readFileSync(p);
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
    try {
      out.set(name, text.decode(bytes));
    } catch {
      out.set(name, null);
    }
  }
  return out;
}

/**
 * The conformance suite's comparison form (storage-test-suite's `normalizeForCompare`, same rules): unfolded
 * content lines without VTIMEZONE blocks and without the properties servers rewrite, stripped and sorted.
 */
export function normalized(raw: string): string {
  const unfolded = raw.replace(/\r\n|\r/g, "\n").replace(/\n[ \t]/g, "");
  const out: string[] = [];
  let inTimezone = 0;
  for (const rawLine of unfolded.split("\n")) {
    const line = rawLine.trim();
    if (line === "") continue;
    if (line === "BEGIN:VTIMEZONE") inTimezone += 1;
    if (inTimezone > 0) {
      if (line === "END:VTIMEZONE") inTimezone -= 1;
      continue;
    }
    const name = (line.split(/[:;]/, 1)[0] ?? "").toUpperCase();
    if (IGNORED_PROPERTIES.includes(name)) continue;
    out.push(line);
  }
  return out.sort().join("\n");
}

/** A short digest of {@link normalized}: equal for two copies a server may legitimately have rewritten. */
export function hashOf(raw: string): string {
  return createHash("sha256").update(normalized(raw)).digest("hex").slice(0, 16);
}

/** A side's items by UID: each copy's {@link hashOf} (more than one = duplicated). */
export function byUid(side: Side): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, raw] of side) {
    if (raw === null) continue;
    const item = new Item(raw);
    const uid = item.uid ?? `(no uid: ${name})`;
    const list = out.get(uid) ?? [];
    list.push(hashOf(raw));
    out.set(uid, list);
  }
  return out;
}

/** What a check found after the recovery sync. */
export interface Tally {
  /** Expected items on neither side, or whose every expected version is gone from both sides. */
  lost: number;
  /** Extra copies: files beyond one per UID, per side. */
  duplicated: number;
  /** Items on one side only, or on both with different content. */
  different: number;
  /** Items that should have been deleted and are back. */
  resurrected: number;
  /** Readable lines for the report (at most 10). */
  details: string[];
}

/**
 * Compares both sides with what must be there: `expected` maps each UID to the hashes it may have (one
 * version, or either side's after a conflict), `deleted` lists UIDs that must be gone.
 */
export function tally(
  a: Side,
  b: Side,
  expected: Map<string, string[]>,
  deleted: Set<string> = new Set(),
): Tally {
  const ua = byUid(a);
  const ub = byUid(b);
  const t: Tally = { lost: 0, duplicated: 0, different: 0, resurrected: 0, details: [] };
  const note = (s: string) => {
    if (t.details.length < 10) t.details.push(s);
  };
  for (const [side, m] of [
    ["a", ua],
    ["b", ub],
  ] as const) {
    for (const [uid, hashes] of m) {
      if (hashes.length > 1) {
        t.duplicated += hashes.length - 1;
        note(`${uid}: ${hashes.length} copies on ${side}`);
      }
    }
  }
  for (const [uid, versions] of expected) {
    const ha = ua.get(uid);
    const hb = ub.get(uid);
    const present = [...(ha ?? []), ...(hb ?? [])];
    if (present.length === 0 || !present.some((h) => versions.includes(h))) {
      t.lost++;
      note(
        `${uid}: lost (${present.length === 0 ? "on neither side" : "its expected version is on neither side"})`,
      );
      continue;
    }
    if (ha === undefined || hb === undefined) {
      t.different++;
      note(`${uid}: only on ${ha === undefined ? "b" : "a"}`);
    } else if (ha[0] !== hb[0]) {
      t.different++;
      note(`${uid}: different on a and b`);
    }
  }
  for (const uid of new Set([...ua.keys(), ...ub.keys()])) {
    if (expected.has(uid)) continue;
    if (deleted.has(uid)) {
      t.resurrected++;
      note(`${uid}: deleted, but back on ${ua.has(uid) ? "a" : ""}${ub.has(uid) ? "b" : ""}`);
    } else if (!(ua.has(uid) && ub.has(uid))) {
      t.different++;
      note(`${uid}: unexpected item on one side only`);
    }
  }
  return t;
}
