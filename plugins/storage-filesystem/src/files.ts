/**
 * Small file helpers of the vdir: etags, "missing" error codes, strict reads and file names as bytes.
 */
import type { BigIntStats } from "node:fs";
import { open } from "node:fs/promises";
import { codeOf } from "./atomic.ts";

/**
 * The etag of a file, byte-identical to vdirsyncer's `f"{float(st_mtime_ns):.9f};{st_ino}"`.
 *
 * The nanosecond mtime goes through a double on purpose: vdirsyncer rounds it the same way, and an existing status
 * only continues without re-downloading when the strings match exactly.
 */
export function etagOf(stats: BigIntStats): string {
  return `${Number(stats.mtimeNs).toFixed(9)};${stats.ino}`;
}

/** Error codes that mean "there is no item file at this href". */
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR", "ELOOP", "ENAMETOOLONG"]);

/** True when `err` says the file is not there (or is not a file one could read). */
export function isMissing(err: unknown): boolean {
  return MISSING.has(codeOf(err) ?? "");
}

/** Reads a file that must be a regular file; a folder reads as missing (`EISDIR`). */
export async function readRegularFile(path: string): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const stats = await fh.stat();
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a file.`), { code: "EISDIR" });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A file name read as bytes, as text; `undefined` when it is not UTF-8 (it cannot be an href then). */
export function decodeFileName(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
