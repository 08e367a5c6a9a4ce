/**
 * One collection: the item and metadata methods over its collection file. Every write reads the file, changes
 * it and replaces it. That is safe because the storage declares no `concurrency`: the host runs one call at a
 * time on each storage instance, over all its collections.
 */
import { createHash } from "node:crypto";
import {
  AlreadyExistsError,
  type CollectionFor,
  Item,
  type MetaKey,
  NotFoundError,
  UnsupportedError,
  WrongEtagError,
} from "@vdirsyncer/core";
import { type CollectionData, readCollection, writeCollection } from "./collection-file.ts";

/** What the template declares; `index.ts` hands it to defineStorage. */
export const capabilities = {
  readOnly: false,
  discover: true,
  createCollection: true,
  metadata: ["displayname", "color"],
  ctag: false,
  syncToken: false,
  batchGet: false,
  watch: false,
  // No `concurrency`: the read-change-write of every write below needs one call at a time.
} as const;

/** The collection type the capabilities call for: exactly the methods they promise. */
export type TemplateCollection = CollectionFor<typeof capabilities>;

const META: readonly MetaKey[] = capabilities.metadata;

/** A new etag for `raw`: any string that changes whenever the content does. */
function etagOf(raw: string): string {
  return `"${createHash("sha256").update(raw).digest("hex").slice(0, 32)}"`;
}

/** Opens the collection kept in `file`, which exists (open() checked). */
export function openCollection(file: string): TemplateCollection {
  /** The file's data, and the entry at `href` after checking it is there and, given `etag`, unchanged. */
  const entry = async (href: string, etag?: string): Promise<CollectionData> => {
    const data = await readCollection(file);
    const found = data.items[href];
    if (found === undefined) throw new NotFoundError(href);
    if (etag !== undefined && found.etag !== etag) {
      throw new WrongEtagError(href, { expected: etag, actual: found.etag });
    }
    return data;
  };
  const checkKey = (key: MetaKey): void => {
    if (!META.includes(key)) throw new UnsupportedError(`The template storage does not keep the "${key}".`);
  };

  return {
    async *list() {
      const { items } = await readCollection(file);
      for (const [href, { etag }] of Object.entries(items)) yield { href, etag };
    },

    async get(href) {
      const { etag, raw } = (await entry(href)).items[href]!;
      // The stored text is the item: handed back unchanged, so its hash is the one that was uploaded.
      return { href, etag, item: new Item(raw) };
    },

    async upload(item) {
      const data = await readCollection(file);
      // The href is the ident (the UID, or the hash without one): a JSON key, never a file name, so any UID works.
      const href = item.ident;
      if (data.items[href] !== undefined) throw new AlreadyExistsError(href);
      const etag = etagOf(item.raw);
      data.items[href] = { etag, raw: item.raw };
      await writeCollection(file, data);
      return { href, etag };
    },

    async update(href, item, etag) {
      const data = await entry(href, etag);
      const next = etagOf(item.raw);
      data.items[href] = { etag: next, raw: item.raw };
      await writeCollection(file, data);
      return { etag: next };
    },

    async delete(href, etag) {
      const data = await entry(href, etag);
      delete data.items[href];
      await writeCollection(file, data);
    },

    async getMeta(key) {
      checkKey(key);
      const value = (await readCollection(file)).meta[key]?.trim();
      return value === "" ? undefined : value;
    },

    async setMeta(key, value) {
      checkKey(key);
      const data = await readCollection(file);
      const stripped = value?.trim();
      if (stripped === undefined || stripped === "") delete data.meta[key];
      else data.meta[key] = stripped;
      await writeCollection(file, data);
    },
  };
}
