import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { VdirsyncerError } from "../errors.ts";
import type { Item } from "../item/item.ts";

/** What a collection holds. */
export type ItemKind = "calendar" | "addressbook";

/** The metadata keys metasync understands (the vdir format's metadata files). */
export type MetaKey = "displayname" | "color" | "description" | "order";

/** Every metadata key, in the order the docs list them. */
export const META_KEYS: readonly MetaKey[] = ["displayname", "color", "description", "order"];

/**
 * What a storage can do. The engine reads these and never asks which plugin it has.
 * Optional methods exist exactly when their flag says so (`getMany` with `batchGet`, `changes` with `syncToken`,
 * `collectionTag` with `ctag`, `discover` with `discover`, `createCollection` with `createCollection`,
 * `getMeta`/`setMeta` when `metadata` is not empty).
 */
export interface Capabilities {
  /** Never writable, whatever the config says (`http`). */
  readOnly: boolean;
  /** `discover()` is implemented. */
  discover: boolean;
  /** `createCollection()` is implemented. */
  createCollection: boolean;
  /** Keys `getMeta`/`setMeta` understand; `[]` for none. */
  metadata: readonly MetaKey[];
  /** `collectionTag()` is cheap and changes on every write. */
  ctag: boolean;
  /** `changes()` reports deltas since a token. */
  syncToken: boolean;
  /** `getMany()` is one round trip (or a few), not a loop over `get()`. */
  batchGet: boolean;
  /** `watch()` is implemented: the collection says when something in it may have changed (a local folder or file). */
  watch: boolean;
  /**
   * How many calls the host may run at once on one storage instance (all its collections together), counting
   * reads, writes, metadata and open iterations. The one capability that may be left out.
   *
   * A storage that does not declare it gets one call at a time, whatever the host runs in parallel around it;
   * that is always safe. Declare more only when every method is safe to run concurrently with every other one,
   * and prove it with the conformance suite, which writes in parallel at the declared level. A storage may lower
   * the limit at run time through {@link Storage.concurrency} (e.g. for a server that handles one request at a time).
   * @default 1
   */
  concurrency?: number;
}

/** A value that survives `JSON.stringify` and `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One entry of a listing: where an item is and its current version. */
export interface ItemRef {
  href: string;
  etag: string;
}

/** An item read from a storage, with the etag it had when read. */
export interface FetchedItem extends ItemRef {
  item: Item;
}

/** An href that was listed but could not be read as an item; `error` says why and where. */
export interface ItemFailure {
  href: string;
  error: VdirsyncerError;
}

/** Where a write put an item. `etag` is `undefined` only when the backend does not say (some DAV servers). */
export interface Written {
  href: string;
  etag: string | undefined;
}

/**
 * The answer of {@link ReadableCollection.changes}: what changed since the token it was given.
 * `changed` holds new and modified items; `removed` the hrefs that are gone. `token` is the token to pass next time.
 */
export interface ChangeSet {
  token: string;
  changed: ItemRef[];
  removed: string[];
}

/**
 * What a host keeps to open one collection again later: the only thing {@link Storage.open} gets.
 *
 * `id` pairs collections across the two storages of a pair (the `collection` name of vdirsyncer's config).
 * `config` holds the storage options that select this collection, spelled as in the config file, e.g.
 * `{ "path": "/home/u/.calendars/work" }` or `{ "url": "https://dav.example.com/cal/work/" }`. The host stores it in
 * vdirsyncer's discovery cache (`<pair>.collections`), where Python vdirsyncer reads it as options that override
 * the storage section, so it MUST be JSON and use option names the storage's schema accepts (never `collection`,
 * which the host adds itself).
 *
 * A key absent from `config` means the configured option's value: the cache leaves out every key whose value equals
 * the section's, and a cache written by Python vdirsyncer has the same shape. `open()` MUST therefore rebuild the
 * collection from `id` and `config` merged over its own options, after a JSON round trip, in another process.
 */
export interface CollectionRef {
  id: string;
  config: Readonly<Record<string, JsonValue>>;
}

