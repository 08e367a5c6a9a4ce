import { IGNORED_PROPERTIES, type Item } from "@vdirsyncer/core";

// The properties vdirsyncer's hash ignores (spec/sync.md, IGNORE_PROPS).
const IGNORED = IGNORED_PROPERTIES;

/**
 * A readable approximation of what `Item.hash` hashes: unfolded content lines without VTIMEZONE blocks and without
 * the properties servers rewrite (PRODID, DTSTAMP, UID, …), stripped and sorted, one per line.
 *
 * Meant for assertion diffs; the suite decides equality with `Item.hash`.
 */
export function normalizeForCompare(item: Item | string): string {
  const raw = typeof item === "string" ? item : item.raw;
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
    if (IGNORED.includes(name)) continue;
    out.push(line);
  }
  return out.sort().join("\n");
}
