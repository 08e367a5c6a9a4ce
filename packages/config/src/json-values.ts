/**
 * Option values before validation: INI text parsed as JSON (vdirsyncer parses every value so), or a value from
 * a config object checked to be something JSON could have produced, so that both formats mean the same.
 */
import type { JsonValue } from "./model.ts";
import { fail, jsonTypeName } from "./problems.ts";

/** One option before validation: INI `text` to parse as JSON, or a `value` from a config object. */
export interface SectionOptionInput {
  key: string;
  text?: string;
  value?: unknown;
  /** 1-based line in the INI file. */
  line?: number;
}

/**
 * The option's value: the INI text parsed as JSON, or the config object's value checked.
 * @param where - the place for the problem line
 * @throws {UserError} `Section "<h>": Section "<h>", option "<key>": …`; a JSON error never repeats the value
 */
export function optionValue(header: string, opt: SectionOptionInput, where: string): JsonValue {
  const prefix = `Section "${header}": Section "${header}", option "${opt.key}"`;
  if (opt.text !== undefined) {
    try {
      return JSON.parse(opt.text) as JsonValue;
    } catch (err) {
      throw fail(`${prefix}: ${describeJsonError(opt.text, err)}`, where, jsonHint(opt.key, opt.text));
    }
  }
  const problem = checkJsonValue(opt.value);
  if (problem !== undefined) {
    throw fail(
      `${prefix}: ${problem}`,
      where,
      "Use only strings, numbers, booleans, null, lists and plain objects.",
    );
  }
  return opt.value as JsonValue;
}

// Checks that a value from a config object is what JSON could have produced.
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
