/**
 * Turns sections (from the INI file or a cosmiconfig object) into the validated {@link Config}, with
 * vdirsyncer's messages (spec/config.md §2–§8). Both formats go through {@link validateSections}, so their
 * messages are the same apart from how the place is named.
 */
import { UserError } from "@vdirsyncer/core";
import { expandPath, pyDirname, pyJoin } from "@vdirsyncer/core/compat";
import { parseIni } from "./ini.ts";
import type {
  CollectionEntry,
  Config,
  ConfigSource,
  ConflictResolutionSetting,
  FetchStrategy,
  JsonValue,
  PairSection,
  StorageSection,
} from "./model.ts";
import { setOwn } from "./own.ts";

/** vdirsyncer's `PROJECT_HOME`, quoted in the general-section message. */
export const PROJECT_HOME = "https://github.com/pimutils/vdirsyncer";

// sorted(string.ascii_letters + string.digits + "_"), as vdirsyncer prints it.
const NAME_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const NAME_RE = /^[A-Za-z0-9_]*$/;
const FETCH_SUFFIX = ".fetch";
const PAIR_KEYS = ["a", "b", "collections", "conflict_resolution", "partial_sync", "metadata", "implicit"];
const STRATEGIES = ["command", "shell", "prompt"];

/** One option before validation: INI `text` to parse as JSON, or a `value` from a config object. */
export interface SectionOptionInput {
  key: string;
  text?: string;
  value?: unknown;
  /** 1-based line in the INI file. */
  line?: number;
}

/** One section before validation: `general`, `pair NAME` or `storage NAME`, with its options in order. */
export interface SectionInput {
  header: string;
  line?: number;
  options: SectionOptionInput[];
}

/** Where the sections come from; decides how places are named in messages. */
export interface SectionsOrigin {
  file: string | undefined;
  format: "ini" | "cosmiconfig";
  /** The home directory for `~` in `status_path`. @default `$HOME` */
  home?: string;
}

/**
 * Names a place in the config for a message's problem line: `in <file>, line 12, section [storage foo],
 * key "path"` for INI, `in <file>, storages.foo.path` for a config object.
 */
export function describePlace(
  origin: Pick<SectionsOrigin, "file" | "format">,
  header?: string,
  key?: string,
  line?: number,
): string {
  const file = origin.file ?? (origin.format === "ini" ? "the config text" : "the config object");
  if (header === undefined) return `in ${file}`;
  if (origin.format === "cosmiconfig") {
    const space = header.indexOf(" ");
    const base =
      space < 0
        ? header
        : `${header.slice(0, space) === "pair" ? "pairs" : "storages"}.${header.slice(space + 1)}`;
    return `in ${file}, ${key === undefined ? base : `${base}.${key}`}`;
  }
  const at = line === undefined ? "" : `, line ${line}`;
  return `in ${file}${at}, section [${header}]${key === undefined ? "" : `, key "${key}"`}`;
}

function fail(message: string, place: string, hint: string, problems: readonly string[] = []): UserError {
  return new UserError(message, { problems: [...problems, place], hint });
}

function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "a boolean";
  return `a ${typeof v}`;
}

