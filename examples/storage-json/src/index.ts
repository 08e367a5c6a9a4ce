/**
 * An example third-party storage plugin: a whole collection in one JSON file, `{ "items": { href: { etag, raw } } }`.
 *
 * It shows the whole contract in one file: options validated by a Standard Schema (zod here), capabilities written
 * out in full, the errors the engine relies on, and atomic writes. Config: `type = "json"`, `path = "~/cal.json"`.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { resolve } from "node:path";
import {
  AlreadyExistsError,
  CollectionNotFoundError,
  defineStorage,
  InvalidItemError,
  Item,
  isVdirsyncerError,
  NotFoundError,
  type WritableCollection,
  WrongEtagError,
} from "@vdirsyncer/core";
import { z } from "zod";

type Stored = Record<string, { etag: string; raw: string }>;

const Options = z
  .object({
    path: z.string().min(1).describe("the JSON file holding the collection"),
  })
  .strict();

function expand(path: string): string {
  return resolve(path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path);
}

function etagOf(raw: string): string {
  return `"${createHash("sha256").update(raw).digest("hex").slice(0, 32)}"`;
}

/** Reads the file; a missing file means the collection does not exist. */
async function load(path: string): Promise<Stored> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CollectionNotFoundError(path);
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { items?: Stored };
    return parsed.items ?? {};
  } catch (err) {
    throw new InvalidItemError(`${path} is not valid JSON: ${(err as Error).message}`, {
      location: path,
      cause: err,
    });
  }
}

/** Writes the file atomically: a temporary file in the same folder, then a rename over the old one. */
async function save(path: string, items: Stored): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ items }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

function openFile(path: string): WritableCollection {
  const current = async (href: string, etag?: string) => {
    const items = await load(path);
    const entry = items[href];
    if (!entry) throw new NotFoundError(href);
    if (etag !== undefined && entry.etag !== etag)
      throw new WrongEtagError(href, { expected: etag, actual: entry.etag });
    return items;
  };
  return {
    async *list() {
      for (const [href, { etag }] of Object.entries(await load(path))) yield { href, etag };
    },
    async get(href) {
      const entry = (await current(href))[href]!;
      return { href, etag: entry.etag, item: new Item(entry.raw) };
    },
    async upload(item) {
      const items = await load(path);
      // Any string is a fine href here: it is a JSON key, never a file name.
      const href = item.ident;
      if (items[href]) throw new AlreadyExistsError(href);
      const etag = etagOf(item.raw);
      items[href] = { etag, raw: item.raw };
      await save(path, items);
      return { href, etag };
    },
    async update(href, item, etag) {
      const items = await current(href, etag);
      const next = etagOf(item.raw);
      items[href] = { etag: next, raw: item.raw };
      await save(path, items);
      return { etag: next };
    },
    async delete(href, etag) {
      const items = await current(href, etag);
      delete items[href];
      await save(path, items);
    },
  };
}

export const json = defineStorage({
  type: "json",
  summary: "A collection kept in one JSON file (an example plugin).",
  itemKinds: ["calendar", "addressbook"],
  capabilities: {
    readOnly: false,
    discover: false,
    createCollection: false,
    metadata: [],
    ctag: false,
    syncToken: false,
    batchGet: false,
  },
  options: Options,
  create: (options) => {
    const path = expand(options.path);
    return {
      // A fresh location is an empty collection: the file is created on first use.
      open: async () => {
        try {
          await load(path);
        } catch (err) {
          if (!isVdirsyncerError(err, "COLLECTION_NOT_FOUND")) throw err;
          await save(path, {});
        }
        return openFile(path);
      },
    };
  },
});

export default json;
