/**
 * Python's `json.dumps` output, byte for byte, for the values vdirsyncer writes and hashes.
 *
 * vdirsyncer hashes `json.dumps([...], sort_keys=True)` into the discovery cache key and writes its status
 * files with `json.dump` defaults, so a byte of difference means a needless `discover` or a diff in the
 * user's status directory.
 */

/**
 * A number that Python holds as a `float` even when it is integral (`1.0`), so that it prints as `1.0`.
 *
 * Plain JavaScript numbers print as Python `int` when they are integers and as `float` otherwise.
 */
export class PythonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** Options of {@link pythonJsonDumps}. */
export interface PythonJsonOptions {
  /** Sort object keys by code point, recursively (Python `sort_keys=True`). @default false */
  sortKeys?: boolean;
}

/**
 * Serialises `value` exactly as Python's `json.dumps(value)` does with its defaults: separators `", "` and
 * `": "`, `ensure_ascii=True` (lower-case `\uXXXX`, astral characters as surrogate pairs), `NaN`/`Infinity`
 * allowed, integers without a fraction and floats in Python's `repr`.
 *
 * Objects keep insertion order unless `sortKeys` is set; pass a `Map` to keep an order that a plain object
 * would change (keys that look like array indices). `undefined` object members are left out; a `bigint` is
 * an int.
 * @throws {TypeError} for functions, symbols and other values JSON cannot hold
 */
export function pythonJsonDumps(value: unknown, options: PythonJsonOptions = {}): string {
  return dump(value, options.sortKeys === true);
}

function dump(value: unknown, sortKeys: boolean): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return pythonJsonString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isInteger(value) ? pythonInt(value) : pythonFloatRepr(value);
  if (value instanceof PythonFloat) return pythonFloatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map((v) => dump(v, sortKeys)).join(", ")}]`;
  if (typeof value === "object") {
    let entries: [string, unknown][] =
      value instanceof Map
        ? [...(value as Map<unknown, unknown>)].map(([k, v]) => [String(k), v])
        : Object.entries(value as Record<string, unknown>);
    entries = entries.filter(([, v]) => v !== undefined);
    if (sortKeys) entries.sort(([a], [b]) => compareKeys(a, b));
    return `{${entries.map(([k, v]) => `${pythonJsonString(k)}: ${dump(v, sortKeys)}`).join(", ")}}`;
  }
  throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
}

/**
 * Python compares `str` by code point; JavaScript's default sort compares UTF-16 code units. Unlike
 * `compareCodePoints` of the strings module, a lone surrogate counts as its own code point here, as in Python:
 * keys come from user config, where JSON escapes can produce one.
 */
function compareKeys(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** Python's `ESCAPE_ASCII`: everything outside space..`~` is escaped, per UTF-16 code unit. */
function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Python's `int` printing of an integral JavaScript number (`-0` is `0`, large values with all their digits). */
export function pythonInt(n: number): string {
  // -0 is a float in JavaScript but an integer-valued one; Python's int has no -0.
  if (Object.is(n, -0)) return "0";
  if (Number.isSafeInteger(n)) return String(n);
  // Beyond 2^53 the number is a float in every sense; print all its digits like Python's int(float) would.
  return BigInt(n).toString();
}

/**
 * Python's `float.__repr__` (also what `json.dumps` prints for a float): shortest round-trip digits, scientific
 * below 1e-4 and from 1e16 on, `NaN`/`Infinity` spelled as JSON spells them.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest round-trip digits, like Python's repr.
  const [mantissa = "", expPart = "0"] = x.toExponential().split("e");
  const exp = Number(expPart);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${"0".repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/**
 * Serialises `value` as Python's `json.dumps(value, indent=indent)` does: separators `","` and `": "`, one member
 * per line, `ensure_ascii`; empty lists and objects stay `[]` and `{}`.
 * @throws {TypeError} for values JSON cannot hold
 */
export function pythonJsonIndent(value: unknown, indent = 2): string {
  return dumpIndented(value, indent, 0);
}

function dumpIndented(value: unknown, indent: number, depth: number): string {
  const pad = " ".repeat(indent * (depth + 1));
  const end = " ".repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + dumpIndented(v, indent, depth + 1)).join(",\n")}\n${end}]`;
  }
  if (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Map) &&
    !(value instanceof PythonFloat)
  ) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries
      .map(([k, v]) => `${pad}${pythonJsonString(k)}: ${dumpIndented(v, indent, depth + 1)}`)
      .join(",\n")}\n${end}}`;
  }
  return dump(value, false);
}
