/**
 * A vdir: one folder per collection, one file per item, metadata in extension-less files next to them.
 */
import { execFile } from "node:child_process";
import type { BigIntStats } from "node:fs";
import { mkdir, open, readdir, stat, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  AlreadyExistsError,
  type CollectionInfo,
  CollectionNotFoundError,
  type FetchedItem,
  InvalidItemError,
  Item,
  type ItemFailure,
  type ItemRef,
  META_KEYS,
  type MetaKey,
  NotFoundError,
  pyStrip,
  type StorageContext,
  UnsupportedError,
  UserError,
  type WritableCollection,
  type Written,
  WrongEtagError,
} from "@vdirsyncer/core";
import { codeOf, replaceFile, syncDir, TargetExistsError, writeNewFile } from "./atomic.ts";
import { type Codec, resolveCodec } from "./codec.ts";
import { IO_CONCURRENCY, mapBounded } from "./concurrency.ts";
import { hrefForIdent, isPlainFileName, randomHref } from "./names.ts";
import { expandPath, type FilesystemOptions } from "./options.ts";

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

/** One vdir folder, opened as a collection. Create it with {@link openVdir}. */
export class VdirCollection implements WritableCollection {
  readonly #codec: Codec;

  /** The absolute path of the folder. */
  readonly dir: string;
  readonly options: FilesystemOptions;
  readonly ctx: StorageContext;

  /** Use {@link openVdir}, which checks that `dir` is a folder. */
  constructor(dir: string, options: FilesystemOptions, ctx: StorageContext) {
    this.dir = dir;
    this.options = options;
    this.ctx = ctx;
    this.#codec = resolveCodec(options.encoding);
  }

  /**
   * Lists the regular files (symlinks followed) whose names end in `fileext` and not in `fileignoreext`.
   *
   * A file removed between reading the folder and its stat is left out. A name that is not UTF-8 cannot be an href
   * and is skipped with a warning.
   * @throws {CollectionNotFoundError} the folder is gone
   */
  async *list(): AsyncIterable<ItemRef> {
    let raw: Buffer[];
    try {
      raw = await readdir(this.dir, { encoding: "buffer" });
    } catch (err) {
      if (codeOf(err) === "ENOENT" || codeOf(err) === "ENOTDIR") throw this.#missingFolder(err);
      throw err;
    }
    const { fileext, fileignoreext } = this.options;
    const names: string[] = [];
    for (const bytes of raw) {
      const name = decodeFileName(bytes);
      if (name === undefined) {
        this.ctx.log.warn(
          `Skipping a file in ${this.dir} whose name is not valid UTF-8: ${bytes.toString("latin1")}`,
        );
        continue;
      }
      if (!name.endsWith(fileext)) continue;
      // vdirsyncer quirk, fixed: with `fileignoreext = ""` it ignores every file; here "" ignores nothing.
      if (fileignoreext !== "" && name.endsWith(fileignoreext)) continue;
      names.push(name);
    }
    const stats = mapBounded(names, IO_CONCURRENCY, async (name) => {
      try {
        return { name, stats: await stat(join(this.dir, name), { bigint: true }) };
      } catch (err) {
        if (MISSING.has(codeOf(err) ?? "")) return undefined; // vanished since readdir, or a dangling link
        throw err;
      }
    });
    for await (const entry of stats) {
      if (entry?.stats.isFile()) yield { href: entry.name, etag: etagOf(entry.stats) };
    }
  }

  /**
   * Reads one item, with the etag of exactly the bytes read.
   * @throws {NotFoundError} no such file, or `href` is not a plain file name inside this folder
   * @throws {InvalidItemError} the bytes are not valid text in `encoding` (the message names the file)
   */
  async get(href: string): Promise<FetchedItem> {
    const result = await this.#read(href);
    if ("error" in result) throw result.error;
    return result;
  }

