/**
 * An INI reader with the semantics of Python's `configparser.RawConfigParser()` (strict, default settings),
 * which is what vdirsyncer reads its config file with (spec/config.md §2).
 */
import { UserError } from "@vdirsyncer/core";
import { isPyWhitespace, pyReprString, pyStrip } from "@vdirsyncer/core/compat";

/** One `key = value` as configparser returns it. */
export interface IniOption {
  /** The option name, lower-cased (configparser's `optionxform`). */
  key: string;
  /** The value with continuation lines joined by `\n`, trailing whitespace removed; never interpolated. */
  value: string;
  /** 1-based line of the `key = value` line. */
  line: number;
  /** True when the option comes from the `[DEFAULT]` section. */
  fromDefault: boolean;
}

/** One section, in file order. */
export interface IniSection {
  /** The header as written between the brackets, case kept. */
  name: string;
  /** 1-based line of the header. */
  line: number;
  /** What `RawConfigParser.items(name)` returns: `[DEFAULT]` keys first, then the section's own keys. */
  options: IniOption[];
}

/** A parsed INI file. */
export interface IniDocument {
  file: string | undefined;
  /** The keys of `[DEFAULT]` (already merged into every section's `options`). */
  defaults: IniOption[];
  sections: IniSection[];
}

const DEFAULT_SECTION = "DEFAULT";

interface RawOption {
  key: string;
  lines: string[];
  line: number;
}

function firstNonSpace(line: string): number {
  for (let i = 0; i < line.length; i++) if (!isPyWhitespace(line.charCodeAt(i))) return i;
  return -1;
}

function rstripPy(s: string): string {
  let end = s.length;
  while (end > 0 && isPyWhitespace(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

function lstripPy(s: string): string {
  let start = 0;
  while (start < s.length && isPyWhitespace(s.charCodeAt(start))) start++;
  return s.slice(start);
}

/**
 * Parses INI text exactly as Python's `RawConfigParser().read_file(open(file))` does.
 *
 * MUST translate `\r\n` and `\r` to `\n` (Python's universal newlines), lower-case option names, keep
 * section names, accept `=` and `:`, treat lines starting with `#` or `;` (after indentation) as comments,
 * keep `#`/`;` inside values, join indented continuation lines with `\n` (blank lines inside a value are kept
 * as empty lines, trailing ones dropped), inject `[DEFAULT]` keys into every section, and never interpolate.
 *
 * @param file - the file name used in messages; `<???>` (as Python) when undefined
 * @throws {UserError} configparser's message: a duplicate section or option
 *   (`While reading from '<file>' [line  N]: section '<s>' already exists`), text before the first section
 *   header (`File contains no section headers.…`) or lines that are neither (`Source contains parsing
 *   errors: …`)
 */
export function parseIni(text: string, file?: string): IniDocument {
  const fpname = pyReprString(file ?? "<???>");
  const normalised = text.replace(/\r\n?/g, "\n");
  const lines = normalised.split("\n");
  // A trailing newline ends the last line; it does not start another.
  if (lines[lines.length - 1] === "") lines.pop();
  const hasNewline = (i: number) => i < lines.length - 1 || normalised.endsWith("\n");

  const sections = new Map<string, { line: number; options: Map<string, RawOption> }>();
  const defaults = new Map<string, RawOption>();
  const added = new Set<string>();
  let cursect: Map<string, RawOption> | undefined;
  let sectname = "";
  let optname: string | undefined;
  let indentLevel = 0;
  const badLines: string[] = [];

  for (let i = 0; i < lines.length; i++) {
    const lineno = i + 1;
    const line = lines[i]! + (hasNewline(i) ? "\n" : "");
    const stripped = pyStrip(line);
    const isComment = stripped.startsWith("#") || stripped.startsWith(";");
    const value = isComment ? "" : stripped;
    if (value === "") {
      // configparser keeps blank lines inside a value (empty_lines_in_values), but not comment lines.
      if (!isComment && cursect !== undefined && optname) cursect.get(optname)!.lines.push("");
      continue;
    }
    const indent = Math.max(firstNonSpace(line), 0);
    if (cursect !== undefined && optname && indent > indentLevel) {
      cursect.get(optname)!.lines.push(value);
      continue;
    }
    indentLevel = indent;
    const close = value.lastIndexOf("]");
    if (value.startsWith("[") && close > 1) {
      sectname = value.slice(1, close);
      const existing = sections.get(sectname);
      if (existing !== undefined) {
        throw new UserError(
          `While reading from ${fpname} [line ${String(lineno).padStart(2)}]: section ${pyReprString(sectname)} already exists`,
          { hint: `Merge the two [${sectname}] sections into one.` },
        );
      }
      if (sectname === DEFAULT_SECTION) {
        cursect = defaults;
      } else {
        cursect = new Map();
        sections.set(sectname, { line: lineno, options: cursect });
      }
      optname = undefined;
      continue;
    }
    if (cursect === undefined) {
      throw new UserError(
        `File contains no section headers.\nfile: ${fpname}, line: ${lineno}\n${pyReprString(line)}`,
        { hint: "Start the file with a section header such as [general]." },
      );
    }
    let delim = -1;
    for (let j = 0; j < value.length; j++) {
      const c = value[j];
      if (c === "=" || c === ":") {
        delim = j;
        break;
      }
    }
    if (delim < 0) {
      badLines.push(`\n\t[line ${String(lineno).padStart(2)}]: ${pyReprString(line)}`);
      continue;
    }
    const rawName = rstripPy(value.slice(0, delim));
    // configparser records the error for an empty name but still stores the option under "".
    if (rawName === "") badLines.push(`\n\t[line ${String(lineno).padStart(2)}]: ${pyReprString(line)}`);
    optname = rawName.toLowerCase();
    const id = `${sectname}\u0000${optname}`;
    if (added.has(id)) {
      throw new UserError(
        `While reading from ${fpname} [line ${String(lineno).padStart(2)}]: option ${pyReprString(optname)} in section ${pyReprString(sectname)} already exists`,
        { hint: `Keep only one "${optname}" in [${sectname}].` },
      );
    }
    added.add(id);
    cursect.set(optname, { key: optname, lines: [pyStrip(lstripPy(value.slice(delim + 1)))], line: lineno });
  }
  if (badLines.length > 0) {
    throw new UserError(`Source contains parsing errors: ${fpname}${badLines.join("")}`, {
      hint: "Write every setting as key = value, and indent only the continuation lines of a value.",
    });
  }

  const join = (o: RawOption, fromDefault: boolean): IniOption => ({
    key: o.key,
    value: rstripPy(o.lines.join("\n")),
    line: o.line,
    fromDefault,
  });
  const defaultOptions = [...defaults.values()].map((o) => join(o, true));
  return {
    file,
    defaults: defaultOptions,
    sections: [...sections].map(([name, s]) => {
      // items(): a copy of the defaults updated with the section, so an overridden default keeps its place.
      const merged = new Map<string, IniOption>(defaultOptions.map((o) => [o.key, o]));
      for (const o of s.options.values()) merged.set(o.key, join(o, false));
      return { name, line: s.line, options: [...merged.values()] };
    }),
  };
}
