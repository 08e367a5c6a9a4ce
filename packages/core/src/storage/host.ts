/**
 * The host side of the contract: how the command (or a library user) runs a plugin's storage safely.
 *
 * A hosted storage enforces what a plugin declares and nothing more: at most `capabilities.concurrency` calls at
 * once per storage instance (1 when undeclared), counted over all its collections and including open iterations;
 * anything thrown that is not one of the contract's errors becomes a {@link PluginError} (a bug in that plugin) or
 * an {@link EnvironmentError} (the disk or the network); items read and written are counted into the stats.
 */
import {
  EnvironmentError,
  environmentCodeOf,
  isVdirsyncerError,
  PluginError,
  type PluginSource,
  StoppedError,
  UnsupportedError,
  type VdirsyncerError,
} from "../errors.ts";
import type {
  CheckReport,
  CollectionInfo,
  CollectionRef,
  Logger,
  ReadableCollection,
  StatsSink,
  Storage,
  StorageDefinition,
  WritableCollection,
} from "./contract.ts";
import { Limiter } from "./limiter.ts";

const HOSTED = Symbol.for("vdirsyncer.hosted-collection");

/** A collection as a host hands it out: the plugin's methods behind the storage instance's limit. */
export type HostedCollection = ReadableCollection & Partial<WritableCollection>;

/** A stats sink that drops everything. */
export const NO_STATS: StatsSink = Object.freeze({ add() {} });

const NEVER = new AbortController().signal;

/** Options of {@link HostedStorage.open}. */
export interface HostedOpenOptions {
  /** Aborts this collection's calls (a hard stop); waiting calls throw {@link StoppedError}. */
  signal?: AbortSignal;
  /** Receives this collection's counters. */
  stats?: StatsSink;
}

/** A plugin's storage instance behind the contract's guarantees; see {@link hostStorage}. */
export interface HostedStorage {
  readonly definition: StorageDefinition;
  readonly source: PluginSource;
  /** `section` of `[storage section]`. */
  readonly instance: string;
  /**
   * Opens a collection (see {@link Storage.open}); its calls share this instance's limit.
   * @throws {CollectionNotFoundError} the collection does not exist
   */
  open(ref: CollectionRef | null, options?: HostedOpenOptions): Promise<HostedCollection>;
  /** The storage's collections; nothing when it cannot discover (vdirsyncer treats that as "none"). */
  discover(): AsyncIterable<CollectionInfo>;
  /**
   * Creates a collection.
   * @throws {UnsupportedError} the storage cannot create collections
   */
  createCollection(id: string | null): Promise<CollectionInfo>;
  /** The storage's own check, or `undefined` when it has none (local storages). */
  check(): Promise<CheckReport | undefined>;
  /** Closes the plugin's storage once; later calls do nothing. */
  close(): Promise<void>;
}

/** Options of {@link hostStorage}. */
export interface HostStorageOptions {
  instance: string;
  /** Which package the plugin came from, for error messages. @default the definition's type only */
  source?: Omit<PluginSource, "type">;
  /** Where calls outside any collection report their cost. */
  stats?: StatsSink;
  log?: Logger;
}

/**
 * Turns anything a plugin threw into one of our errors: the contract's errors pass (with context added), an abort
 * the host asked for becomes {@link StoppedError}, a system or network failure an {@link EnvironmentError}, and
 * everything else a {@link PluginError}.
 */
export function pluginFailure(
  err: unknown,
  source: PluginSource,
  operation: string,
  context: { storage: string; href?: string },
  signal?: AbortSignal,
): VdirsyncerError {
  if (isVdirsyncerError(err)) {
    if (typeof err.withContext === "function") err.withContext({ ...context, operation });
    return err;
  }
  if (signal?.aborted) {
    return new StoppedError(`${operation}() on ${context.storage} was stopped.`, { cause: err });
  }
  const systemCode = environmentCodeOf(err);
  if (systemCode !== undefined) {
    const detail = err instanceof Error ? err.message : String(err);
    return new EnvironmentError(systemCode, `${operation}() on ${context.storage} failed: ${detail}`, {
      cause: err,
      context: { ...context, operation },
    });
  }
  return new PluginError(source, operation, err).withContext(context);
}