  /**
   * Reads several items, {@link IO_CONCURRENCY} files at a time, each distinct href once.
   *
   * A file that cannot be decoded yields an {@link ItemFailure} instead of ending the listing.
   * @throws {NotFoundError} one of the hrefs does not exist
   */
  async *getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure> {
    yield* mapBounded([...new Set(hrefs)], IO_CONCURRENCY, (href) => this.#read(href));
  }

  /**
   * Stores a new item as `<ident><fileext>` (or `<uuid><fileext>` when the ident is not a safe file name), then
   * runs `post_hook`.
   * @throws {AlreadyExistsError} a file with that name already exists
   * @throws {InvalidItemError} the text cannot be written in `encoding`
   */
  async upload(item: Item): Promise<Written & { etag: string }> {
    const bytes = this.#encode(item);
    let href = hrefForIdent(item.ident, this.options.fileext);
    let stats: BigIntStats;
    try {
      stats = await this.#create(href, bytes);
    } catch (err) {
      // vdirsyncer behaviour, kept: a UID the file system refuses as a name gets a random one instead.
      if (codeOf(err) !== "ENAMETOOLONG" && codeOf(err) !== "ENOENT") throw err;
      this.ctx.log.debug(`The UID of ${href} cannot be a file name here; using a random one.`);
      href = randomHref(this.options.fileext);
      stats = await this.#create(href, bytes);
    }
    await this.#runHook("post_hook", this.options.post_hook, join(this.dir, href));
    return { href, etag: etagOf(stats) };
  }

  /**
   * Replaces an item's file atomically, keeping its name, then runs `post_hook`.
   * @throws {NotFoundError} the file is gone, or `href` is not a plain file name inside this folder
   * @throws {WrongEtagError} the file changed since `etag` was read
   * @throws {InvalidItemError} the text cannot be written in `encoding`
   */
  async update(href: string, item: Item, etag: string): Promise<{ etag: string }> {
    const path = await this.#checkEtag(href, etag);
    const bytes = this.#encode(item);
    const stats = await replaceFile(this.dir, href, bytes);
    await this.#runHook("post_hook", this.options.post_hook, path);
    return { etag: etagOf(stats) };
  }

  /**
   * Removes an item's file after running `pre_deletion_hook`.
   * @throws {NotFoundError} the file is gone, or `href` is not a plain file name inside this folder
   * @throws {WrongEtagError} the file changed since `etag` was read
   */
  async delete(href: string, etag: string): Promise<void> {
    const path = await this.#checkEtag(href, etag);
    await this.#runHook("pre_deletion_hook", this.options.pre_deletion_hook, path);
    try {
      await unlink(path);
    } catch (err) {
      if (codeOf(err) === "ENOENT") throw new NotFoundError(href, { cause: err });
      throw err;
    }
    await syncDir(this.dir);
  }

  /**
   * Reads the metadata file `key`, decoded and stripped; `undefined` when there is none.
   * @throws {UnsupportedError} `key` is not a vdir metadata key
   * @throws {InvalidItemError} the file is not valid text in `encoding`
   */
  async getMeta(key: MetaKey): Promise<string | undefined> {
    const path = this.#metaPath(key);
    let bytes: Uint8Array;
    try {
      bytes = await readRegularFile(path);
    } catch (err) {
      if (MISSING.has(codeOf(err) ?? "")) return undefined;
      throw err;
    }
    try {
      return pyStrip(this.#codec.decode(bytes));
    } catch (cause) {
      throw new InvalidItemError(
        `Cannot read the ${key} of ${this.dir}: ${path} is not valid ${this.#codec.label} text.`,
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
   * @throws {InvalidItemError} the value cannot be written in `encoding`
   */
  async setMeta(key: MetaKey, value: string | undefined): Promise<void> {
    const path = this.#metaPath(key);
    if (value === undefined) {
      try {
        await unlink(path);
      } catch (err) {
        if (codeOf(err) !== "ENOENT") throw err;
        return;
      }
      await syncDir(this.dir);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(pyStrip(value));
    } catch (cause) {
      throw new InvalidItemError(`Cannot write the ${key} of ${this.dir}: ${(cause as Error).message}.`, {
        cause,
        location: path,
      });
    }
    await replaceFile(this.dir, key, bytes);
  }

  /** Reads and decodes one href; a decoding failure is returned, not thrown, so getMany can go on. */
  async #read(href: string): Promise<FetchedItem | ItemFailure> {
    const path = this.#itemPath(href);
    let bytes: Uint8Array;
    let stats: BigIntStats;
    try {
      const fh = await open(path, "r");
      try {
        // fstat on the open file: the etag belongs to exactly the bytes read, even if the file is replaced meanwhile.
        stats = await fh.stat({ bigint: true });
        if (!stats.isFile())
          throw new NotFoundError(href, { message: `Item not found: ${path} is not a file.` });
        bytes = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (MISSING.has(codeOf(err) ?? "")) throw new NotFoundError(href, { cause: err });
      throw err;
    }
    let text: string;
    try {
      text = this.#codec.decode(bytes);
    } catch (cause) {
      const binary = bytes.includes(0) ? " (it contains NUL bytes, so it looks like a binary file)" : "";
      const error = new InvalidItemError(
        `Cannot read ${path}: it is not valid ${this.#codec.label} text${binary}.`,
        {
          cause,
          href,
          location: path,
          hint: `Fix or remove the file, or set the storage's encoding option to the file's encoding.`,
        },
      );
      return { href, error };
    }
    return { href, etag: etagOf(stats), item: new Item(text) };
  }

  /** Creates a new item file, mapping a taken name to AlreadyExistsError. */
  async #create(href: string, bytes: Uint8Array): Promise<BigIntStats> {
    try {
      return await writeNewFile(this.dir, href, bytes);
    } catch (err) {
      if (err instanceof TargetExistsError) throw new AlreadyExistsError(href, { cause: err });
      throw err;
    }
  }

  /** Checks that `href` is a file whose current etag is `etag`, and returns its path. */
  async #checkEtag(href: string, etag: string): Promise<string> {
    const path = this.#itemPath(href);
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch (err) {
      if (MISSING.has(codeOf(err) ?? "")) throw new NotFoundError(href, { cause: err });
      throw err;
    }
    if (!stats.isFile()) throw new NotFoundError(href, { message: `Item not found: ${path} is not a file.` });
    const actual = etagOf(stats);
    if (actual !== etag) throw new WrongEtagError(href, { expected: etag, actual });
    return path;
  }

  /** The item's text as bytes in `encoding`; refuses what vdirsyncer would refuse. */
  #encode(item: Item): Uint8Array {
    // vdirsyncer behaviour, kept: anything but text (e.g. bytes from a JavaScript caller) is a programming error.
    if (typeof item.raw !== "string") throw new TypeError("item.raw must be a string.");
    try {
      return this.#codec.encode(item.raw);
    } catch (cause) {
      throw new InvalidItemError(`Cannot write an item to ${this.dir}: ${(cause as Error).message}.`, {
        cause,
        location: this.dir,
        hint: "Use an encoding that can hold every character, such as utf-8.",
      });
    }
  }

  /** The path of an href, which MUST be a plain file name in this folder: anything else does not exist here. */
  #itemPath(href: string): string {
    if (!isPlainFileName(href))
      throw new NotFoundError(String(href), {
        message: `Item not found: ${JSON.stringify(href)} is not a file name in ${this.dir}.`,
      });
    return join(this.dir, href);
  }

  #metaPath(key: MetaKey): string {
    if (!META_KEYS.includes(key))
      throw new UnsupportedError(`The filesystem storage has no metadata "${key}".`);
    return join(this.dir, key);
  }

