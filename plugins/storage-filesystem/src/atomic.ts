/**
 * Atomic file writes inside one folder: readers see the old file or the new one, never a half-written one.
 */
import { type BigIntStats, constants } from "node:fs";
import { copyFile, link, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { tempNameFor } from "./leftovers.ts";

export { tempNameFor } from "./leftovers.ts";

/** Raised by {@link writeNewFile} when the target name is taken; the caller turns it into AlreadyExistsError. */
export class TargetExistsError extends Error {
  readonly target: string;
  constructor(target: string) {
    super(`${target} already exists.`);
    this.target = target;
  }
}

/** Error codes that mean "this filesystem cannot hard-link" rather than "this link failed". */
const LINK_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/** Error codes a directory fsync gives on filesystems that do not support it; durability is then the OS's. */
const DIR_SYNC_UNSUPPORTED = new Set([
  "EINVAL",
  "ENOTSUP",
  "EOPNOTSUPP",
  "EBADF",
  "EISDIR",
  "EPERM",
  "EACCES",
]);

/**
 * Writes `bytes` to a new temporary file in `dir` (mode 0600), flushed to disk, and returns its name and stat.
 * The caller MUST either publish or remove it; on failure here it is already removed.
 */
async function writeTemp(
  dir: string,
  target: string,
  bytes: Uint8Array,
): Promise<{ tmp: string; stat: BigIntStats }> {
  const tmp = join(dir, tempNameFor(target));
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
    const stat = await fh.stat({ bigint: true });
    await fh.close();
    return { tmp, stat };
  } catch (err) {
    await fh.close().catch(() => {});
    await removeQuietly(tmp);
    throw err;
  }
}

/**
 * Creates `dir/name` with `bytes`, atomically and only if it does not exist yet. Returns the stat of the new file.
 *
 * The content is written to a temporary file first, then hard-linked to its name: a link fails when the name is
 * taken, so there is no window in which two writers both "win". Where the filesystem cannot hard-link, the file
 * is copied with an exclusive create instead.
 * @throws {TargetExistsError} `dir/name` already exists
 */
export async function writeNewFile(dir: string, name: string, bytes: Uint8Array): Promise<BigIntStats> {
  const target = join(dir, name);
  const { tmp, stat } = await writeTemp(dir, name, bytes);
  let result = stat;
  try {
    try {
      // The link adds a directory entry, which also moves the directory's mtime: khal and other vdir readers
      // cache on that mtime, so they notice the new item.
      await link(tmp, target);
    } catch (err) {
      if (codeOf(err) === "EEXIST") throw new TargetExistsError(target);
      if (!LINK_UNSUPPORTED.has(codeOf(err) ?? "")) throw err;
      result = await copyExclusive(tmp, target);
    }
  } finally {
    await removeQuietly(tmp);
  }
  await syncDir(dir);
  return result;
}

/**
 * The fallback of {@link writeNewFile} for filesystems without hard links: copies `tmp` to `target` with an
 * exclusive create and flushes it. A failed copy removes the partial target it created.
 * @throws {TargetExistsError} `target` already exists
 */
export async function copyExclusive(tmp: string, target: string): Promise<BigIntStats> {
  try {
    await copyFile(tmp, target, constants.COPYFILE_EXCL);
  } catch (err) {
    if (codeOf(err) === "EEXIST") throw new TargetExistsError(target);
    await removeQuietly(target);
    throw err;
  }
  const fh = await open(target, "r+");
  try {
    await fh.chmod(0o600);
    await fh.sync();
    return await fh.stat({ bigint: true });
  } finally {
    await fh.close();
  }
}

/**
 * Replaces (or creates) `dir/name` with `bytes` atomically, keeping the file name. Returns the stat of the new file.
 *
 * Written to a temporary file, then renamed over the target: POSIX rename is atomic, so readers see the old or
 * the new content. The rename also moves the directory's mtime, which vdir readers such as khal cache on.
 */
export async function replaceFile(dir: string, name: string, bytes: Uint8Array): Promise<BigIntStats> {
  const { tmp, stat } = await writeTemp(dir, name, bytes);
  try {
    await rename(tmp, join(dir, name));
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
  await syncDir(dir);
  return stat;
}

/** Flushes a directory's entries to disk, so a created, renamed or removed file survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has(codeOf(err) ?? "")) throw err;
  } finally {
    await fh?.close();
  }
}

/** Removes a file, ignoring that it is already gone (cleanup paths must not hide the original error). */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Nothing to do: either it is gone, or the original error is the one worth reporting.
  }
}

/** The `code` of a Node system error (`ENOENT`, …), if any. */
export function codeOf(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string"
    ? (err as { code: string }).code
    : undefined;
}
