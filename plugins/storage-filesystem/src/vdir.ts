/**
 * A vdir: one folder per collection, one file per item, metadata in extension-less files next to them.
 */
import type { BigIntStats } from "node:fs";
import { open, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  AlreadyExistsError,
  CollectionNotFoundError,
  type FetchedItem,
  InvalidItemError,
  Item,
  type ItemFailure,
  type ItemRef,
  type MetaKey,
  NotFoundError,
  type StorageContext,
  type WritableCollection,
  type Written,
  WrongEtagError,
  watchFolder,
} from "@vdirsyncer/core";
import { codeOf, replaceFile, syncDir, TargetExistsError, writeNewFile } from "./atomic.ts";
import { type Codec, resolveCodec } from "./codec.ts";
import { IO_CONCURRENCY, KeyedMutex, mapBounded, Semaphore } from "./concurrency.ts";
import { decodeFileName, etagOf, isMissing } from "./files.ts";
import { runHook } from "./hooks.ts";
import { isTempName, removeLeftovers } from "./leftovers.ts";
import { readMeta, writeMeta } from "./meta.ts";
import { hrefForIdent, isPlainFileName, randomHref } from "./names.ts";
import type { FilesystemOptions } from "./options.ts";

export { etagOf } from "./files.ts";

/** What the collections of one storage instance share, so that parallel calls on them stay safe. */
export interface VdirShared {
  /** One write at a time per file (a check and the write that depends on it stay together). */
  files: KeyedMutex;
  /** Bounds the files read at once over the whole instance. */
  reads: Semaphore;
  /** Folders whose leftovers from interrupted runs were looked for already. */
  cleaned: Set<string>;
}

/** A fresh {@link VdirShared}, for one storage instance. */
export function vdirShared(): VdirShared {
  return { files: new KeyedMutex(), reads: new Semaphore(2 * IO_CONCURRENCY), cleaned: new Set() };
}

/** One vdir folder, opened as a collection. A storage's `open()` checks that `dir` is a folder first. */
export class VdirCollection implements WritableCollection {
  readonly #codec: Codec;
  readonly #shared: VdirShared;

  /** The absolute path of the folder. */
  readonly dir: string;
  readonly options: FilesystemOptions;
  readonly ctx: StorageContext;

  constructor(
    dir: string,
    options: FilesystemOptions,
    ctx: StorageContext,
    shared: VdirShared = vdirShared(),
  ) {
    this.dir = dir;
    this.options = options;
    this.ctx = ctx;
    this.#codec = resolveCodec(options.encoding);
    this.#shared = shared;
  }

