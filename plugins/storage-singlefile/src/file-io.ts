import { createHash, randomUUID } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * What we remember about the file's version: enough to notice another program's write.
 *
 * `stamp` (device, inode, size, nanosecond mtime) catches almost every change for the price of one `stat`; `digest`
 * (sha256 of the bytes) catches the rest, e.g. a same-size rewrite within one mtime tick on a coarse-clock filesystem.
 */
export interface FileVersion {
  stamp: string;
  digest: string;
}

/** The bytes of a file and its version, read through one handle so that both describe the same file. */
export interface FileSnapshot {
  bytes: Buffer;
  version: FileVersion;
  /** Permission bits, kept when the file is rewritten. */
  mode: number;
}

/** sha256 hex of `bytes`. */
export function digestOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The cheap part of a {@link FileVersion}, from one `stat`. */
export function stampOf(stat: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

/**
 * Reads a whole file with its version.
 * @throws the `fs` error (`ENOENT`, `EISDIR`, …) unchanged, for the caller to turn into a message
 */
export async function readSnapshot(path: string): Promise<FileSnapshot> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile()) {
      throw Object.assign(new Error(`${path} is not a file.`), { code: "EISDIR" });
    }
    const bytes = await handle.readFile();
    return {
      bytes,
      version: { stamp: stampOf(stat), digest: digestOf(bytes) },
      mode: Number(stat.mode & 0o7777n),
    };
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `bytes` atomically: a temporary file in the same directory, written and fsynced, renamed over
 * the target, then the directory fsynced so the rename itself survives a crash.
 *
 * Readers see either the old or the new file, never a mix. The temporary file is removed when anything fails.
 * @returns the version of the file just written
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode: number): Promise<FileVersion> {
  const dir = dirname(path);
  // A dot file ending in .tmp: vdir readers and our own discovery glob skip it.
  const temp = join(dir, `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(temp, "wx", mode);
  let stamp: string;
  try {
    await handle.writeFile(bytes);
    await handle.sync();
    // open() applies the umask; set the old file's bits explicitly so a rewrite never changes who can read it.
    await handle.chmod(mode);
    stamp = stampOf(await handle.stat({ bigint: true }));
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
  // rename() keeps the inode, size and mtime, so the temporary file's stamp is the target's.
  return { stamp, digest: digestOf(bytes) };
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some filesystems (and platforms) cannot fsync a directory; the data itself is already on disk.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
