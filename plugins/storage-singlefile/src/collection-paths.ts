import { mkdir, open, readdir, stat } from "node:fs/promises";
import { basename, dirname, resolve, sep } from "node:path";
import { type CollectionInfo, UserError } from "@vdirsyncer/core";
import { expandPath as expandUserPath } from "@vdirsyncer/core/compat";

const PLACEHOLDER = "%s";

/** Expands a leading `~` and makes the path absolute and normalised, as vdirsyncer's `expand_path` + `abspath`. */
export function expandPath(path: string): string {
  return expandUserPath(path, { absolute: true });
}

/** True when `path` holds exactly one `%s`, the only shape that can name several collections. */
export function hasOnePlaceholder(path: string): boolean {
  return path.split(PLACEHOLDER).length === 2;
}

/**
 * The file of collection `id`: `path` with its `%s` replaced by `id`.
 *
 * `%` elsewhere in the path is kept literally (Python's `%` formatting would reject `50%` or turn `%%` into `%`).
 * @throws {UserError} `path` does not hold exactly one `%s`
 */
export function collectionFile(path: string, id: string): string {
  if (!hasOnePlaceholder(path)) {
    throw new UserError("Exactly one %s required in path if collection is not null.", {
      problems: [`path = ${path}`],
    });
  }
  return path.replace(PLACEHOLDER, () => id);
}

/**
 * Finds the collections of a `path` with one `%s`: every regular file (symlinks followed) that the glob
 * `path % "*"` matches, with the matched part as the collection id.
 *
 * Only the `%s` is a wildcard; `*`, `?` and `[` elsewhere in the path are literal (Python's glob would expand
 * them too). Like glob's `*`, the wildcard matches within one path segment and not names starting with a dot
 * (unless the pattern segment itself starts with one). An empty match is skipped: it names no collection.
 * A path without exactly one `%s`, or a missing directory, yields nothing.
 */
export async function* findCollectionFiles(path: string): AsyncGenerator<CollectionInfo> {
  if (!hasOnePlaceholder(path)) return;
  const at = path.indexOf(PLACEHOLDER);
  const head = path.slice(0, at);
  const tail = path.slice(at + PLACEHOLDER.length);
  const dir = head.endsWith(sep) ? head.slice(0, -1) || sep : dirname(head);
  const prefix = head.endsWith(sep) ? "" : basename(head);
  const slash = tail.indexOf(sep);
  const suffix = slash === -1 ? tail : tail.slice(0, slash);
  const rest = slash === -1 ? "" : tail.slice(slash);
  const hiddenAllowed = prefix.startsWith(".");

  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  names.sort();
  for (const name of names) {
    if (!hiddenAllowed && name.startsWith(".")) continue;
    if (name.length <= prefix.length + suffix.length) continue;
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const file = resolve(dir, name) + rest;
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    const id = name.slice(prefix.length, name.length - suffix.length);
    yield { id, href: file, config: { path: file } };
  }
}

/**
 * Makes sure `file` exists: creates its parent directories and an empty file, leaving an existing file untouched.
 * @throws {UserError} something that is not a file already lives at `file`
 */
export async function createCollectionFile(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  try {
    const handle = await open(file, "wx", 0o600);
    await handle.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const info = await stat(file);
    if (!info.isFile()) throw new UserError(`${file} is not a file.`);
  }
}
