/**
 * Python string semantics that vdirsyncer's content hash depends on.
 *
 * The hash is persisted in status files and is the ident of UID-less items, so line splitting, stripping and
 * sorting must behave exactly like CPython's `str.splitlines()`, `str.strip()` and `list.sort()`.
 */

// Python's line boundaries: \n, \r, \r\n, \v, \f, \x1c, \x1d, \x1e, \x85, \u2028, \u2029.
// \r\n comes first so that it counts as one boundary.
const LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/**
 * Splits text into lines exactly as Python's `str.splitlines()` does.
 *
 * MUST split on every Python line boundary (`\n`, `\r`, `\r\n`, `\v`, `\f`, U+001C–U+001E, U+0085, U+2028,
 * U+2029), MUST NOT return the separators, and MUST NOT return an empty last line for a trailing separator
 * (`"a\n"` gives `["a"]`, `""` gives `[]`).
 */
export function pySplitlines(s: string): string[] {
  if (s === "") return [];
  const lines = s.split(LINE_BOUNDARY);
  // A trailing separator leaves an empty last element, which Python does not report.
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * True when the UTF-16 code unit `c` is whitespace for Python's `str.isspace()`.
 *
 * Every Python whitespace character is in the BMP, so a code unit test is exact.
 */
export function isPyWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/**
 * Removes leading and trailing whitespace exactly as Python's `str.strip()` does.
 *
 * Unlike `String.prototype.trim()`, it MUST strip U+001C–U+001F and U+0085 and MUST NOT strip U+FEFF.
 */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPyWhitespace(s.charCodeAt(start))) start++;
  while (end > start && isPyWhitespace(s.charCodeAt(end - 1))) end--;
  // Most lines have nothing to strip: hand back the same string rather than a copy.
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** True when `s` is empty or all Python whitespace, i.e. `not s.strip()` in Python. */
export function isPyBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isPyWhitespace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Compares two strings by Unicode code point, as Python sorts `str`.
 *
 * JavaScript's `<` compares UTF-16 code units, which puts characters above U+FFFF (stored as surrogates
 * D800–DFFF) before U+E000–U+FFFF. This comparator MUST order them after.
 * @returns a negative number, zero or a positive number, for use with `Array.prototype.sort`
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates above U+E000–U+FFFF while keeping the order inside each group. At the first differing
// code unit both strings agree on everything before it, so comparing the units this way compares code points.
function codePointRank(u: number): number {
  if (u < 0xd800) return u;
  return u < 0xe000 ? u + 0x2000 : u - 0x800;
}

// Code-unit order and code-point order can only disagree when the strings hold both a surrogate and a
// character in U+E000–U+FFFF.
const HAS_SURROGATE = /[\ud800-\udfff]/;
const HAS_HIGH_BMP = /[\ue000-\uffff]/;

/**
 * Sorts `lines` in place by Unicode code point (Python's order) and returns the array.
 *
 * Uses the engine's native sort when the text cannot tell the two orders apart, which is almost always.
 */
export function sortByCodePoint(lines: string[], text: string = lines.join("\n")): string[] {
  if (HAS_SURROGATE.test(text) && HAS_HIGH_BMP.test(text)) return lines.sort(compareCodePoints);
  if (lines.length > 24) return lines.sort(compareCodeUnits);
  // Items are a dozen lines or so; an inline insertion sort beats calling into Array.prototype.sort.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    let j = i - 1;
    while (j >= 0 && lines[j]! > line) {
      lines[j + 1] = lines[j]!;
      j--;
    }
    lines[j + 1] = line;
  }
  return lines;
}

// An explicit comparator is faster in V8 than the default sort, which converts every element with ToString.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
