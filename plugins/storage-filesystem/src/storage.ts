/**
 * The filesystem storage instance: opens collections from a {@link CollectionRef}, discovers and creates them, and
 * keeps what its collections share so that parallel calls on them are safe.
 */
import {
  type CollectionInfo,
  type CollectionRef,
  type OpenOptions,
  type StorageContext,
  UserError,
} from "@vdirsyncer/core";
import { absoluteFolder, checkFolder, findVdirs, makeVdir } from "./folders.ts";
import { FilesystemOptions } from "./options.ts";
import { VdirCollection, vdirShared } from "./vdir.ts";

/** A filesystem storage made from checked options. */
export class FilesystemStorage {
  readonly options: FilesystemOptions;
  readonly #ctx: StorageContext;
  readonly #shared = vdirShared();

  constructor(options: FilesystemOptions, ctx: StorageContext) {
    this.options = options;
    this.#ctx = ctx;
  }

  /**
   * Opens the folder `path` names: this storage's own for `null`, else the one `ref.config` selects (merged over
   * this storage's options; a key it lacks keeps the option's value). Creates nothing.
   * @throws {CollectionNotFoundError} the folder does not exist
   * @throws {UserError} the path is not a folder, or `ref.config` holds options this storage refuses
   */
  async open(ref: CollectionRef | null, _options?: OpenOptions): Promise<VdirCollection> {
    const options = ref === null ? this.options : this.#optionsFor(ref);
    const dir = absoluteFolder(options.path);
    await checkFolder(dir);
    return new VdirCollection(dir, options, this.#ctx, this.#shared);
  }

  /** The folders under `path` that are collections; see {@link findVdirs}. */
  discover(): AsyncIterable<CollectionInfo> {
    return findVdirs(this.options.path);
  }

  /** Creates `<path>/<id>` (or `path` itself for `null`); see {@link makeVdir}. */
  createCollection(id: string | null): Promise<CollectionInfo> {
    return makeVdir(this.options.path, id);
  }

  /** This storage's options with `ref.config` over them, checked by the same schema as the config file. */
  #optionsFor(ref: CollectionRef): FilesystemOptions {
    // `collection` is the host's key, never a storage option; a cache written by vdirsyncer may still carry it.
    const { collection: _collection, ...config } = ref.config;
    const checked = FilesystemOptions.safeParse({ ...this.options, ...config });
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
