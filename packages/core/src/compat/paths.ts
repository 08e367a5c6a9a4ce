/**
 * Paths with Python's semantics (`os.path.expanduser`, `os.path.normpath`, `os.path.join`, `os.path.dirname`)
 * and vdirsyncer's `expand_path` built from them. Every `~` in vdirsyncer-ts is expanded here.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";

/**
 * The home directory `~` stands for, as Python decides it: `HOME` from `env` when it is set (even empty), else the
 * account's home directory.
 */
export function homeDirectory(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.HOME ?? homedir();
}

/** Options of {@link expandUser} and {@link expandPath}. */
export interface ExpandPathOptions {
  /**
   * The directory `~` stands for. A trailing slash is dropped, as Python does.
   * @default {@link homeDirectory}: `$HOME` when it is set (even empty), else the account's home directory
   */
  home?: string;
  /**
   * Also make the result absolute against the working directory, as `os.path.abspath` does (storages and
   * certificate files). Only for {@link expandPath}.
   * @default false
   */
  absolute?: boolean;
}

/**
 * Expands a leading `~` (alone or followed by `/`) to the home directory, like Python's `os.path.expanduser`.
 *
 * MUST leave every other string unchanged (URLs, `""`, `~user` forms, a `~` further in) and MUST NOT normalise
 * anything else: use it for command arguments, {@link expandPath} for real paths.
 */
export function expandUser(p: string, options: Pick<ExpandPathOptions, "home"> = {}): string {
  if (p !== "~" && !p.startsWith("~/")) return p;
  const home = (options.home ?? homeDirectory()).replace(/\/+$/, "") || "/";
  return home === "/" && p.length > 1 ? p.slice(1) : home + p.slice(1);
}

/**
 * Normalises a POSIX path exactly like Python's `os.path.normpath`.
 *
 * Collapses `//`, `.` and `a/..`, drops a trailing slash, keeps exactly two leading slashes, and turns `""` into
 * `"."`. Unlike Node's `path.normalize`, it MUST NOT keep a trailing slash.
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
 * vdirsyncer's `expand_path`: {@link expandUser}, then {@link pyNormpath}; with `absolute`, then also made
 * absolute against the working directory.
 *
 * MUST be used for real paths only (`status_path`, a storage `path`, certificate and token files), never for
 * command arguments.
 */
export function expandPath(p: string, options: ExpandPathOptions = {}): string {
  const expanded = pyNormpath(expandUser(p, options));
  return options.absolute === true ? resolve(expanded) : expanded;
}

/** Python's `os.path.join(dir, p)` for two POSIX parts: an absolute `p` wins, an empty `dir` is ignored. */
export function pyJoin(dir: string, p: string): string {
  if (p.startsWith("/") || dir === "") return p;
  return dir.endsWith("/") ? dir + p : `${dir}/${p}`;
}

/** Python's `os.path.dirname(p)` for POSIX paths: everything before the last `/`, trailing slashes dropped. */
export function pyDirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf("/") + 1);
  return /^\/+$/.test(head) ? head : head.replace(/\/+$/, "");
}
