/**
 * Python's `repr` and `json.dumps(indent=2)`, for the few messages and outputs vdirsyncer prints with them.
 */
import { pythonJsonDumps } from "@vdirsyncer/status";

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) as number;
  if (ch === "\\") return "\\\\";
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  if (ch === "\t") return "\\t";
  if (ch !== " " && NON_PRINTABLE.test(ch)) {
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
    if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
    return `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return ch;
}

/** Python's `repr()` of a string: single quotes unless the text holds `'` and no `"`. */
export function pyReprString(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of value) out += ch === quote ? `\\${ch}` : escapeChar(ch);
  return `${quote}${out}${quote}`;
}

/** Python's `repr()` of a list of strings and `None`s: `['a', None]`. */
export function pyReprList(values: readonly (string | null)[]): string {
  return `[${values.map((v) => (v === null ? "None" : pyReprString(v))).join(", ")}]`;
}

/**
 * Python's `json.dumps(value, indent=2)`: separators `","` and `": "`, one member per line, `ensure_ascii`.
 * @throws {TypeError} for values JSON cannot hold
 */
export function pythonJsonIndent(value: unknown, indent = 2, depth = 0): string {
  const pad = " ".repeat(indent * (depth + 1));
  const end = " ".repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + pythonJsonIndent(v, indent, depth + 1)).join(",\n")}\n${end}]`;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Map)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries
      .map(([k, v]) => `${pad}${pythonJsonDumps(k)}: ${pythonJsonIndent(v, indent, depth + 1)}`)
      .join(",\n")}\n${end}}`;
  }
  return pythonJsonDumps(value);
}