  /**
   * Lists the regular files (symlinks followed) whose names end in `fileext` and not in `fileignoreext`; our own
   * temporary files never. The first listing of a folder also removes the temporary files an interrupted run of
   * ours provably left there.
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
    const temps: string[] = [];
    for (const bytes of raw) {
      const name = decodeFileName(bytes);
      if (name === undefined) {
        this.ctx.log.warn(
          `Skipping a file in ${this.dir} whose name is not valid UTF-8: ${bytes.toString("latin1")}`,
        );
        continue;
      }
      if (isTempName(name)) {
        temps.push(name);
        continue;
      }
      if (!name.endsWith(fileext)) continue;
      // vdirsyncer quirk, fixed: with `fileignoreext = ""` it ignores every file; here "" ignores nothing.
      if (fileignoreext !== "" && name.endsWith(fileignoreext)) continue;
      names.push(name);
    }
    await this.#removeLeftovers(temps);
    const stats = mapBounded(names, IO_CONCURRENCY, (name) =>
      this.#shared.reads.run(async () => {
        try {
          return { name, stats: await stat(join(this.dir, name), { bigint: true }) };
        } catch (err) {
          if (isMissing(err)) return undefined; // vanished since readdir, or a dangling link
          throw err;
        }
      }),
    );
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
    const href = hrefForIdent(item.ident, this.options.fileext);
    let written = await this.#locked(href, () => this.#uploadAs(href, bytes)).catch((err: unknown) => {
      // vdirsyncer behaviour, kept: a UID the file system refuses as a name gets a random one instead.
      if (codeOf(err) !== "ENAMETOOLONG" && codeOf(err) !== "ENOENT") throw err;
      this.ctx.log.debug(`The UID of ${href} cannot be a file name here; using a random one.`);
      return undefined;
    });
    if (written === undefined) {
      const other = randomHref(this.options.fileext);
      written = await this.#locked(other, () => this.#uploadAs(other, bytes));
    }
    return written;
  }

  /**
   * Replaces an item's file atomically, keeping its name, then runs `post_hook`.
   * @throws {NotFoundError} the file is gone, or `href` is not a plain file name inside this folder
   * @throws {WrongEtagError} the file changed since `etag` was read
   * @throws {InvalidItemError} the text cannot be written in `encoding`
   */
  async update(href: string, item: Item, etag: string): Promise<{ etag: string }> {
    const bytes = this.#encode(item);
    return this.#locked(href, async () => {
      const path = await this.#checkEtag(href, etag);
      const stats = await replaceFile(this.dir, href, bytes);
      await runHook(this.ctx.log, "post_hook", this.options.post_hook, path);
      return { etag: etagOf(stats) };
    });
  }

  /**
   * Removes an item's file after running `pre_deletion_hook`.
   * @throws {NotFoundError} the file is gone, or `href` is not a plain file name inside this folder
   * @throws {WrongEtagError} the file changed since `etag` was read
   */
  async delete(href: string, etag: string): Promise<void> {
    await this.#locked(href, async () => {
      const path = await this.#checkEtag(href, etag);
      await runHook(this.ctx.log, "pre_deletion_hook", this.options.pre_deletion_hook, path);
      try {
        await unlink(path);
      } catch (err) {
        if (codeOf(err) === "ENOENT") throw new NotFoundError(href, { cause: err });
        throw err;
      }
      await syncDir(this.dir);
    });
  }

  /**
   * Reads the metadata file `key`, decoded and stripped; `undefined` when there is none.
   * @throws {UnsupportedError} `key` is not a vdir metadata key
   * @throws {InvalidItemError} the file is not valid text in `encoding`
   */
  getMeta(key: MetaKey): Promise<string | undefined> {
    return readMeta(this.dir, this.#codec, key);
  }

  /**
   * Writes the metadata file `key` atomically: the stripped value, without a trailing newline. `undefined` removes it.
   * @throws {UnsupportedError} `key` is not a vdir metadata key
   * @throws {InvalidItemError} the value cannot be written in `encoding`
   */
  setMeta(key: MetaKey, value: string | undefined): Promise<void> {
    return this.#shared.files.run(join(this.dir, key), () => writeMeta(this.dir, this.#codec, key, value));
  }

  /**
   * Calls `onChange` (debounced) whenever a file of the folder is created, written, renamed or removed by anyone,
   * our own temporary files aside, until `signal` aborts; follows the folder when it is replaced.
   * @throws {CollectionNotFoundError} the folder does not exist
   */
  watch(onChange: () => void, signal: AbortSignal): void {
    const { fileignoreext } = this.options;
    const relevant = (name: string) =>
      !isTempName(name) && (fileignoreext === "" || !name.endsWith(fileignoreext));
    try {
      watchFolder(this.dir, relevant, onChange, signal);
    } catch (err) {
      if (codeOf(err) === "ENOENT" || codeOf(err) === "ENOTDIR") throw this.#missingFolder(err);
      throw err;
    }
  }

  /** Reads and decodes one href; a decoding failure is returned, not thrown, so getMany can go on. */
  #read(href: string): Promise<FetchedItem | ItemFailure> {
    const path = this.#itemPath(href);
    return this.#shared.reads.run(async () => {
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
        if (isMissing(err)) throw new NotFoundError(href, { cause: err });
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
      return { href, etag: etagOf(stats), item: new Item(withoutBom(text)) };
    });
  }

  /** Creates the file of a new item and runs `post_hook`; a taken name is AlreadyExistsError. */
  async #uploadAs(href: string, bytes: Uint8Array): Promise<Written & { etag: string }> {
    let stats: BigIntStats;
    try {
      stats = await writeNewFile(this.dir, href, bytes);
    } catch (err) {
      if (err instanceof TargetExistsError) throw new AlreadyExistsError(href, { cause: err });
      throw err;
    }
    await runHook(this.ctx.log, "post_hook", this.options.post_hook, join(this.dir, href));
    return { href, etag: etagOf(stats) };
  }

  /** Runs `task` while no other write of the same file (through any collection of this instance) runs. */
  #locked<T>(href: string, task: () => Promise<T>): Promise<T> {
    return this.#shared.files.run(this.#itemPath(href), task);
  }

  /** Checks that `href` is a file whose current etag is `etag`, and returns its path. */
  async #checkEtag(href: string, etag: string): Promise<string> {
    const path = this.#itemPath(href);
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(href, { cause: err });
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

  /** Removes, once per folder and instance, the temporary files interrupted runs of ours left among `temps`. */
  async #removeLeftovers(temps: readonly string[]): Promise<void> {
    if (temps.length === 0 || this.#shared.cleaned.has(this.dir)) return;
    this.#shared.cleaned.add(this.dir);
    for (const name of await removeLeftovers(this.dir, temps)) {
      this.ctx.log.info(`Removed ${join(this.dir, name)}, left over by an interrupted sync.`);
    }
  }

  #missingFolder(cause: unknown): CollectionNotFoundError {
    return new CollectionNotFoundError(this.dir, { cause, message: `Directory ${this.dir} does not exist.` });
  }
}

/**
 * An item's text without a leading byte-order mark. Decoding keeps a BOM as U+FEFF, as Python does; vdirsyncer then
 * copies the file as it is, but the first line no longer reads as `BEGIN:`, so no parser (ours, vdirsyncer's, khal's)
 * could read the item. Editors on Windows write one; dropping it loses nothing.
 */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