/**
 * One collection of a storage, as `discover()` and `createCollection()` report it: a {@link CollectionRef} plus
 * what is worth showing. `href` is where this storage keeps it (a folder, a file, a URL), for messages only.
 */
export interface CollectionInfo extends CollectionRef {
  href: string;
  displayName?: string;
}

/** The read side of a collection. */
export interface ReadableCollection {
  /**
   * Lists every item as `(href, etag)`, each href once.
   *
   * MUST reflect the storage's state at the time of the call. The order is not specified.
   */
  list(): AsyncIterable<ItemRef>;

  /**
   * Reads one item.
   * @throws {NotFoundError} the href does not exist
   * @throws {InvalidItemError} the stored bytes are not a readable item (the message names the file or href)
   */
  get(href: string): Promise<FetchedItem>;

  /**
   * Reads several items, in any order. Duplicate hrefs are read once; `[]` yields nothing and costs nothing.
   *
   * An href whose content cannot be read as an item (bad encoding, binary junk) yields an {@link ItemFailure}
   * instead of throwing, so that one bad file does not hide the others. A missing href either throws
   * {@link NotFoundError} or yields an ItemFailure whose error is a NotFoundError (a DAV multiget answers
   * per href, and the others are still worth having); the engine treats both alike.
   * @throws {NotFoundError} one of the hrefs does not exist (unless reported as an ItemFailure)
   */
  getMany?(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure>;

  /**
   * Reads a metadata value; `undefined` when absent. Values are normalised (stripped).
   * @throws {UnsupportedError} the key is not in `capabilities.metadata`
   */
  getMeta?(key: MetaKey): Promise<string | undefined>;

  /**
   * A cheap tag that changes whenever any item of the collection changes (CalDAV `getctag`, an HTTP feed's
   * ETag). `undefined` when the backend has none right now.
   *
   * `previous` is the tag the engine stored after the last successful sync, if any: a storage MAY use it as a
   * validator (HTTP `If-None-Match`) and return it unchanged when the backend says nothing changed.
   */
  collectionTag?(previous?: string): Promise<string | undefined>;

  /**
   * Reports what changed since `token` (RFC 6578 sync-collection). `undefined` asks for the initial state:
   * every item appears in `changed`.
   * @throws {SyncTokenExpiredError} the token is no longer valid; the engine then lists in full
   * @throws {UnsupportedError} this collection cannot report changes now (a server without sync-collection, a
   *   filtered listing); the engine then uses `list()`
   */
  changes?(token: string | undefined): Promise<ChangeSet>;

  /**
   * Calls `onChange` whenever something in the collection may have changed (a file written, renamed or removed),
   * until `signal` aborts; present exactly when `capabilities.watch`. A hint, not a listing: the host then syncs
   * the collection as usual. Spurious calls are fine; missing one is not. MUST NOT throw after returning; a watch
   * that breaks calls `onChange` once more and stops.
   */
  watch?(onChange: () => void, signal: AbortSignal): void;
}

/** A collection that can be written. */
export interface WritableCollection extends ReadableCollection {
  /**
   * Stores a new item and says where.
   * @throws {AlreadyExistsError} an item already lives at the href this item maps to
   */
  upload(item: Item): Promise<Written>;

  /**
   * Replaces an item that already exists.
   *
   * MUST succeed only while the stored etag still equals `etag`; otherwise throws {@link WrongEtagError}, or
   * {@link NotFoundError} when the item is gone.
   * @throws {WrongEtagError} the item changed after it was listed
   */
  update(href: string, item: Item, etag: string): Promise<Pick<Written, "etag">>;

  /**
   * Removes an item, only while its etag still equals `etag`.
   * @throws {NotFoundError} the item is gone
   * @throws {WrongEtagError} the item changed after it was listed
   */
  delete(href: string, etag: string): Promise<void>;

  /**
   * Writes a metadata value; `undefined` removes it.
   * @throws {UnsupportedError} the key is not in `capabilities.metadata`
   */
  setMeta?(key: MetaKey, value: string | undefined): Promise<void>;

