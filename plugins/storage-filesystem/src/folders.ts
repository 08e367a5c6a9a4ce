/**
 * The collections of a filesystem storage: the folders under `path`, found, created and checked. The `config` each
 * one gets is what vdirsyncer writes into its discovery cache for it, so either program can read the other's.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type CollectionInfo, CollectionNotFoundError, UserError } from "@vdirsyncer/core";
import { expandPath as expandUserPath, pyJoin } from "@vdirsyncer/core/compat";
import { codeOf } from "./atomic.ts";
import { isMissing } from "./files.ts";
import { isPlainFileName } from "./names.ts";

/** vdirsyncer's `expand_path` (`~` expanded, normalised, still relative when written relative). */
export function expandPath(path: string): string {
  return expandUserPath(path);
}

/** The absolute folder a `path` option names (relative paths are relative to the working directory). */
export function absoluteFolder(path: string): string {
  return expandUserPath(path, { absolute: true });
}

/**
 * The collections under `root` (the `path` option as written): every folder (symlinks followed) whose name does
 * not start with `.`, so `.git` is not one. A missing `root` has none.
 *
 * `config.path` is vdirsyncer's `os.path.join(expand_path(path), name)`: `~` expanded, but a relative `path`
 * stays relative, exactly as vdirsyncer caches it.
 * @throws {UserError} `root` is not a folder
 */
export async function* findVdirs(root: string): AsyncIterable<CollectionInfo> {
  const base = expandPath(root);
  const absolute = resolve(base);
  let names: string[];
  try {
    names = await readdir(absolute);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return;
    if (codeOf(err) === "ENOTDIR") throw notAFolder(absolute, err);
    throw err;
  }
  names.sort();
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const path = join(absolute, name);
    try {
      if (!(await stat(path)).isDirectory()) continue;
    } catch (err) {
      if (isMissing(err)) continue;
      throw err;
    }
    yield { id: name, href: path, config: { path: pyJoin(base, name) } };
  }
}

/**
 * Creates the collection `id` under `root` (the `path` option as written), or `root` itself for `null`, with
 * parents, mode 0750. An existing folder is fine.
 *
 * `config.path` is vdirsyncer's `os.path.join(path, id)` on the option as written (`~` kept), as vdirsyncer caches
 * a collection it created.
 * @throws {UserError} `id` is not a plain folder name, or the path exists and is not a folder
 */
export async function makeVdir(root: string, id: string | null): Promise<CollectionInfo> {
  if (id !== null && !isPlainFileName(id)) {
    throw new UserError(`Invalid collection name ${JSON.stringify(id)}: it must be a single folder name.`);
  }
  const configured = id === null ? root : pyJoin(root, id);
  const path = absoluteFolder(configured);
  try {
    await mkdir(path, { recursive: true, mode: 0o750 });
  } catch (err) {
    if (codeOf(err) === "EEXIST" || codeOf(err) === "ENOTDIR") throw notAFolder(path, err);
    throw err;
  }
  await checkFolder(path);
  return { id: id ?? basename(path), href: path, config: { path: configured } };
}

/**
 * Checks that `path` is a folder, creating nothing.
 * @throws {CollectionNotFoundError} there is nothing at `path`
 * @throws {UserError} something else than a folder is there
 */
export async function checkFolder(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof stat>>;
  try {
    stats = await stat(path);
  } catch (err) {
    if (codeOf(err) === "ENOENT") {
      throw new CollectionNotFoundError(path, { cause: err, message: `Directory ${path} does not exist.` });
    }
    if (codeOf(err) === "ENOTDIR") throw notAFolder(path, err);
    throw err;
  }
  if (!stats.isDirectory()) throw notAFolder(path);
}

function notAFolder(path: string, cause?: unknown): UserError {
  return new UserError(`${path} is not a directory.`, {
    cause,
    hint: "Point the storage's path option at a folder (a vdir or a folder of vdirs).",
  });
}