/** What a guarded call needs to know. */
interface Guard {
  limiter: Limiter;
  source: PluginSource;
  instance: string;
  signal: AbortSignal;
  stats: StatsSink;
}

async function call<T>(
  guard: Guard,
  operation: string,
  href: string | undefined,
  fn: () => T | Promise<T>,
): Promise<T> {
  const release = await guard.limiter.acquire(guard.signal);
  try {
    return await fn();
  } catch (err) {
    throw pluginFailure(err, guard.source, operation, { storage: guard.instance, href }, guard.signal);
  } finally {
    release();
  }
}

/** An iteration holds one slot from its first item to its end (or until the consumer stops early). */
async function* iterate<T>(guard: Guard, operation: string, fn: () => AsyncIterable<T>): AsyncGenerator<T> {
  const release = await guard.limiter.acquire(guard.signal);
  try {
    for await (const value of fn()) {
      guard.signal.throwIfAborted();
      yield value;
    }
  } catch (err) {
    throw pluginFailure(err, guard.source, operation, { storage: guard.instance }, guard.signal);
  } finally {
    release();
  }
}

/** True when `collection` came from a hosted storage (or {@link guardCollection}). */
export function isHosted(collection: ReadableCollection): boolean {
  return (collection as unknown as Record<symbol, unknown>)[HOSTED] === true;
}

/**
 * Puts a collection behind a limit, error translation and item counters. The returned object has exactly the
 * methods the plugin's collection has.
 */
export function guardCollection(
  inner: ReadableCollection & Partial<WritableCollection>,
  guard: Guard,
): HostedCollection {
  const out: Partial<WritableCollection> & Record<symbol, unknown> = { [HOSTED]: true };
  const g = guard;
  out.list = () => iterate(g, "list", () => inner.list());
  out.get = (href) =>
    call(g, "get", href, async () => {
      const got = await inner.get(href);
      g.stats.add("itemsRead");
      return got;
    });
  if (inner.getMany) {
    const getMany = inner.getMany.bind(inner);
    out.getMany = (hrefs) =>
      iterate(g, "getMany", async function* () {
        for await (const got of getMany(hrefs)) {
          if ("item" in got) g.stats.add("itemsRead");
          yield got;
        }
      });
  }
  if (inner.getMeta) {
    const getMeta = inner.getMeta.bind(inner);
    out.getMeta = (key) => call(g, "getMeta", undefined, () => getMeta(key));
  }
  if (inner.collectionTag) {
    const tag = inner.collectionTag.bind(inner);
    out.collectionTag = (previous) => call(g, "collectionTag", undefined, () => tag(previous));
  }
  if (inner.changes) {
    const changes = inner.changes.bind(inner);
    out.changes = (token) => call(g, "changes", undefined, () => changes(token));
  }
  if (inner.watch) {
    const watch = inner.watch.bind(inner);
    // Registering a watcher is not a call on the backend: no slot, but a throw is still the plugin's.
    out.watch = (onChange, signal) => {
      try {
        watch(onChange, signal);
      } catch (err) {
        throw pluginFailure(err, g.source, "watch", { storage: g.instance }, g.signal);
      }
    };
  }
  if (inner.upload) {
    const upload = inner.upload.bind(inner);
    out.upload = (item) =>
      call(g, "upload", undefined, async () => {
        const written = await upload(item);
        g.stats.add("itemsWritten");
        return written;
      });
  }
  if (inner.update) {
    const update = inner.update.bind(inner);
    out.update = (href, item, etag) =>
      call(g, "update", href, async () => {
        const written = await update(href, item, etag);
        g.stats.add("itemsWritten");
        return written;
      });
  }
  if (inner.delete) {
    const del = inner.delete.bind(inner);
    out.delete = (href, etag) =>
      call(g, "delete", href, async () => {
        await del(href, etag);
        g.stats.add("itemsDeleted");
      });
  }
  if (inner.setMeta) {
    const setMeta = inner.setMeta.bind(inner);
    out.setMeta = (key, value) => call(g, "setMeta", undefined, () => setMeta(key, value));
  }
  if (inner.flush) {
    const flush = inner.flush.bind(inner);
    out.flush = () => call(g, "flush", undefined, () => flush());
  }
  return out as HostedCollection;
}

