/** `[storage NAME]` sections: the keys the host reads (`type`, `read_only`, `no_delete`, fetch params). */
import { validateFetchStrategy } from "./fetch-params.ts";
import type { FetchStrategy, JsonValue, StorageSection } from "./model.ts";
import { setOwn } from "./own.ts";
import { fail, jsonTypeName, type Place, type SectionsOrigin } from "./problems.ts";
import { type ParsedSection, sectionName, sourceOf } from "./sections.ts";

const FETCH_SUFFIX = ".fetch";
const HOST_KEYS = ["type", "read_only", "no_delete", "instance_name"];

/**
 * Checks a `[storage NAME]` section and returns it typed; the plugin's own options are left to the plugin.
 * @throws {UserError} the first mistake (`Can't set <key>.fetch and <key>.`, a fetch param, `type`,
 *   `read_only`, `no_delete`), with the key's place
 */
export function validateStorage(s: ParsedSection, origin: SectionsOrigin, place: Place): StorageSection {
  const name = sectionName(s);
  const at = (key?: string) => place(s.header, key, key === undefined ? s.line : s.lines.get(key));
  const fetch: Record<string, FetchStrategy> = {};
  for (const [key, value] of s.values) {
    if (!key.endsWith(FETCH_SUFFIX)) continue;
    const plain = key.slice(0, -FETCH_SUFFIX.length);
    if (s.values.has(plain)) {
      throw fail(`Can't set ${key} and ${plain}.`, at(key), `Remove either ${plain} or ${key}.`);
    }
    setOwn(fetch, plain, validateFetchStrategy(key, value, at(key)));
  }

  const type = s.values.get("type");
  if (type === undefined && fetch.type === undefined) {
    throw fail(
      `Storage ${name}: \`type\` parameter missing.`,
      at(),
      `Add type = "filesystem" (or caldav, carddav, singlefile, http, google_calendar, google_contacts) to [${s.header}].`,
    );
  }
  if (type !== undefined && typeof type !== "string") {
    throw fail(
      `Storage ${name}: Invalid value for \`type\`: Expected a string, found ${jsonTypeName(type)}.`,
      at("type"),
      'Write the type in double quotes, e.g. type = "filesystem".',
    );
  }
  const flag = (key: "read_only" | "no_delete"): boolean => {
    const v = s.values.get(key) ?? null;
    if (v !== null && typeof v !== "boolean") {
      throw fail(
        `Storage ${name}: Invalid value for \`${key}\`: Expected true or false, found ${jsonTypeName(v)}.`,
        at(key),
        `Write ${key} = true or ${key} = false.`,
      );
    }
    return v === true;
  };
  const readOnly = flag("read_only");
  const noDelete = flag("no_delete");

  const options: Record<string, JsonValue> = {};
  for (const [key, value] of s.values) {
    if (key.endsWith(FETCH_SUFFIX) || HOST_KEYS.includes(key)) continue;
    setOwn(options, key, value);
  }
  // vdirsyncer injects instance_name after the keys as written (an explicit one is overwritten in place).
  const raw: Record<string, JsonValue> = Object.fromEntries(s.values);
  raw.instance_name = name;
  return {
    name,
    type: typeof type === "string" ? type : "",
    readOnly,
    noDelete,
    options,
    fetch,
    raw,
    source: sourceOf(s, origin),
  };
}