  /**
   * Makes buffered writes durable. Storages that buffer (singlefile) MUST NOT lose a write that returned before a
   * successful `flush()`, and the engine records such writes in the status only after `flush()` resolved.
   */
  flush?(): Promise<void>;
}

/** What the host hands to {@link Storage.open} besides the collection to open. */
export interface OpenOptions {
  /**
   * Aborted when the host gives up on this collection (a second Ctrl-C, a deadline after a stop): requests in
   * flight SHOULD be abandoned and the method SHOULD throw. Other collections of the storage go on.
   */
  signal: AbortSignal;
  /** Where the collection reports what its calls cost (requests, bytes, retries), for the run's summary. */
  stats: StatsSink;
}

/** A storage: an account or a folder of collections. */
export interface Storage<C extends ReadableCollection = WritableCollection> {
  /**
   * Opens one collection: `ref` as `discover()` or `createCollection()` reported it (possibly after a JSON round
   * trip through the host's cache, in another process), or `null` for the configured location itself (vdirsyncer's
   * `collections = null`). Opening MUST NOT create anything.
   *
   * One rule for a missing location, for both forms: when the folder, file or URL does not exist, `open()` throws
   * {@link CollectionNotFoundError} if the storage can tell cheaply; otherwise the first call that finds it missing
   * does. The host then offers to create it with `createCollection()` (vdirsyncer asks, or creates implicitly).
   * @throws {CollectionNotFoundError} the collection does not exist
   */
  open(ref: CollectionRef | null, options: OpenOptions): C | Promise<C>;
  /** Finds the collections this storage holds; present exactly when `capabilities.discover`. */
  discover?(): AsyncIterable<CollectionInfo>;
  /**
   * Creates a collection named `id`, or the configured location itself for `null`, and returns what `open()` needs.
   * Present exactly when `capabilities.createCollection`. Creating one that exists already is not an error.
   */
  createCollection?(id: string | null): Promise<CollectionInfo>;
  /**
   * Checks what a user would check first (can the server be reached, does TLS hold, are the credentials taken,
   * which collections are there, how will they be listed) and reports each point, for `vdirsyncer check`. Every
   * storage that talks to a network implements it. MUST NOT throw for a failed check: report it with a hint.
   */
  check?(): Promise<CheckReport>;
  /**
   * How many calls at once this instance takes right now; the host never exceeds `capabilities.concurrency`
   * whatever this says. A storage lowers it after learning about its backend (e.g. a server that answers one
   * request at a time).
   */
  readonly concurrency?: number;
  /** Releases connections, watchers and handles. The host calls it once, after the last call on the instance. */
  close?(): Promise<void>;
}

/** What {@link Storage.check} looked at. */
export type CheckAspect = "reachable" | "tls" | "authentication" | "collections" | "listing";

/** One point of a {@link CheckReport}. */
export interface CheckResult {
  aspect: CheckAspect;
  ok: boolean;
  /** One plain sentence: what was found (`"HTTP 207 from https://dav.example.com/"`, `"3 calendars"`). */
  detail: string;
  /** What to do about a failed point. */
  hint?: string;
}

/** The answer of {@link Storage.check}: each point in the order it was checked, and the collections found. */
export interface CheckReport {
  results: CheckResult[];
  collections: CollectionInfo[];
  /** How collections will be listed, e.g. `"ctag, then sync-collection"`; absent when not known. */
  listing?: string;
}

/** What a storage's calls cost, counted for the run's summary. Item counters are kept by the host itself. */
export type StatCounter =
  | "requests"
  | "bytesSent"
  | "bytesReceived"
  | "retries"
  | "itemsRead"
  | "itemsWritten"
  | "itemsDeleted";

/** Where a storage reports what its calls cost. Cheap to call; never throws. */
export interface StatsSink {
  add(counter: StatCounter, amount?: number): void;
}

/** Where plugins write their log lines; replaces `console.*`. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What a storage gets from its host besides its options. */
export interface StorageContext {
  /** The instance name: the `NAME` of `[storage NAME]`. */
  instance: string;
  log: Logger;
  /** Where calls that belong to no collection (`discover`, `createCollection`, `check`) report their cost. */
  stats: StatsSink;
  /** Aborted when the host stops at once (a second Ctrl-C): abandon whatever is in flight. */
  signal: AbortSignal;
}

/** `M` when `flag` is `true`, none of `M`'s members when `false`, any of them when not known (`boolean`). */
type Methods<Flag, M> = boolean extends Flag
  ? Partial<M>
  : Flag extends true
    ? M
    : { [K in keyof M]?: undefined };

type MetaMethods<Keys, ReadOnly> = readonly MetaKey[] extends Keys
  ? Partial<Pick<WritableCollection, "getMeta" | "setMeta">>
  : Keys extends readonly []
    ? { getMeta?: undefined; setMeta?: undefined }
    : ReadOnly extends true
      ? Required<Pick<ReadableCollection, "getMeta">>
      : Required<Pick<WritableCollection, "getMeta" | "setMeta">>;

type Base<C extends Capabilities> = C["readOnly"] extends true
  ? Pick<ReadableCollection, "list" | "get">
  : Pick<WritableCollection, "list" | "get" | "upload" | "update" | "delete" | "flush">;

/**
 * The collection type a storage with capabilities `C` hands out: an optional method is required when its flag is
 * `true` and absent when it is `false`, so `batchGet: true` without `getMany` does not compile.
 */
export type CollectionFor<C extends Capabilities> = Base<C> &
  Methods<C["batchGet"], Required<Pick<ReadableCollection, "getMany">>> &
  Methods<C["ctag"], Required<Pick<ReadableCollection, "collectionTag">>> &
  Methods<C["syncToken"], Required<Pick<ReadableCollection, "changes">>> &
  Methods<C["watch"], Required<Pick<ReadableCollection, "watch">>> &
  MetaMethods<C["metadata"], C["readOnly"]>;

/** The storage type a definition with capabilities `C` creates, with the same rule as {@link CollectionFor}. */
export type StorageFor<C extends Capabilities> = Pick<
  Storage<CollectionFor<C> & ReadableCollection>,
  "open" | "check" | "close" | "concurrency"
> &
  Methods<C["discover"], Required<Pick<Storage, "discover">>> &
  Methods<C["createCollection"], Required<Pick<Storage, "createCollection">>>;

/** A storage plugin: the `type` it serves, what it can do, its options and its factory. */
export interface StorageDefinition<Options = unknown, C extends Capabilities = Capabilities> {
  /** The contract version the plugin was built for; a host refuses others with a clear message. */
  readonly apiVersion: 2;
  /** The config `type`, e.g. `filesystem`. */
  readonly type: string;
  /** One sentence for `--help` and docs. */
  readonly summary: string;
  readonly itemKinds: readonly ItemKind[];
  readonly capabilities: C;
  /** Any Standard Schema validator (zod, valibot, arktype…); keys spelled as in the config file. */
  readonly options: StandardSchemaV1<unknown, Options>;
  /**
   * Builds a storage instance from checked options. {@link defineStorage} types its result as `StorageFor<C>`, so
   * the methods present match the capabilities; here it is loose, so that every definition is a `StorageDefinition`.
   */
  create(
    options: Options,
    ctx: StorageContext,
  ): Storage<ReadableCollection> | Promise<Storage<ReadableCollection>>;
}

/** What a plugin passes to {@link defineStorage}: a definition whose `create()` matches its capabilities. */
export type StorageDeclaration<Options, C extends Capabilities> = Omit<
  StorageDefinition<Options, C>,
  "apiVersion" | "create"
> & {
  create(options: Options, ctx: StorageContext): StorageFor<C> | Promise<StorageFor<C>>;
};

/**
 * The contract version this copy of core implements. Version 2: `open(ref, options)` with a {@link CollectionRef},
 * the `watch` and `concurrency` capabilities, `check()` reports, the stats hook instead of `ctx.fetch`.
 */
export const API_VERSION = 2 as const;
