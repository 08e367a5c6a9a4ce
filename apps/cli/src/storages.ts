/**
 * Storages from config sections, the contract's way: ONE hosted storage per `[storage …]` section per run (the
 * plugin's options checked with its schema first), shared by every pair and collection that uses the section and
 * closed when the command ends. A collection is opened from its reference (`open({id, config})`, the id and the
 * discovery cache's delta), or `open(null)` for `collections = null`; a missing one is created as vdirsyncer does.
 */
import type { JsonValue } from "@vdirsyncer/config";
import {
  type CollectionRef,
  createStorage,
  type HostedCollection,
  type HostedStorage,
  isVdirsyncerError,
  type StatsSink,
  type StorageDefinition,
  UserError,
} from "@vdirsyncer/core/engine";
import { pythonJsonDumps } from "@vdirsyncer/status";
import type { AppContext } from "./context.ts";
import { confirm } from "./prompt.ts";

/** A storage's arguments: its section (resolved), or a collection's delta from discovery. */
export type StorageArgs = Record<string, JsonValue>;

/** Keys the host consumes; everything else goes to the plugin. */
const HOST_KEYS = new Set(["type", "read_only", "no_delete", "instance_name", "collection"]);

/**
 * vdirsyncer's message (`storage/base.py`) for `read_only = false` on a storage type that can only read; the same
 * text as `READ_ONLY_ONLY` of `@vdirsyncer/storage-http`, kept here because it holds for every read-only plugin.
 */
export const READ_ONLY_ONLY = "This storage can only be read-only.";

/** The storage of one `[storage …]` section for this run. */
export interface SectionStorage {
  /** The section's name (`instance_name`). */
  name: string;
  /** The section's arguments as resolved (fetched values included). */
  section: StorageArgs;
  definition: StorageDefinition;
  hosted: HostedStorage;
  readOnly: boolean;
  noDelete: boolean;
}

/** One opened collection. */
export interface OpenedCollection {
  storage: SectionStorage;
  collection: HostedCollection;
  /** `section` or `section/collection`. */
  instance: string;
  readOnly: boolean;
  noDelete: boolean;
  /** The delta it was opened with (`{collection, …config}`), after an implicit creation. */
  delta: StorageArgs;
}

function problemsOf(type: string, options: Record<string, unknown>, issues: readonly unknown[]): string[] {
  const missing: string[] = [];
  const problems: string[] = [];
  for (const raw of issues) {
    const issue = raw as { message: string; path?: readonly unknown[]; code?: string; keys?: string[] };
    const path = (issue.path ?? []).map((p) =>
      typeof p === "object" && p !== null && "key" in p ? String((p as { key: unknown }).key) : String(p),
    );
    if (issue.code === "unrecognized_keys" && Array.isArray(issue.keys)) {
      problems.push(`${type} storage doesn't take the parameters: ${issue.keys.join(", ")}`);
    } else if (path.length === 1 && !((path[0] as string) in options)) {
      missing.push(path[0] as string);
    } else {
      problems.push(path.length > 0 ? `${path.join(".")}: ${issue.message}` : issue.message);
    }
  }
  if (missing.length > 0) problems.unshift(`${type} storage requires the parameters: ${missing.join(", ")}`);
  return problems;
}

/** The plugin options of a section: every key but the host's and the `.fetch` ones. */
function pluginOptions(args: StorageArgs): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!HOST_KEYS.has(k) && !k.endsWith(".fetch")) options[k] = v;
  return options;
}

/** The storages this run opened, one per section; {@link closeAll} closes them. */
export class StorageHost {
  readonly #ctx: AppContext;
  readonly #sections = new Map<string, Promise<SectionStorage>>();
  readonly #hosted: HostedStorage[] = [];

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  /**
   * The storage of the section `args` was resolved from (built on first use).
   * @throws {UserError} `Failed to initialize <section>` with vdirsyncer's problem lines, an unknown type, or the
   *   plugin refusing the options
   */
  section(args: StorageArgs): Promise<SectionStorage> {
    const name = String(args.instance_name);
    let pending = this.#sections.get(name);
    if (!pending) {
      pending = this.#build(name, args);
      this.#sections.set(name, pending);
    }
    return pending;
  }

