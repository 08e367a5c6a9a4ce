/**
 * vdirsyncer's legacy JSON status forms (before 0.16, and `to_legacy_status()`), as plain rows.
 */
import { type SideStatus, type StatusRow, UserError } from "@vdirsyncer/core/engine";

/** The 2-dict legacy form of one row: `[{href, etag, hash}, {href, etag, hash}]`. */
export type LegacyStatusEntry = [LegacySide, LegacySide];
/** One side of {@link LegacyStatusEntry}. */
export interface LegacySide {
  href: string | null;
  etag: string | null;
  hash: string;
}

/**
 * The status as vdirsyncer's `to_legacy_status()` returns it: `{ident: [{href, etag, hash}, {…}]}`.
 * Used by tests to compare statuses as data.
 */
export function toLegacyStatus(rows: Iterable<StatusRow>): Record<string, LegacyStatusEntry> {
  const out: Record<string, LegacyStatusEntry> = {};
  for (const r of rows) {
    out[r.ident] = [
      { href: r.a.href, etag: r.a.etag, hash: r.a.hash },
      { href: r.b.href, etag: r.b.etag, hash: r.b.hash },
    ];
  }
  return out;
}

/**
 * Rows from a legacy JSON status (vdirsyncer before 0.16, or {@link toLegacyStatus} output), as vdirsyncer's
 * `load_legacy_status` reads it: each value is `[href_a, etag_a, href_b, etag_b]` (both hashes become
 * `"UNDEFINED"`) or `[{href, etag, hash?}, {href, etag, hash?}]` (a missing hash becomes `"UNDEFINED"`).
 *
 * @param where names the file in errors
 * @throws {UserError} when the value is not such an object
 */
export function fromLegacyStatus(legacy: unknown, where = "the legacy status"): StatusRow[] {
  if (legacy === null || typeof legacy !== "object" || Array.isArray(legacy)) {
    throw new UserError(`${where} is not a JSON object of status entries.`);
  }
  const rows: StatusRow[] = [];
  for (const [ident, value] of Object.entries(legacy)) {
    const bad = () =>
      new UserError(`${where} has an entry for ${JSON.stringify(ident)} that is not a known status form.`, {
        hint: "Move the file away to start this collection's status afresh.",
      });
    if (!Array.isArray(value)) throw bad();
    if (value.length === 4) {
      const [hrefA, etagA, hrefB, etagB] = value as unknown[];
      rows.push({
        ident,
        a: { href: optString(hrefA, bad), hash: "UNDEFINED", etag: optString(etagA, bad, true) },
        b: { href: optString(hrefB, bad), hash: "UNDEFINED", etag: optString(etagB, bad, true) },
      });
    } else if (value.length === 2) {
      rows.push({ ident, a: legacySide(value[0], bad), b: legacySide(value[1], bad) });
    } else {
      throw bad();
    }
  }
  return rows;
}

function optString(v: unknown, bad: () => Error, number = false): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  // Very old statuses stored filesystem etags as floats (the mtime). An etag is only compared for equality,
  // so a differently printed one costs one download, never data.
  if (number && typeof v === "number") return String(v);
  throw bad();
}

function legacySide(v: unknown, bad: () => Error): SideStatus {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad();
  const o = v as Record<string, unknown>;
  const hash = o.hash === undefined || o.hash === null ? "UNDEFINED" : o.hash;
  if (typeof hash !== "string") throw bad();
  return { href: optString(o.href, bad), hash, etag: optString(o.etag, bad, true) };
}
