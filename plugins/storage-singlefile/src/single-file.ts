import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import {
  AlreadyExistsError,
  CollectionNotFoundError,
  type FetchedItem,
  InvalidItemError,
  type Item,
  type ItemRef,
  joinCollection,
  type Logger,
  NotFoundError,
  PreconditionFailedError,
  splitCollection,
  UserError,
  type WritableCollection,
  type Written,
  WrongEtagError,
  watchFolder,
} from "@vdirsyncer/core";
import { type Codec, findUndecodableLine } from "./codec.ts";
import { type FileVersion, readSnapshot, stampOf, writeFileAtomic } from "./file-io.ts";

/** One item of the index. `etag` is the item's content hash, as in vdirsyncer (status-format.md). */
interface Entry {
  item: Item;
  etag: string;
}

/** What the collection knows about the file it last read or wrote. */
interface Loaded {
  index: Map<string, Entry>;
  version: FileVersion;
  mode: number;
}

/**
 * The href of the `n`th (n ≥ 2) item sharing one ident. Only the first keeps `href = ident`, as in vdirsyncer;
 * later ones get this form so that they stay distinct instead of overwriting the first.
 */
export function duplicateHref(ident: string, n: number): string {
  return `${ident} (duplicate ${n})`;
}

/**
 * Gives every item an href: its ident, or {@link duplicateHref} for the second and later items with the same ident.
 *
 * vdirsyncer keys items by ident, so a file with two VCARDs sharing a UID silently loses one at the next write
 * (pain-points.md item 9). Keeping both under distinct hrefs lets the engine see two items with one ident and stop
 * the collection with an ident conflict (and a repair hint) instead. A suffix never takes an href that is some other
 * item's real ident.
 * @returns the index in file order, and the idents that occur more than once
 */
export function indexItems(items: readonly Item[]): { index: Map<string, Entry>; duplicates: string[] } {
  const idents = items.map((item) => item.ident);
  const taken = new Set(idents);
  const index = new Map<string, Entry>();
  const duplicates = new Set<string>();
  items.forEach((item, i) => {
    const ident = idents[i] as string;
    let href = ident;
    if (index.has(href)) {
      duplicates.add(ident);
      for (let n = 2; ; n++) {
        href = duplicateHref(ident, n);
        if (!taken.has(href) && !index.has(href)) break;
      }
    }
    index.set(href, { item, etag: item.hash });
  });
  return { index, duplicates: [...duplicates] };
}

/** How a {@link SingleFileCollection} reads, writes and reports. */
export interface SingleFileOptions {
  /** Absolute path of the file. */
  path: string;
  codec: Codec;
  log: Logger;
}

/**
 * One collection kept in one `.ics`/`.vcf` file.
 *
 * The file is read and split once into an index (href → item); reads and writes then cost O(1). Writes are buffered
 * and {@link SingleFileCollection.flush} writes the file once, atomically, and only when something changed.
 * While nothing is buffered, every call first compares the file's stat with the one it was read at and re-reads it
 * when another program changed it. Calls run one at a time, in the order they were made.
 */