/**
 * Guards a collection that did not come from a hosted storage (a library user passing a plugin's collection
 * straight to the engine): it gets the safest treatment, one call at a time. Hosted collections pass unchanged.
 */
export function ensureHosted(collection: ReadableCollection, name: string): HostedCollection {
  if (isHosted(collection)) return collection as HostedCollection;
  return guardCollection(collection, {
    limiter: new Limiter(() => 1),
    source: { type: "unknown" },
    instance: name,
    signal: NEVER,
    stats: NO_STATS,
  });
}

/**
 * Hosts a storage instance that `definition.create()` returned: every call through {@link HostedStorage} and the
 * collections it opens runs under the declared concurrency (re-read from `storage.concurrency`, which may lower
 * it), with the plugin's failures named as such.
 */
export function hostStorage(
  definition: StorageDefinition,
  storage: Storage<ReadableCollection>,
  options: HostStorageOptions,
): HostedStorage {
  const declared = definition.capabilities.concurrency ?? 1;
  const limiter = new Limiter(() => Math.min(declared, storage.concurrency ?? declared));
  const source: PluginSource = { type: definition.type, ...options.source };
  const stats = options.stats ?? NO_STATS;
  const instance = options.instance;
  const base: Guard = { limiter, source, instance, signal: NEVER, stats };
  let closed: Promise<void> | undefined;
  return {
    definition,
    source,
    instance,
    async open(ref, openOptions) {
      const signal = openOptions?.signal ?? NEVER;
      const collectionStats = openOptions?.stats ?? NO_STATS;
      const name = ref === null ? instance : `${instance}/${ref.id}`;
      const guard: Guard = { limiter, source, instance: name, signal, stats: collectionStats };
      const inner = await call(guard, "open", undefined, () =>
        storage.open(ref, { signal, stats: collectionStats }),
      );
      return guardCollection(inner as HostedCollection, guard);
    },
    discover() {
      const discover = storage.discover?.bind(storage);
      if (!discover) return (async function* () {})();
      return iterate(base, "discover", discover);
    },
    async createCollection(id) {
      const create = storage.createCollection?.bind(storage);
      if (!create) throw new UnsupportedError(`The ${definition.type} storage cannot create collections.`);
      return call(base, "createCollection", undefined, () => create(id));
    },
    async check() {
      const check = storage.check?.bind(storage);
      if (!check) return undefined;
      return call(base, "check", undefined, () => check());
    },
    close() {
      closed ??= (async () => {
        const close = storage.close?.bind(storage);
        if (!close) return;
        try {
          await close();
        } catch (err) {
          throw pluginFailure(err, source, "close", { storage: instance });
        }
      })();
      return closed;
    },
  };
}

/** Options of {@link createStorage}. */
export interface CreateStorageOptions extends HostStorageOptions {
  log: Logger;
  /** Aborted when the host stops at once; handed to the plugin as `ctx.signal`. */
  signal?: AbortSignal;
}

/**
 * Creates a plugin's storage from options its schema already accepted, and hosts it ({@link hostStorage}). A throw
 * from `create()` that is not one of the contract's errors is the plugin's bug ({@link PluginError}) or the
 * machine's ({@link EnvironmentError}).
 * @throws {UserError} the plugin refused the options (e.g. a combination its schema cannot express)
 */
export async function createStorage<Options>(
  definition: StorageDefinition<Options>,
  options: Options,
  host: CreateStorageOptions,
): Promise<HostedStorage> {
  const source: PluginSource = { type: definition.type, ...host.source };
  const stats = host.stats ?? NO_STATS;
  let storage: Storage<ReadableCollection>;
  try {
    storage = (await definition.create(options, {
      instance: host.instance,
      log: host.log,
      stats,
      signal: host.signal ?? NEVER,
    })) as Storage<ReadableCollection>;
  } catch (err) {
    throw pluginFailure(err, source, "create", { storage: host.instance }, host.signal);
  }
  return hostStorage(definition as StorageDefinition, storage, { ...host, stats });
}
