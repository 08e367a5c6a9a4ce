/**
 * Path helpers with Python's semantics (`os.path.expanduser`, `os.path.normpath`), as vdirsyncer's
 * `expand_path` uses them.
 */
import { homedir } from "node:os";

/**
 * Expands a leading `~` (alone or followed by `/`) to the home directory, like `os.path.expanduser`.
 *
 * MUST leave every other string unchanged (URLs, empty strings, `~user` forms, a `~` further in).
 * @param home - the home directory; `$HOME`, then the account's home, when omitted
 */
export function expandTilde(p: string, home?: string): string {
  if (p !== "~" && !p.startsWith("~/")) return p;
  let h = home ?? process.env.HOME ?? homedir();
  // Python strips a trailing slash from HOME before joining (and keeps "/" for a root home).
  h = h.replace(/\/+$/, "") || "/";
  return h === "/" && p.length > 1 ? p.slice(1) : h + p.slice(1);
}

/**
 * Normalises a POSIX path exactly like Python's `os.path.normpath`.
 *
 * Collapses `//`, `.` and `a/..`, drops a trailing slash, keeps exactly two leading slashes, and turns
 * `""` into `"."`. Unlike Node's `path.normalize`, it MUST NOT keep a trailing slash.
 */
export function pyNormpath(p: string): string {
  if (p === "") return ".";
  const initial = p.startsWith("/") ? (p.startsWith("//") && !p.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (
      part !== ".." ||
      (initial === 0 && out.length === 0) ||
      (out.length > 0 && out[out.length - 1] === "..")
    ) {
      out.push(part);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const joined = "/".repeat(initial) + out.join("/");
  return joined === "" ? "." : joined;
}

/**
 * vdirsyncer's `expand_path`: `~` expansion, then {@link pyNormpath}.
 *
 * MUST be used for real paths only (`status_path`, a storage `path`), never for command arguments.
 * @param home - the home directory; `$HOME` when omitted
 */
export function expandPath(p: string, home?: string): string {
  return pyNormpath(expandTilde(p, home));
}

/** Python's `os.path.join(dir, p)` for two POSIX parts: an absolute `p` wins, an empty `dir` is ignored. */
export function pyJoin(dir: string, p: string): string {
  if (p.startsWith("/") || dir === "") return p;
  return dir.endsWith("/") ? dir + p : `${dir}/${p}`;
}
