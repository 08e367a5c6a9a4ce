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
}

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
 * One collection of a storage.
 *
 * `id` pairs collections across the two storages of a pair (the `collection` name of vdirsyncer's config);
 * `href` is where this storage keeps it (a folder, a file, a URL), opaque outside the plugin.
 * `config` holds the storage options that select this collection, as vdirsyncer writes them into
 * `<pair>.collections` (e.g. `{ "path": "/home/u/.calendars/work" }`), so that its cache stays readable.
 */
export interface CollectionInfo {
  id: string;
  href: string;
  displayName?: string;
  config?: Record<string, unknown>;
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

/** A storage: an account or a folder of collections. */
export interface Storage<C extends ReadableCollection = WritableCollection> {
  /**
   * Opens one collection. `null` means the configured location itself is the collection
   * (vdirsyncer's `collections = null`).
   * @throws {CollectionNotFoundError} the collection does not exist (the CLI may offer to create it)
   */
  open(collection: CollectionInfo | null): C | Promise<C>;
  /** Finds the collections this storage holds. */
  discover?(): AsyncIterable<CollectionInfo>;
  /** Creates a collection named `id` (or the configured location itself for `null`) and returns it. */
  createCollection?(id: string | null): Promise<CollectionInfo>;
  /** Checks credentials and reachability, for `vdirsyncer check`. */
  check?(): Promise<void>;
  /** Releases connections and handles. */
  close?(): Promise<void>;
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
  /** The shared HTTP client (auth, TLS pins, timeouts, retries). */
  fetch: typeof fetch;
  signal: AbortSignal;
}

/** The collection type a storage with capabilities `C` hands out. */
export type CollectionFor<C extends Capabilities> = C["readOnly"] extends true
  ? ReadableCollection
  : WritableCollection;

/** A storage plugin: the `type` it serves, what it can do, its options and its factory. */
export interface StorageDefinition<Options = unknown, C extends Capabilities = Capabilities> {
  /** The contract version the plugin was built for; the CLI refuses others with a clear message. */
  readonly apiVersion: 1;
  /** The config `type`, e.g. `filesystem`. */
  readonly type: string;
  /** One sentence for `--help` and docs. */
  readonly summary: string;
  readonly itemKinds: readonly ItemKind[];
  readonly capabilities: C;
  /** Any Standard Schema validator (zod, valibot, arktype…); keys spelled as in the config file. */
  readonly options: StandardSchemaV1<unknown, Options>;
  create(
    options: Options,
    ctx: StorageContext,
  ): Storage<CollectionFor<C>> | Promise<Storage<CollectionFor<C>>>;
}

/** The contract version this copy of core implements. */
export const API_VERSION = 1 as const;
