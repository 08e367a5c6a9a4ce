/** A pair's `collections` value. */
import type { CollectionEntry } from "./model.ts";
import { fail } from "./problems.ts";

/**
 * Checks a pair's `collections` value and returns it typed.
 *
 * MUST accept `null` and lists of strings and `[config_name, name_a | null, name_b | null]` triples with unique
 * names, and MUST reject anything else with vdirsyncer's message
 * `` `collections` parameter, position <i>: <message> ``.
 * @param where - the place for the problem line, e.g. from {@link describePlace}
 * @throws {UserError} the value is not valid; `problems` ends with `where`
 */
export function validateCollections(value: unknown, where: string): readonly CollectionEntry[] | null {
  const hint =
    'Write collections = null, or a list of names, "from a", "from b" and ["name", "name_on_a", "name_on_b"] entries.';
  if (value === null) return null;
  if (!Array.isArray(value)) throw fail("`collections` parameter must be a list or `null`.", where, hint);
  const names = new Set<string>();
  const triple = 'Expected list of format ["config_name", "storage_a_name", "storage_b_name"]';
  value.forEach((entry: unknown, i) => {
    let name: string;
    if (typeof entry === "string") name = entry;
    else if (Array.isArray(entry)) {
      const ok =
        entry.length === 3 &&
        typeof entry[0] === "string" &&
        entry.slice(1).every((x) => x === null || typeof x === "string");
      if (!ok) throw fail(`\`collections\` parameter, position ${i}: ${triple}`, where, hint);
      name = entry[0] as string;
    } else {
      throw fail(
        `\`collections\` parameter, position ${i}: Expected string or list of three strings.`,
        where,
        hint,
      );
    }
    if (names.has(name)) {
      throw fail(
        `\`collections\` parameter, position ${i}: Duplicate value.`,
        where,
        "Name each collection once.",
      );
    }
    names.add(name);
  });
  return value as CollectionEntry[];
}
