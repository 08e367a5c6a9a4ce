/**
 * Python's `repr()`, for the messages vdirsyncer (and configparser) print with it: `'name'`, `['a', None]`,
 * `True`, `{'k': 1}`.
 */
import { PythonFloat, pythonFloatRepr, pythonInt } from "./json.ts";

// Python's str.isprintable() is false for the "Other" and "Separator" categories, except the plain space.
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/**
 * Formats a string exactly as Python's `repr()` does.
 *
 * Uses single quotes unless the text holds a single quote and no double quote, escapes `\\`, `\n`, `\r`, `\t`
 * and the quote, and writes other unprintable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
 */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/**
 * Formats a JSON-like value as Python's `repr()` prints the value `json.loads` would give: strings as
 * {@link pyReprString}, `True`/`False`/`None`, ints and floats as Python prints them (`nan`, `inf`), lists as
 * `[a, b]` and objects as dicts `{'k': v}`. `undefined` is `None`; a {@link PythonFloat} is a float.
 */
export function pyRepr(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return pyReprString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isInteger(value) ? pythonInt(value) : floatRepr(value);
  if (value instanceof PythonFloat) return floatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    const entries = value instanceof Map ? [...value] : Object.entries(value);
    return `{${entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return String(value);
}

// repr() spells the special floats differently from json.dumps.
function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  return pythonFloatRepr(x);
}
