/**
 * The one file of a collection, `<folder>/collection.json`: `{ "meta": { key: value }, "items": { href: { etag,
 * raw } } }`. Reading it says clearly when it is missing or corrupt; writing it is atomic.
 */
import { randomUUID } from "node:crypto";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CollectionNotFoundError, InvalidResponseError, type MetaKey } from "@vdirsyncer/core";

/** The name of the file that makes a folder a collection. */
export const COLLECTION_FILE = "collection.json";

/** One stored item: its etag and its text, exactly as uploaded. */
export interface StoredItem {
  etag: string;
  raw: string;
}

/** What the file holds. */
export interface CollectionData {
  meta: Partial<Record<MetaKey, string>>;
  items: Record<string, StoredItem>;
}

/** The collection file of `folder`. */
export function collectionFile(folder: string): string {
  return join(folder, COLLECTION_FILE);
}

/**
 * Reads a collection file.
 * @throws {CollectionNotFoundError} the file does not exist: the collection was never created, or was removed
 * @throws {InvalidResponseError} the file is not a collection file; the message and the hint name it
 */
export async function readCollection(file: string): Promise<CollectionData> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CollectionNotFoundError(file);
    // Anything else (EACCES, EIO…) is the machine's: the host reports it as such, with the file in the message.
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `it is not valid JSON (${(err as Error).message})`, err);
  }
  if (!isCollectionData(data)) throw corrupt(file, 'it is not an object of "meta" and "items" { etag, raw }');
  return data;
}

function isCollectionData(value: unknown): value is CollectionData {
  if (typeof value !== "object" || value === null) return false;
  const { meta, items } = value as Record<string, unknown>;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  return (
    isObject(meta) &&
    Object.values(meta).every((v) => typeof v === "string") &&
    isObject(items) &&
    Object.values(items).every((e) => isObject(e) && typeof e.etag === "string" && typeof e.raw === "string")
  );
}

/** The error for a file that exists but cannot be used: the collection stops, nothing is written over it. */
function corrupt(file: string, why: string, cause?: unknown): InvalidResponseError {
  return new InvalidResponseError(`The collection file ${file} cannot be read: ${why}.`, {
    cause,
    context: { location: file },
    hint: `Restore ${file} from a backup or fix it by hand; vdirsyncer did not write to it.`,
  });
}

function serialize(data: CollectionData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** Replaces the file atomically: the new content goes to a temporary file beside it, then renamed over it. */
export async function writeCollection(file: string, data: CollectionData): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, serialize(data), { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Creates an empty collection file unless one exists. The file is written aside and linked into place, which
 * fails when the name is taken: an existing collection is never overwritten, even by a second process.
 */
export async function createCollectionFile(file: string): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, serialize({ meta: {}, items: {} }), { mode: 0o600 });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(tmp);
  }
}