// Checks that a value from a config object is what JSON could have produced, so both formats mean the same.
function checkJsonValue(v: unknown, path = ""): string | undefined {
  if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
  if (typeof v === "number")
    return Number.isFinite(v) ? undefined : `${path || "the value"} is not a finite number`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const problem = checkJsonValue(v[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return `${path || "the value"} is not a plain object`;
    for (const [k, x] of Object.entries(v)) {
      const problem = checkJsonValue(x, `${path}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path || "the value"} is ${jsonTypeName(v)}, not a JSON value`;
}

// The JSON error without the value itself: it may be a password written without quotes.
function describeJsonError(text: string, err: unknown): string {
  if (text.trim() === "") return "Expecting value: the value is empty, and an empty value is not valid JSON";
  const msg = err instanceof Error ? err.message : String(err);
  const clean = msg
    .replace(/, ".*" is not valid JSON$/s, "")
    .replace(/^Unexpected token '.*?'/s, "Unexpected character");
  return `Invalid JSON: ${clean}`;
}

function jsonHint(key: string, text: string): string {
  if (text.trim() === "") return `Write a JSON value after the "=", e.g. ${key} = "" or ${key} = null.`;
  for (const mark of ["#", ";"]) {
    const at = text.indexOf(mark);
    if (at > 0) {
      try {
        JSON.parse(text.slice(0, at));
        return "Inline comments are not supported: move the comment to a line of its own.";
      } catch {
        // Not a comment after a valid value; try the other marks.
      }
    }
  }
  return `Every value is JSON: write text in double quotes, e.g. ${key} = "…", and lists as ["a", "b"].`;
}

/**
 * Checks a pair's `collections` value (spec/config.md §5.2) and returns it typed.
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

/**
 * Checks one `<key>.fetch` value (spec/config.md §8) and returns it typed.
 *
 * @throws {UserError} `Invalid value for <key>: Expected a list, found …`, `Expected list of length > 0.` or
 *   `Unknown strategy: <s>`, with `where` as the problem line
 */
export function validateFetchStrategy(key: string, value: unknown, where: string): FetchStrategy {
  const hint = `Write ${key} = ["command", "program", "arg", …], ["shell", "script"] or ["prompt", "text"].`;
  if (!Array.isArray(value)) {
    // The type only, never the value: it may be the secret itself.
    throw fail(`Invalid value for ${key}: Expected a list, found ${jsonTypeName(value)}.`, where, hint);
  }
  if (value.length === 0) throw fail("Expected list of length > 0.", where, hint);
  const strategy = value[0];
  if (typeof strategy !== "string" || !STRATEGIES.includes(strategy)) {
    throw fail(
      `Unknown strategy: ${typeof strategy === "string" ? strategy : JSON.stringify(strategy)}`,
      where,
      hint,
    );
  }
  if (!value.every((x) => typeof x === "string")) {
    throw fail(`Invalid value for ${key}: Every element must be a string.`, where, hint);
  }
  if (strategy === "prompt" ? value.length !== 2 : value.length < 2) {
    const what =
      strategy === "prompt"
        ? "takes exactly one prompt text"
        : `needs the ${strategy === "shell" ? "script" : "program"}`;
    throw fail(`Invalid value for ${key}: "${strategy}" ${what}.`, where, hint);
  }
  return value as unknown as FetchStrategy;
}

interface ParsedSection {
  header: string;
  line: number | undefined;
  values: Map<string, JsonValue>;
  lines: Map<string, number | undefined>;
}

/**
 * Validates sections in config order and builds the {@link Config}: vdirsyncer's checks, in its order
 * (JSON values and section names first, then `[general]`, then pairs), then the storage checks.
 *
 * @throws {UserError} the first problem found, with vdirsyncer's wording as the message, a problem line
 *   naming the file, section and key, and a one-line `hint`
 */
export function validateSections(inputs: readonly SectionInput[], origin: SectionsOrigin): Config {
  const place = (header?: string, key?: string, line?: number) => describePlace(origin, header, key, line);
  const seen = new Set<string>();
  let general: ParsedSection | undefined;
  const pairs: ParsedSection[] = [];
  const storages: ParsedSection[] = [];

  for (const input of inputs) {
    const h = input.header;
    const section: ParsedSection = { header: h, line: input.line, values: new Map(), lines: new Map() };
    for (const opt of input.options) {
      let value: JsonValue;
      const prefix = `Section "${h}": Section "${h}", option "${opt.key}"`;
      if (opt.text !== undefined) {
        try {
          value = JSON.parse(opt.text) as JsonValue;
        } catch (err) {
          throw fail(
            `${prefix}: ${describeJsonError(opt.text, err)}`,
            place(h, opt.key, opt.line),
            jsonHint(opt.key, opt.text),
          );
        }
      } else {
        const problem = checkJsonValue(opt.value);
        if (problem !== undefined) {
          throw fail(
            `${prefix}: ${problem}`,
            place(h, opt.key),
            "Use only strings, numbers, booleans, null, lists and plain objects.",
          );
        }
        value = opt.value as JsonValue;
      }
      section.values.set(opt.key, value);
      section.lines.set(opt.key, opt.line);
    }

    const space = h.indexOf(" ");
    const type = space < 0 ? h : h.slice(0, space);
    const name = space < 0 ? h : h.slice(space + 1);
    const where = place(h, undefined, input.line);
    if (!NAME_RE.test(name)) {
      throw fail(
        `Section "${h}": The ${type}-section "${name}" contains invalid characters. Only the following characters are allowed for storage and pair names:\n${NAME_CHARS}`,
        where,
        "Rename it using only letters, digits and underscores.",
      );
    }
    if (seen.has(name)) {
      throw fail(
        `Section "${h}": Name "${name}" already used.`,
        where,
        "Give every pair and storage a name of its own.",
      );
    }
    seen.add(name);
    if (type === "general") {
      // vdirsyncer tests `if self._general`: an earlier, empty general section does not count.
      if (general !== undefined && general.values.size > 0) {
        throw fail(
          `Section "${h}": More than one general section.`,
          where,
          "Keep a single [general] section.",
        );
      }
      general = section;
    } else if (type === "storage") storages.push(section);
    else if (type === "pair") pairs.push(section);
    else {
      throw fail(
        `Section "${h}": Unknown section type.`,
        where,
        "Section headers are [general], [pair NAME] or [storage NAME].",
      );
    }
  }

  const statusPath = validateGeneral(general, origin, place);
  const pairMap = new Map<string, PairSection>();
  for (const p of pairs) {
    const pair = validatePair(p, origin, place);
    pairMap.set(pair.name, pair);
  }
  const storageMap = new Map<string, StorageSection>();
  for (const s of storages) {
    const storage = validateStorage(s, origin, place);
    storageMap.set(storage.name, storage);
  }
  return { file: origin.file, format: origin.format, statusPath, pairs: pairMap, storages: storageMap };
}

type Place = (header?: string, key?: string, line?: number) => string;

function sourceOf(s: ParsedSection, origin: SectionsOrigin): ConfigSource {
  const lines: Record<string, number> = {};
  for (const [k, l] of s.lines) if (l !== undefined) lines[k] = l;
  return {
    file: origin.file,
    section: s.header,
    ...(s.line === undefined ? {} : { line: s.line }),
    ...(origin.format === "ini" ? { lines } : {}),
  };
}

function validateGeneral(general: ParsedSection | undefined, origin: SectionsOrigin, place: Place): string {
  const keys = general ? [...general.values.keys()] : [];
  const invalid = keys.filter((k) => k !== "status_path");
  const problems: string[] = [];
  if (invalid.length > 0) problems.push(`general section doesn't take the parameters: ${invalid.join(", ")}`);
  if (!keys.includes("status_path")) problems.push("general section is missing the parameters: status_path");
  const where = general ? place(general.header, undefined, general.line) : place();
  if (problems.length > 0) {
    throw fail(
      `Invalid general section. Copy the example config from the repository and edit it: ${PROJECT_HOME}`,
      where,
      general === undefined
        ? 'Add a [general] section with status_path = "~/.vdirsyncer/status/".'
        : invalid.length > 0
          ? `Remove ${invalid.join(", ")} from [general]: it takes only status_path.`
          : 'Add status_path = "~/.vdirsyncer/status/" to [general].',
      problems,
    );
  }
  const raw = general!.values.get("status_path");
  if (typeof raw !== "string") {
    throw fail(
      `Invalid value for status_path: Expected a string, found ${jsonTypeName(raw)}.`,
      place(general!.header, "status_path", general!.lines.get("status_path")),
      'Write the directory in double quotes: status_path = "~/.vdirsyncer/status/".',
    );
  }
  // vdirsyncer joins it with the config file's directory: a relative status_path is relative to the file.
  const expanded = expandPath(raw, { home: origin.home });
  return origin.file === undefined ? expanded : pyJoin(pyDirname(origin.file), expanded);
}

function validatePair(s: ParsedSection, origin: SectionsOrigin, place: Place): PairSection {
  const name = s.header.slice(s.header.indexOf(" ") + 1);
  const opts = new Map(s.values);
  const at = (key?: string) => place(s.header, key, key === undefined ? s.line : s.lines.get(key));
  const pairFail = (msg: string, key: string | undefined, hint: string) =>
    fail(`Pair ${name}: ${msg}`, at(key), hint);

  const side = (key: "a" | "b"): string => {
    const v = opts.get(key);
    if (v === undefined) {
      throw pairFail(
        `\`${key}\` parameter missing.`,
        undefined,
        `Add ${key} = "<storage name>" to [${s.header}].`,
      );
    }
    if (typeof v !== "string") {
      throw pairFail(
        `Invalid value for \`${key}\`: Expected a storage name, found ${jsonTypeName(v)}.`,
        key,
        `Write ${key} = "<storage name>".`,
      );
    }
    opts.delete(key);
    return v;
  };
  const a = side("a");
  const b = side("b");
  const implicit = opts.get("implicit") ?? null;
  opts.delete("implicit");
  const partialSync = opts.get("partial_sync") ?? null;
  opts.delete("partial_sync");
  const metadata = opts.get("metadata") ?? null;
  opts.delete("metadata");

  const cr = opts.get("conflict_resolution") ?? null;
  opts.delete("conflict_resolution");
  const crOk =
    cr === null ||
    cr === "a wins" ||
    cr === "b wins" ||
    (Array.isArray(cr) && cr.length > 1 && cr[0] === "command" && cr.every((x) => typeof x === "string"));
  if (!crOk) {
    throw pairFail(
      "Invalid value for `conflict_resolution`.",
      "conflict_resolution",
      'Use null, "a wins", "b wins" or ["command", "program", "arg", …].',
    );
  }

  if (!opts.has("collections")) {
    throw pairFail(
      "collections parameter missing.\n\nAs of 0.9.0 this parameter has no default anymore. Set `collections = null` explicitly in your pair config.",
      undefined,
      'Add collections = null (the configured paths are the collections) or collections = ["from a", "from b"].',
    );
  }
  let collections: readonly CollectionEntry[] | null;
  try {
    collections = validateCollections(opts.get("collections"), at("collections"));
  } catch (err) {
    const e = err as UserError;
    throw new UserError(`Pair ${name}: ${e.message}`, { problems: e.problems, hint: e.hint });
  }
  opts.delete("collections");

  if (implicit !== null && implicit !== "create") {
    throw pairFail(
      "`implicit` parameter must be 'create' or absent.",
      "implicit",
      'Write implicit = "create", or remove the line to be asked before a collection is created.',
    );
  }
  if (opts.size > 0) {
    const unknown = [...opts.keys()];
    const fetched = unknown.some((k) => k.endsWith(FETCH_SUFFIX));
    throw pairFail(
      `Unknown options: ${unknown.join(", ")}`,
      unknown[0],
      fetched
        ? "Fetch params (key.fetch) work only in storage sections."
        : `Remove them: a pair takes only ${PAIR_KEYS.join(", ")}.`,
    );
  }
  if (
    partialSync !== null &&
    partialSync !== "revert" &&
    partialSync !== "ignore" &&
    partialSync !== "error"
  ) {
    throw pairFail("Invalid value for `partial_sync`.", "partial_sync", 'Use "revert", "ignore" or "error".');
  }
  if (metadata !== null && !(Array.isArray(metadata) && metadata.every((x) => typeof x === "string"))) {
    throw pairFail(
      `Invalid value for \`metadata\`: Expected a list of strings, found ${jsonTypeName(metadata)}.`,
      "metadata",
      'Write metadata = ["color", "displayname"].',
    );
  }
  return {
    name,
    a,
    b,
    collections,
    conflictResolution: cr as ConflictResolutionSetting,
    partialSync: (partialSync ?? "revert") as PairSection["partialSync"],
    partialSyncSet: partialSync !== null,
    metadata: (metadata ?? []) as string[],
    implicitCreate: implicit === "create",
    raw: Object.fromEntries(s.values),
    source: sourceOf(s, origin),
  };
}

function validateStorage(s: ParsedSection, origin: SectionsOrigin, place: Place): StorageSection {
  const name = s.header.slice(s.header.indexOf(" ") + 1);
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
    if (key.endsWith(FETCH_SUFFIX) || ["type", "read_only", "no_delete", "instance_name"].includes(key))
      continue;
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

/**
 * Parses and validates a vdirsyncer INI config (spec/config.md §2–§8).
 *
 * MUST accept every file vdirsyncer 0.19–0.20 accepts, with the same meaning; `status_path` is `~`-expanded,
 * normalised and joined with the file's directory (as vdirsyncer does). `type = "filesystem/icalendar"` is
 * kept as written.
 * @param file - the file name for messages and for resolving a relative `status_path`
 * @throws {UserError} configparser's or vdirsyncer's message; `problems` ends with the file, line, section
 *   and key; `hint` says what to do
 */
export function parseConfig(text: string, file?: string, options: { home?: string } = {}): Config {
  const doc = parseIni(text, file);
  const sections: SectionInput[] = doc.sections.map((s) => ({
    header: s.name,
    line: s.line,
    options: s.options.map((o) => ({ key: o.key, text: o.value, line: o.line })),
  }));
  return validateSections(sections, { file, format: "ini", ...options });
}

/**
 * Validates a config object (the {@link UserConfig} shape a `vdirsyncer.config.ts` exports) through the
 * same checks and messages as the INI file; places are named `storages.<name>.<key>`.
 *
 * Keys whose value is `undefined` count as absent.
 * @param file - the file it came from, for messages and for resolving a relative `status_path`
 * @throws {UserError} the shape is wrong (not an object, unknown top-level key), or any INI-level problem
 */
export function parseUserConfig(value: unknown, file?: string, options: { home?: string } = {}): Config {
  const origin: SectionsOrigin = { file, format: "cosmiconfig", ...options };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const shapeHint =
    "Export { general: { status_path }, pairs: { … }, storages: { … } }, e.g. with defineConfig().";
  if (!isObject(value)) {
    throw fail(
      `The config must be an object, found ${jsonTypeName(value)}.`,
      describePlace(origin),
      shapeHint,
    );
  }
  const sections: SectionInput[] = [];
  const toOptions = (obj: Record<string, unknown>) =>
    Object.entries(obj)
      .filter(([, v]) => v !== undefined)
      .map(([key, v]) => ({ key, value: v }));
  for (const [top, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (top !== "general" && top !== "pairs" && top !== "storages") {
      throw fail(`Unknown top-level key "${top}".`, describePlace(origin), shapeHint);
    }
    if (!isObject(v)) {
      throw fail(
        `Invalid value for ${top}: Expected an object, found ${jsonTypeName(v)}.`,
        `${describePlace(origin)}, ${top}`,
        shapeHint,
      );
    }
    if (top === "general") {
      sections.push({ header: "general", options: toOptions(v) });
      continue;
    }
    for (const [name, section] of Object.entries(v)) {
      if (section === undefined) continue;
      const header = `${top === "pairs" ? "pair" : "storage"} ${name}`;
      if (!isObject(section)) {
        throw fail(
          `Invalid value for ${top}.${name}: Expected an object, found ${jsonTypeName(section)}.`,
          describePlace(origin, header),
          shapeHint,
        );
      }
      sections.push({ header, options: toOptions(section) });
    }
  }
  return validateSections(sections, origin);
}
