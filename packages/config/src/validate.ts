/**
 * Turns sections (from the INI file or a cosmiconfig object) into the validated {@link Config}, with
 * vdirsyncer's messages. Both formats go through {@link validateSections}, so their messages are the same apart
 * from how the place is named. The checks of each kind of section live in general.ts, pairs.ts, storages.ts,
 * collections.ts and fetch-params.ts.
 */

import { validateGeneral } from "./general.ts";
import { parseIni } from "./ini.ts";
import { optionValue, type SectionOptionInput } from "./json-values.ts";
import type { Config, PairSection, StorageSection } from "./model.ts";
import { validatePair } from "./pairs.ts";
import { describePlace, fail, jsonTypeName, type SectionsOrigin } from "./problems.ts";
import type { ParsedSection } from "./sections.ts";
import { validateStorage } from "./storages.ts";

export { validateCollections } from "./collections.ts";
export { validateFetchStrategy } from "./fetch-params.ts";
export type { SectionOptionInput } from "./json-values.ts";
export { validateConflictResolution } from "./pairs.ts";
export { describePlace, PROJECT_HOME, type SectionsOrigin } from "./problems.ts";

// sorted(string.ascii_letters + string.digits + "_"), as vdirsyncer prints it.
const NAME_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const NAME_RE = /^[A-Za-z0-9_]*$/;

/** One section before validation: `general`, `pair NAME` or `storage NAME`, with its options in order. */
export interface SectionInput {
  header: string;
  line?: number;
  options: SectionOptionInput[];
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
      section.values.set(opt.key, optionValue(h, opt, place(h, opt.key, opt.line)));
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