export class SingleFileCollection implements WritableCollection {
  readonly #path: string;
  readonly #codec: Codec;
  readonly #log: Logger;
  #loaded: Loaded | undefined;
  #dirty = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: SingleFileOptions) {
    this.#path = options.path;
    this.#codec = options.codec;
    this.#log = options.log;
  }

  /** The absolute path of the file. */
  get path(): string {
    return this.#path;
  }

  /**
   * Lists every item as `(href, etag)`, in file order, buffered writes included.
   * @throws {CollectionNotFoundError} the file does not exist
   * @throws {InvalidItemError} the file is not valid in the configured encoding, or cannot be parsed
   */
  async *list(): AsyncIterable<ItemRef> {
    const refs = await this.#exclusive(async () => {
      const { index } = await this.#fresh();
      return Array.from(index, ([href, { etag }]) => ({ href, etag }));
    });
    yield* refs;
  }

  /**
   * Reads one item.
   * @throws {NotFoundError} no item has this href
   */
  get(href: string): Promise<FetchedItem> {
    return this.#exclusive(async () => {
      const { index } = await this.#fresh();
      return this.#fetch(index, href);
    });
  }

  /**
   * Reads several items from the index; duplicate hrefs are read once.
   * @throws {NotFoundError} one of the hrefs does not exist (nothing is yielded then)
   */
  async *getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem> {
    if (hrefs.length === 0) return;
    const fetched = await this.#exclusive(async () => {
      const { index } = await this.#fresh();
      return [...new Set(hrefs)].map((href) => this.#fetch(index, href));
    });
    yield* fetched;
  }

  /**
   * Adds an item under `href = item.ident`; it reaches the file at the next {@link flush}.
   * @throws {AlreadyExistsError} an item already has this href
   */
  upload(item: Item): Promise<Written> {
    return this.#exclusive(async () => {
      const { index } = await this.#fresh();
      const href = item.ident;
      if (index.has(href)) throw new AlreadyExistsError(href);
      const etag = item.hash;
      index.set(href, { item, etag });
      this.#dirty = true;
      return { href, etag };
    });
  }

  /**
   * Replaces an item in place (it keeps its href and position); it reaches the file at the next {@link flush}.
   * @throws {NotFoundError} no item has this href
   * @throws {WrongEtagError} the item changed after it was listed
   */
  update(href: string, item: Item, etag: string): Promise<Pick<Written, "etag">> {
    return this.#exclusive(async () => {
      const { index } = await this.#fresh();
      this.#check(index, href, etag);
      const newEtag = item.hash;
      index.set(href, { item, etag: newEtag });
      this.#dirty = true;
      return { etag: newEtag };
    });
  }

  /**
   * Removes an item; the file loses it at the next {@link flush}.
   * @throws {NotFoundError} no item has this href
   * @throws {WrongEtagError} the item changed after it was listed
   */
  delete(href: string, etag: string): Promise<void> {
    return this.#exclusive(async () => {
      const { index } = await this.#fresh();
      this.#check(index, href, etag);
      index.delete(href);
      this.#dirty = true;
    });
  }

  /**
   * Writes the buffered changes: the whole file once, joined as vdirsyncer joins it, atomically. Does nothing when
   * nothing changed since the file was read (vdirsyncer rewrites the file on every sync; we don't).
   *
   * MUST NOT write when another program changed the file since it was read. After a failed flush the buffered
   * writes are dropped and the next call reads the file again, so nothing half-applied survives.
   * @throws {PreconditionFailedError} another program modified or removed the file; nothing was written
   * @throws {InvalidItemError} the items cannot be joined or encoded; nothing was written
   */
  flush(): Promise<void> {
    return this.#exclusive(async () => {
      const loaded = this.#loaded;
      if (!this.#dirty || loaded === undefined) return;
      try {
        const bytes = this.#serialise(loaded.index);
        await this.#requireUnchanged(loaded.version);
        await writeFileAtomic(this.#path, bytes, loaded.mode);
      } finally {
        // Success or not, the next call re-reads the file: after a success its re-split items (joined items pick up
        // the shared VTIMEZONEs and wrapper lines) are what a later listing must show; after a failure the buffered
        // writes must not linger.
        this.#loaded = undefined;
        this.#dirty = false;
      }
    });
  }

  /**
   * Calls `onChange` (debounced) whenever the file is written, replaced or removed, by anyone, until `signal` aborts.
   * Watches the file's folder (editors and vdirsyncer replace the file by a rename there) and follows the folder when
   * it is replaced; temporary files next to the file are ignored.
   * @throws {CollectionNotFoundError} the file's folder does not exist
   */
  watch(onChange: () => void, signal: AbortSignal): void {
    const name = basename(this.#path);
    try {
      watchFolder(dirname(this.#path), (file) => file === name, onChange, signal);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new CollectionNotFoundError(this.#path, {
          message: `The folder of ${this.#path} does not exist.`,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Runs `task` after every earlier call has settled, so loads and writes never interleave. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** The index, read from the file unless the buffered one is still current. */
  async #fresh(): Promise<Loaded> {
    const loaded = this.#loaded;
    // Buffered writes are never replaced by a re-read; flush() detects a concurrent change instead.
    if (loaded !== undefined && this.#dirty) return loaded;
    if (loaded !== undefined) {
      const now = await stat(this.#path, { bigint: true }).catch(() => undefined);
      if (now !== undefined && stampOf(now) === loaded.version.stamp) return loaded;
    }
    this.#loaded = await this.#load();
    return this.#loaded;
  }

  async #load(): Promise<Loaded> {
    let snapshot: Awaited<ReturnType<typeof readSnapshot>>;
    try {
      snapshot = await readSnapshot(this.#path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new CollectionNotFoundError(this.#path, {
          message: `File ${this.#path} does not exist.`,
          cause: err,
        });
      }
      if (code === "EISDIR") throw new UserError(`${this.#path} is not a file.`, { cause: err });
      throw err;
    }
    let text: string;
    try {
      text = this.#codec.decode(snapshot.bytes);
    } catch (err) {
      const line = findUndecodableLine(snapshot.bytes, this.#codec);
      throw new InvalidItemError(
        `The file ${this.#path} is not valid ${this.#codec.name}${line === undefined ? "" : ` (line ${line})`}.`,
        {
          cause: err,
          location: this.#path,
          hint: "Set the storage's encoding option to the file's encoding, or convert the file.",
        },
      );
    }
    let items: Item[];
    try {
      items = splitCollection(text);
    } catch (err) {
      throw new InvalidItemError(`Cannot parse the file ${this.#path}: ${reason(err)}`, {
        cause: err,
        location: this.#path,
      });
    }
    const { index, duplicates } = indexItems(items);
    for (const ident of duplicates) {
      this.#log.warn(
        `The file ${this.#path} holds several items with the UID ${ident}; ` +
          `run "vdirsyncer repair" to give each its own UID.`,
      );
    }
    return { index, version: snapshot.version, mode: snapshot.mode };
  }

  #fetch(index: Map<string, Entry>, href: string): FetchedItem {
    const entry = index.get(href);
    if (entry === undefined) throw new NotFoundError(href);
    return { href, etag: entry.etag, item: entry.item };
  }

  #check(index: Map<string, Entry>, href: string, etag: string): void {
    const entry = index.get(href);
    if (entry === undefined) throw new NotFoundError(href);
    if (entry.etag !== etag) throw new WrongEtagError(href, { expected: etag, actual: entry.etag });
  }

  #serialise(index: Map<string, Entry>): Uint8Array {
    let text: string;
    try {
      text = joinCollection(Array.from(index.values(), (entry) => entry.item));
    } catch (err) {
      throw new InvalidItemError(`Cannot write the file ${this.#path}: ${reason(err)}`, {
        cause: err,
        location: this.#path,
      });
    }
    try {
      return this.#codec.encode(text);
    } catch (err) {
      throw new InvalidItemError(
        `Cannot write the file ${this.#path} as ${this.#codec.name}: ${reason(err)}`,
        {
          cause: err,
          location: this.#path,
          hint: "Set the storage's encoding option to utf-8.",
        },
      );
    }
  }

  /** @throws {PreconditionFailedError} the file is not the one we read */
  async #requireUnchanged(version: FileVersion): Promise<void> {
    // The stat catches nearly every change cheaply; the digest catches a same-size rewrite within one mtime tick.
    const now = await stat(this.#path, { bigint: true }).catch(() => undefined);
    let same = now !== undefined && stampOf(now) === version.stamp;
    if (same) {
      const current = await readSnapshot(this.#path).catch(() => undefined);
      same = current?.version.stamp === version.stamp && current.version.digest === version.digest;
    }
    if (!same) {
      const err = new PreconditionFailedError(
        `Some other program modified the file ${this.#path} during the sync, so it was not written.`,
        { context: { location: this.#path } },
      );
      err.hint = "Re-run the sync and make sure no other program writes into the same file meanwhile.";
      throw err;
    }
  }
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /[.!?]$/.test(message) ? message : `${message}.`;
}
