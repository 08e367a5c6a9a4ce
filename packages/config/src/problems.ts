/**
 * How config mistakes are reported: every one is a {@link UserError} with vdirsyncer's wording as the message, a
 * last problem line naming the place, and a one-line hint.
 */
import { UserError } from "@vdirsyncer/core";

/** vdirsyncer's `PROJECT_HOME`, quoted in the general-section message. */
export const PROJECT_HOME = "https://github.com/pimutils/vdirsyncer";

/** Where the sections come from; decides how places are named in messages. */
export interface SectionsOrigin {
  file: string | undefined;
  format: "ini" | "cosmiconfig";
  /** The home directory for `~` in `status_path`. @default `$HOME` */
  home?: string;
}

/** Names a place for a problem line: `(header?, key?, line?) => "in <file>, …"`, bound to one origin. */
export type Place = (header?: string, key?: string, line?: number) => string;

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

/** The error for one mistake: `message`, then `problems`, then the place; `hint` says what to do. */
export function fail(
  message: string,
  place: string,
  hint: string,
  problems: readonly string[] = [],
): UserError {
  return new UserError(message, { problems: [...problems, place], hint });
}

/** How a message names a value's JSON type (never the value: it may be a password). */
export function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "a boolean";
  return `a ${typeof v}`;
}
