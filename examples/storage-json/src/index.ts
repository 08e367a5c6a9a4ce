/**
 * An example third-party storage plugin: a whole collection in one JSON file, `{ "items": { href: { etag, raw } } }`.
 *
 * It shows the contract in one file: options validated by a Standard Schema (zod here), capabilities written out
 * in full, open() from a ref's config, the one rule for a missing file, a clear error for a corrupt one, and
 * atomic writes. Every write reads the file, changes it and writes it back whole; that is safe because the
 * definition declares no `concurrency`, so the host runs one call at a time on each instance.
 *
 * Config: `type = "json"`, `path = "~/calendar.json"`. With `collections = ["work"]`, the collection `work` is
 * the file `work.json` in the folder of `path`.
 */
import { createHash, randomUUID } from "node:crypto";
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import {
  AlreadyExistsError,
  type Capabilities,
  type CollectionFor,
  type CollectionInfo,
  CollectionNotFoundError,
  type CollectionRef,
  defineStorage,
  InvalidResponseError,
  Item,
  NotFoundError,
  UserError,
  WrongEtagError,
} from "@vdirsyncer/core";
import { z } from "zod";

type Stored = Record<string, { etag: string; raw: string }>;

const capabilities = {
  readOnly: false,
  discover: false,
  createCollection: true,
  metadata: [],
  ctag: false,
  syncToken: false,
  batchGet: false,
  watch: false,
  // No `concurrency`: one call at a time per instance, which the read-change-write below needs.
} as const satisfies Capabilities;

/** The collection type these capabilities call for: exactly the methods they promise, no more. */
type JsonCollection = CollectionFor<typeof capabilities>;

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

/**
 * Reads the file.
 * @throws {CollectionNotFoundError} the file does not exist
 * @throws {InvalidResponseError} the file is not this plugin's JSON; nothing is written over it
 */
async function load(path: string): Promise<Stored> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CollectionNotFoundError(path);
    throw err;
  }
  let items: unknown;
  try {
    items = (JSON.parse(text) as { items?: unknown }).items;
  } catch (err) {
    throw corrupt(path, `it is not valid JSON (${(err as Error).message})`, err);
  }
  const valid =
    typeof items === "object" &&
    items !== null &&
    Object.values(items).every(
      (e) => typeof e === "object" && e !== null && typeof e.etag === "string" && typeof e.raw === "string",
    );
  if (!valid) throw corrupt(path, 'it has no "items" object of { etag, raw } entries');
  return items as Stored;
}

function corrupt(path: string, why: string, cause?: unknown): InvalidResponseError {
  return new InvalidResponseError(`The collection file ${path} cannot be read: ${why}.`, {
    cause,
    context: { location: path },
    hint: `Restore ${path} from a backup or fix it by hand; vdirsyncer did not write to it.`,
  });
}

/** Writes the file atomically: a temporary file in the same folder, then a rename over the old one. */
async function save(path: string, items: Stored): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ items }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Creates the file with no items unless it exists: written aside, then linked into place, which fails if taken. */
async function createFile(path: string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ items: {} }, null, 2)}\n`, { mode: 0o600 });
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(tmp);
  }
}

function openFile(path: string): JsonCollection {
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
      // The stored text is the item, unchanged: never re-serialised, so its hash stays what was uploaded.
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
  capabilities,
  options: Options,
  create: (options) => {
    const configured = expand(options.path);
    // A ref's config holds the options that differ for its collection: here `path`; absent means the configured one.
    const fileOf = (ref: CollectionRef | null): string =>
      ref !== null && typeof ref.config.path === "string" ? expand(ref.config.path) : configured;
    return {
      async open(ref) {
        const path = fileOf(ref);
        try {
          if (!(await stat(path)).isFile()) throw new UserError(`${path} is not a file.`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CollectionNotFoundError(path);
          throw err;
        }
        return openFile(path);
      },
      async createCollection(id): Promise<CollectionInfo> {
        const path = id === null ? configured : join(dirname(configured), `${encodeURIComponent(id)}.json`);
        await createFile(path);
        return {
          id: id ?? basename(path, ".json"),
          href: path,
          config: id === null ? {} : { path },
        };
      },
    };
  },
});

export default json;
