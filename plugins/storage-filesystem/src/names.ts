/**
 * File names inside a vdir: the hrefs this storage hands out, and the checks that keep every href inside its folder.
 */
import { randomUUID } from "node:crypto";

// vdirsyncer's SAFE_UID_CHARS: an ident made only of these is used as the file name as it is.
const SAFE_IDENT = /^[A-Za-z0-9_.+-]+$/;

/**
 * The file name vdirsyncer gives a new item: `<ident><fileext>` when the ident is safe, else `<uuid4><fileext>`.
 *
 * MUST equal vdirsyncer's `generate_href(ident) + fileext` so that an existing status keeps matching. It differs
 * only where vdirsyncer would produce a name that is not a plain file (`.` or `..` with an empty `fileext`).
 */
export function hrefForIdent(ident: string | undefined, fileext: string): string {
  if (ident !== undefined && SAFE_IDENT.test(ident)) {
    const href = ident + fileext;
    if (isPlainFileName(href)) return href;
  }
  return randomHref(fileext);
}

/** A fresh `<uuid4><fileext>`, for idents that cannot be file names. */
export function randomHref(fileext: string): string {
  return randomUUID() + fileext;
}

/**
 * True when `name` is a single file name: not empty, not `.` or `..`, no `/` and no NUL.
 *
 * Every href and metadata key MUST pass this before it is joined to the folder, so no call can reach a path
 * outside the collection.
 */
export function isPlainFileName(name: string): boolean {
  return (
    typeof name === "string" &&
    name.length > 0 &&
    name !== "." &&
    name !== ".." &&
    !name.includes("/") &&
    !name.includes("\0")
  );
}

// Python's str.isspace() characters. JavaScript's trim() differs: it keeps U+001C..U+001F and U+0085 and strips
// U+FEFF, so metadata would normalise differently from vdirsyncer's `normalize_meta_value`.
const PY_SPACE =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python's `str.strip()`: removes Python whitespace from both ends. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.includes(text[start]!)) start++;
  while (end > start && PY_SPACE.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}