  /**
   * Runs `[hook, path]` without a shell and waits for it. vdirsyncer semantics: a hook that cannot start is a
   * warning, and its exit status is ignored.
   */
  async #runHook(name: string, hook: string | null, path: string): Promise<void> {
    if (hook === null) return;
    this.ctx.log.info(`Calling ${name}=${hook} with argument=${path}`);
    await new Promise<void>((resolve) => {
      execFile(hook, [path], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code === "string") {
          this.ctx.log.warn(`Error executing external hook: ${err.message}`);
        } else if (err) {
          this.ctx.log.debug(
            `${name} ${hook} exited with status ${String((err as { code?: unknown }).code)}.`,
          );
        }
        if (stdout) this.ctx.log.debug(`${name} output: ${stdout.trimEnd()}`);
        if (stderr) this.ctx.log.debug(`${name} errors: ${stderr.trimEnd()}`);
        resolve();
      });
    });
  }

  #missingFolder(cause: unknown): CollectionNotFoundError {
    return new CollectionNotFoundError(this.dir, { cause, message: `Directory ${this.dir} does not exist.` });
  }
}

/**
 * Opens the vdir at `dir` (already `~`-expanded or not).
 * @throws {CollectionNotFoundError} there is no such folder
 * @throws {UserError} the path exists but is not a folder
 */
export async function openVdir(
  dir: string,
  options: FilesystemOptions,
  ctx: StorageContext,
): Promise<VdirCollection> {
  const path = expandPath(dir);
  await checkFolder(path);
  return new VdirCollection(path, options, ctx);
}

/**
 * The collections under `root`: every folder (symlinks followed) whose name does not start with `.`, so `.git`
 * is not one. A missing `root` has none.
 * @throws {UserError} `root` is not a folder
 */
export async function* findVdirs(root: string): AsyncIterable<CollectionInfo> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return;
    if (codeOf(err) === "ENOTDIR") throw notAFolder(root, err);
    throw err;
  }
  names.sort();
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const path = join(root, name);
    try {
      if (!(await stat(path)).isDirectory()) continue;
    } catch (err) {
      if (MISSING.has(codeOf(err) ?? "")) continue;
      throw err;
    }
    yield { id: name, href: path, config: { path } };
  }
}

/**
 * Creates the collection `id` under `root` (or `root` itself for `null`), with parents, mode 0750.
 * An existing folder is fine.
 * @throws {UserError} `id` is not a plain folder name, or the path exists and is not a folder
 */
export async function makeVdir(root: string, id: string | null): Promise<CollectionInfo> {
  if (id !== null && !isPlainFileName(id)) {
    throw new UserError(`Invalid collection name ${JSON.stringify(id)}: it must be a single folder name.`);
  }
  const path = id === null ? root : join(root, id);
  try {
    await mkdir(path, { recursive: true, mode: 0o750 });
  } catch (err) {
    if (codeOf(err) === "EEXIST" || codeOf(err) === "ENOTDIR") throw notAFolder(path, err);
    throw err;
  }
  await checkFolder(path);
  return { id: id ?? basename(path), href: path, config: { path } };
}

async function checkFolder(path: string): Promise<void> {
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

/** Reads a file that must be a regular file; a folder reads as missing. */
async function readRegularFile(path: string): Promise<Uint8Array> {
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

function decodeFileName(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
