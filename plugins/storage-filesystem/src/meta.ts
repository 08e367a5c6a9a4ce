/**
 * vdir metadata: one extension-less file per key (`displayname`, `color`, …) in the collection's folder.
 */
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { InvalidItemError, META_KEYS, type MetaKey, UnsupportedError } from "@vdirsyncer/core";
import { pyStrip } from "@vdirsyncer/core/compat";
import { codeOf, replaceFile, syncDir } from "./atomic.ts";
import type { Codec } from "./codec.ts";
import { isMissing, readRegularFile } from "./files.ts";

/**
 * The file of metadata `key` in `dir`.
 * @throws {UnsupportedError} `key` is not a vdir metadata key
 */
export function metaPath(dir: string, key: MetaKey): string {
  if (!META_KEYS.includes(key))
    throw new UnsupportedError(`The filesystem storage has no metadata "${key}".`);
  return join(dir, key);
}

/**
 * Reads the metadata file `key`, decoded and stripped; `undefined` when there is none.
 * @throws {UnsupportedError} `key` is not a vdir metadata key
 * @throws {InvalidItemError} the file is not valid text in the codec's encoding
 */
export async function readMeta(dir: string, codec: Codec, key: MetaKey): Promise<string | undefined> {
  const path = metaPath(dir, key);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  try {
    return pyStrip(codec.decode(bytes));
  } catch (cause) {
    throw new InvalidItemError(
      `Cannot read the ${key} of ${dir}: ${path} is not valid ${codec.label} text.`,
      {
        cause,
        location: path,
        hint: `Fix or remove ${path}, or set the storage's encoding option to the file's encoding.`,
      },
    );
  }
}

/**
 * Writes the metadata file `key` atomically: the stripped value, without a trailing newline. `undefined` removes it.
 * @throws {UnsupportedError} `key` is not a vdir metadata key
 * @throws {InvalidItemError} the value cannot be written in the codec's encoding
 */
export async function writeMeta(
  dir: string,
  codec: Codec,
  key: MetaKey,
  value: string | undefined,
): Promise<void> {
  const path = metaPath(dir, key);
  if (value === undefined) {
    try {
      await unlink(path);
    } catch (err) {
      if (codeOf(err) !== "ENOENT") throw err;
      return;
    }
    await syncDir(dir);
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(pyStrip(value));
  } catch (cause) {
    throw new InvalidItemError(`Cannot write the ${key} of ${dir}: ${(cause as Error).message}.`, {
      cause,
      location: path,
    });
  }
  await replaceFile(dir, key, bytes);
}
