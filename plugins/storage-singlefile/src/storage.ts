/**
 * The singlefile storage instance: opens collections from a {@link CollectionRef}, discovers and creates them, and
 * hands out one collection object per file, so that every call on a file goes through one buffer.
 */
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import {
  type CollectionInfo,
  CollectionNotFoundError,
  type CollectionRef,
  type Logger,
  type OpenOptions,
  type StorageContext,
  UserError,
} from "@vdirsyncer/core";
import { collectionFile, createCollectionFile, expandPath, findCollectionFiles } from "./collection-paths.ts";
import { codecOf, SingleFileOptions } from "./options.ts";
import { SingleFileCollection } from "./single-file.ts";

/** A singlefile storage made from checked options. */
export class SingleFileStorage {
  readonly options: SingleFileOptions;
  readonly #ctx: StorageContext;
  readonly #log: Logger;
  /** One collection per file and instance: two opens of one file share its buffer and its turn-taking. */
  readonly #open = new Map<string, SingleFileCollection>();

  constructor(options: SingleFileOptions, ctx: StorageContext) {
    this.options = options;
    this.#ctx = ctx;
    this.#log = ctx.log;
  }

  /**
   * Opens the file `path` names: this storage's own for `null`, else the one `ref.config` selects (merged over this
   * storage's options; a key it lacks keeps the option's value). Creates nothing.
   * @throws {CollectionNotFoundError} the file does not exist
   * @throws {UserError} something else than a file is there, or `ref.config` holds options this storage refuses
   */
  async open(ref: CollectionRef | null, _options?: OpenOptions): Promise<SingleFileCollection> {
    const options = ref === null ? this.options : this.#optionsFor(ref);
    const file = expandPath(options.path);
    const info = await stat(file).catch(() => undefined);
    if (info === undefined)
      throw new CollectionNotFoundError(file, { message: `File ${file} does not exist.` });
    if (!info.isFile()) throw new UserError(`${file} is not a file.`);
    const codec = codecOf(options);
    const key = `${file}\0${codec.name}`;
    let col = this.#open.get(key);
    if (col === undefined) {
      col = new SingleFileCollection({ path: file, codec, log: this.#log });
      this.#open.set(key, col);
    }
    return col;
  }

  /** The files matching `path` with its `%s` as a wildcard; see {@link findCollectionFiles}. */
  discover(): AsyncIterable<CollectionInfo> {
    return findCollectionFiles(expandPath(this.options.path));
  }

  /**
   * Creates the file of collection `id` (or the configured file for `null`), empty, with its folders; an existing
   * file is left alone. `config.path` is the absolute file, as vdirsyncer caches it.
   * @throws {UserError} `id` is given and `path` does not hold exactly one `%s`, or a folder is in the way
   */
  async createCollection(id: string | null): Promise<CollectionInfo> {
    const path = expandPath(this.options.path);
    const file = id === null ? path : collectionFile(path, id);
    await createCollectionFile(file);
    // Like the filesystem storage, a null collection is named after its location.
    return { id: id ?? basename(file), href: file, config: { path: file } };
  }

  /** Forgets the collections handed out (their buffers go with them once the host drops them too). */
  async close(): Promise<void> {
    this.#open.clear();
  }

  /** This storage's options with `ref.config` over them, checked by the same schema as the config file. */
  #optionsFor(ref: CollectionRef): SingleFileOptions {
    // `collection` is the host's key, never a storage option; a cache written by vdirsyncer may still carry it.
    const { collection: _collection, ...config } = ref.config;
    const checked = SingleFileOptions.safeParse({ ...this.options, ...config });
    if (!checked.success) {
      throw new UserError(
        `The collection ${JSON.stringify(ref.id)} of ${this.#ctx.instance} has an invalid config.`,
        {
          problems: checked.error.issues.map(
            (i) => `${i.path.map(String).join(".") || "config"}: ${i.message}`,
          ),
          hint: "Run `vdirsyncer discover` again to renew the collection configs it keeps.",
        },
      );
    }
    return checked.data;
  }
}