  async #build(name: string, args: StorageArgs): Promise<SectionStorage> {
    const ctx = this.#ctx;
    if (typeof args.type !== "string") {
      throw new UserError(`Failed to initialize ${name}`, {
        problems: ["the storage section has no `type`"],
      });
    }
    const config = await ctx.config();
    const written = config.storages.get(name)?.source;
    const plugin = await (await ctx.plugins()).load(args.type, {
      section: `storage ${name}`,
      file: written?.file ?? config.file,
      line: written?.lines?.type ?? written?.line,
    });
    const { definition } = plugin;
    // vdirsyncer: an unset (or null) `read_only` means the type's default; any falsy value on a read-only type is
    // refused. We refuse it too, but name the section (vdirsyncer prints the bare sentence).
    if (
      definition.capabilities.readOnly &&
      args.read_only !== undefined &&
      args.read_only !== null &&
      !args.read_only
    ) {
      throw new UserError(`Failed to initialize ${name}`, {
        problems: [READ_ONLY_ONLY],
        hint: `Remove \`read_only = ${pythonJsonDumps(args.read_only)}\` from [storage ${name}]: the ${definition.type} storage cannot write.`,
      });
    }
    const options = pluginOptions(args);
    const checked = await definition.options["~standard"].validate(options);
    if (checked.issues) {
      throw new UserError(`Failed to initialize ${name}`, {
        problems: problemsOf(definition.type, options, checked.issues),
        hint: `See the options of the ${definition.type} storage in its README.`,
      });
    }
    const hosted = await createStorage(definition, checked.value, {
      instance: name,
      log: ctx.out,
      source: plugin.source,
      stats: ctx.stats,
      signal: ctx.halt.signal,
    });
    this.#hosted.push(hosted);
    return {
      name,
      section: args,
      definition,
      hosted,
      readOnly: args.read_only === true || definition.capabilities.readOnly,
      noDelete: args.no_delete === true,
    };
  }

  /** Closes every storage this run opened (each once); a failure is logged, the others still close. */
  async closeAll(): Promise<void> {
    const hosted = this.#hosted.splice(0);
    const results = await Promise.allSettled(hosted.map((h) => h.close()));
    for (const r of results) {
      if (r.status === "rejected") {
        const err = r.reason as Error;
        this.#ctx.out.warn(`Closing a storage failed: ${err?.message ?? String(err)}`);
      }
    }
  }
}

/**
 * The reference to open a cached collection with: `{id, config}` from its delta (`{collection: "work", path: …}`
 * minus `collection`), or `null` for the configured location (`collection` null or absent).
 */
export function refOf(delta: StorageArgs): CollectionRef | null {
  const id = delta.collection;
  if (typeof id !== "string") return null;
  const config: Record<string, JsonValue> = { ...delta };
  delete config.collection;
  return { id, config };
}

/** `section` or `section/collection`. */
export function instanceOf(storage: SectionStorage, delta: StorageArgs): string {
  return typeof delta.collection === "string" ? `${storage.name}/${delta.collection}` : storage.name;
}

/** Options of {@link createCollectionFor}. */
export interface CreateOptions {
  /** Create without asking (`implicit = "create"`, and outside `discover`). */
  implicit: boolean;
  /** The error message that came with the missing collection, printed before the warning. */
  reason?: string;
}

/**
 * vdirsyncer's `handle_collection_not_found`: warns `No collection "<c>" found for storage <inst>.`, asks
 * `Should vdirsyncer attempt to create it?` unless `implicit`, and creates the collection.
 * @returns the delta for the created collection (`{collection, …config}`)
 * @throws {UserError} `Unable to find or create collection …` after a "no" or when the storage cannot create
 */
export async function createCollectionFor(
  ctx: AppContext,
  storage: SectionStorage,
  collection: string | null,
  options: CreateOptions,
): Promise<StorageArgs> {
  ctx.out.warn(
    `${options.reason ? `${options.reason}\n` : ""}No collection ${pythonJsonDumps(collection)} found for storage ${storage.name}.`,
  );
  const unable = () =>
    new UserError(
      `Unable to find or create collection "${collection}" for storage "${storage.name}". Please create the collection yourself.`,
      { hint: "Create it with your calendar or contacts program, then run `vdirsyncer discover` again." },
    );
  if (!options.implicit && !(await confirm(ctx.out, ctx.reader, "Should vdirsyncer attempt to create it?"))) {
    throw unable();
  }
  if (!storage.definition.capabilities.createCollection) {
    ctx.out.error(`The ${storage.definition.type} storage cannot create collections.`);
    throw unable();
  }
  const info = await storage.hosted.createCollection(collection);
  const config: StorageArgs = { ...(info.config as StorageArgs) };
  delete config.collection;
  return { collection, ...config };
}

/** Options of {@link openCollection}. */
export interface OpenOptions {
  /** Create a missing collection after a warning (vdirsyncer's implicit creation). */
  create: boolean;
  /** Aborted for a hard stop of this collection. */
  signal?: AbortSignal;
  /** Receives this collection's counters. */
  stats?: StatsSink;
}

/**
 * Opens the collection `delta` points at on `storage`, as vdirsyncer's `storage_instance_from_config(create=True)`
 * does: when it does not exist, it is created after a warning (no question asked), unless `create` is false.
 * @throws {CollectionNotFoundError} missing and `create` is false
 * @throws {UserError} the collection is missing and cannot be created
 */
export async function openCollection(
  ctx: AppContext,
  storage: SectionStorage,
  delta: StorageArgs,
  options: OpenOptions,
): Promise<OpenedCollection> {
  const open = async (d: StorageArgs): Promise<OpenedCollection> => ({
    storage,
    collection: await storage.hosted.open(refOf(d), { signal: options.signal, stats: options.stats }),
    instance: instanceOf(storage, d),
    readOnly: storage.readOnly,
    noDelete: storage.noDelete,
    delta: d,
  });
  try {
    return await open(delta);
  } catch (err) {
    if (!options.create || !isVdirsyncerError(err, "COLLECTION_NOT_FOUND")) throw err;
    const collection = typeof delta.collection === "string" ? delta.collection : null;
    const created = await createCollectionFor(ctx, storage, collection, {
      implicit: true,
      reason: err.message,
    });
    // What creation reports wins over the cached delta, as vdirsyncer merges them.
    return open({ ...delta, ...created });
  }
}
