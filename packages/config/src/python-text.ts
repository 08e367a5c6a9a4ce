/**
 * The few Python string behaviours the INI reader must copy: `repr()` of a line, for configparser's messages.
 */

// Python's str.isprintable() is false for the "Other" and "Separator" categories, except the plain space.
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/**
 * Formats a string the way Python's `repr()` does, for configparser's error messages.
 *
 * Uses single quotes unless the text holds a single quote and no double quote, escapes `\\`, `\n`, `\r`,
 * `\t` and the quote, and writes other unprintable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
 */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
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
