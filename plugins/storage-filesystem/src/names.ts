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
