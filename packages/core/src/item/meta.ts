import { pyStrip } from "../compat/strings.ts";

/**
 * Normalises a metadata value (displayname, color, …) before metasync compares it, as vdirsyncer's
 * `normalize_meta_value` does.
 *
 * MUST map `null`, `undefined` and the literal string `"None"` (iCloud sends it) to `undefined`, and MUST
 * otherwise strip the value with Python's whitespace set. An empty string stays an empty string.
 */
export function normalizeMetaValue(v: string | null | undefined): string | undefined {
  if (v === null || v === undefined || v === "None") return undefined;
  return pyStrip(v);
}
