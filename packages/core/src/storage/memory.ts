import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  AlreadyExistsError,
  CollectionNotFoundError,
  NotFoundError,
  ReadOnlyError,
  SyncTokenExpiredError,
  UnsupportedError,
  UserError,
  WrongEtagError,
} from "../errors.ts";
import type { Item } from "../item/item.ts";
import {
  type Capabilities,
  type ChangeSet,
  type CollectionInfo,
  type CollectionRef,
  type FetchedItem,
  type ItemRef,
  META_KEYS,
  type MetaKey,
  type Storage,
  type StorageDefinition,
  type WritableCollection,
} from "./contract.ts";
import { defineStorage } from "./define.ts";

/** One stored item of a {@link MemoryCollectionData}: its current etag and content. */
export interface MemoryEntry {
  etag: string;
  item: Item;
}

/** One entry of a memory collection's change log: the write number and the href it touched. */
interface LogEntry {
  seq: number;
  href: string;
}

/**
 * The data of one in-memory collection. Tests may read and change `items` and `metadata` directly (for example
 * to plant a bogus etag); such changes bypass the change log and the ctag.
 */
export class MemoryCollectionData {
  /** href → current etag and item. */
  readonly items = new Map<string, MemoryEntry>();
  /** Metadata values, already normalised. */
  readonly metadata = new Map<MetaKey, string>();
  /** Grows by one on every write; drives both `collectionTag()` and the sync tokens. */
  seq = 0;
  /** Which href each write touched, oldest first. */
  readonly log: LogEntry[] = [];
  /** Tells tokens of this collection apart from tokens of any other. */
  readonly instanceId = randomString();

  readonly info: CollectionInfo;

  constructor(info: CollectionInfo) {
    this.info = info;
  }

  /** Records a write to `href` (or a metadata write, with no href). */
  touch(href?: string): void {
    this.seq += 1;
    if (href !== undefined) this.log.push({ seq: this.seq, href });
  }
}

/**
 * Where memory storages keep their collections. Two storages built on the same store see the same data, which is
 * how a test re-opens "the same location" (the conformance suite's persistence check) or seeds a read-only storage.
 */
export class MemoryStore {
  /** Collection href → data. The default collection (`open(null)`) lives under {@link DEFAULT_MEMORY_COLLECTION}. */
  readonly collections = new Map<string, MemoryCollectionData>();
}

/** The key of the default collection (`open(null)`) in {@link MemoryStore.collections}. */
export const DEFAULT_MEMORY_COLLECTION = "";

/** The options of the `memory` storage. */
export interface MemoryOptions {
  /**
   * Appended to the ident to make the href.
   * @default ""
   */
  fileext: string;
  /** Share data with other memory storages built on the same store; a fresh store when absent. */
  store?: MemoryStore;
}

/** What {@link createMemoryStorage} accepts. */
export interface CreateMemoryStorageOptions extends Partial<MemoryOptions> {
  /** Capabilities to emulate; the rest are those of {@link memory}. */
  capabilities?: Partial<Capabilities>;
}

/** The capabilities of the default {@link memory} variant: everything a storage can offer. */
export const MEMORY_CAPABILITIES: Capabilities = Object.freeze({
  readOnly: false,
  discover: true,
  createCollection: true,
  metadata: META_KEYS,
  ctag: true,
  syncToken: true,
  batchGet: true,
  watch: false,
  // Every call completes in one turn of the event loop, so any number may run at once.
  concurrency: 64,
});

/**
 * A storage that keeps its collections in memory, for tests (vdirsyncer's `memory` storage, not a config type).
 *
 * `open(null)` is a default collection that always exists; `createCollection(id)` adds named ones, which
 * `discover()` yields. The href of an item is its ident plus `fileext`; etags are random `"%.9f"` floats as in
 * vdirsyncer. Optional methods exist exactly when `capabilities` says so; a read-only variant keeps its write
 * methods but they throw {@link ReadOnlyError}.
 */
export class MemoryStorage implements Storage<WritableCollection> {
  readonly capabilities: Capabilities;
  readonly fileext: string;
  readonly store: MemoryStore;
  readonly discover?: () => AsyncIterable<CollectionInfo>;
  readonly createCollection?: (id: string | null) => Promise<CollectionInfo>;

  constructor(options: CreateMemoryStorageOptions = {}) {
    this.capabilities = { ...MEMORY_CAPABILITIES, ...options.capabilities };
    this.fileext = options.fileext ?? "";
    this.store = options.store ?? new MemoryStore();
    // Assigned here rather than declared as methods, so that they are absent when the capability is off.
    if (this.capabilities.discover) this.discover = () => this.discoverCollections();
    if (this.capabilities.createCollection) this.createCollection = (id) => this.makeCollection(id);
  }

  /** Collection href → data, shared with every storage on the same {@link MemoryStore}. */
  get collections(): Map<string, MemoryCollectionData> {
    return this.store.collections;
  }

  /**
   * Opens a collection; `null` opens the default collection, which always exists.
   * @throws {CollectionNotFoundError} no collection was created with `ref.id`
   */
  open(ref: CollectionRef | null): WritableCollection {
    let data: MemoryCollectionData | undefined;
    if (ref === null) {
      data = this.defaultCollection();
    } else {
      data = this.collections.get(ref.id);
      if (data === undefined) throw new CollectionNotFoundError(ref.id);
    }
    return openMemoryCollection(data, this.capabilities, this.fileext);
  }

  private defaultCollection(): MemoryCollectionData {
    let data = this.collections.get(DEFAULT_MEMORY_COLLECTION);
    if (data === undefined) {
      data = new MemoryCollectionData({
        id: DEFAULT_MEMORY_COLLECTION,
        href: DEFAULT_MEMORY_COLLECTION,
        config: {},
      });
      this.collections.set(DEFAULT_MEMORY_COLLECTION, data);
    }
    return data;
  }

  private async *discoverCollections(): AsyncIterable<CollectionInfo> {
    // A snapshot, so that creating collections while discovering does not disturb the iteration.
    for (const data of [...this.collections.values()]) {
      if (data.info.href !== DEFAULT_MEMORY_COLLECTION) yield { ...data.info };
    }
  }

  private async makeCollection(id: string | null): Promise<CollectionInfo> {
    if (id === null) return { ...this.defaultCollection().info };
    if (id === DEFAULT_MEMORY_COLLECTION) throw new UserError("A memory collection needs a non-empty id.");
    // Creating an existing collection is not an error: vdirsyncer's create_collection is idempotent too.
    let data = this.collections.get(id);
    if (data === undefined) {
      data = new MemoryCollectionData({ id, href: id, config: {} });
      this.collections.set(id, data);
    }
    return { ...data.info };
  }
}

/**
 * Builds a memory storage directly, without a definition: what engine tests use.
 * @param options `fileext` (default `""`), a shared `store`, and the `capabilities` to emulate
 */
export function createMemoryStorage(options?: CreateMemoryStorageOptions): MemoryStorage {
  return new MemoryStorage(options);
}

const memoryOptionsSchema: StandardSchemaV1<unknown, MemoryOptions> = {
  "~standard": {
    version: 1,
    vendor: "vdirsyncer-memory",
    validate(value) {
      if (value === undefined || value === null) return { value: { fileext: "" } };
      if (typeof value !== "object") return { issues: [{ message: "Expected an object of options." }] };
      const { fileext = "", store, ...rest } = value as Record<string, unknown>;
      const issues: StandardSchemaV1.Issue[] = [];
      if (typeof fileext !== "string") issues.push({ message: "Expected a string.", path: ["fileext"] });
      if (store !== undefined && !(store instanceof MemoryStore)) {
        issues.push({ message: "Expected a MemoryStore.", path: ["store"] });
      }
      for (const key of Object.keys(rest)) issues.push({ message: `Unknown option "${key}".`, path: [key] });
      if (issues.length > 0) return { issues };
      const out: MemoryOptions = { fileext: fileext as string };
      if (store !== undefined) out.store = store as MemoryStore;
      return { value: out };
    },
  },
};

/**
 * Declares a variant of the memory storage with other capabilities (e.g. `{ batchGet: false }` or
 * `{ readOnly: true }`), since a definition's capabilities are static.
 */
export function defineMemoryStorage(
  capabilities: Partial<Capabilities> = {},
): StorageDefinition<MemoryOptions, Capabilities> {
  const caps: Capabilities = { ...MEMORY_CAPABILITIES, ...capabilities };
  return defineStorage<MemoryOptions, Capabilities>({
    type: "memory",
    summary: "Keeps collections in memory; for tests.",
    itemKinds: ["calendar", "addressbook"],
    capabilities: caps,
    options: memoryOptionsSchema,
    create: (options) => new MemoryStorage({ ...options, capabilities: caps }),
  });
}

/** The memory storage with every capability on: batch reads, all metadata keys, collections, ctag and sync tokens. */
export const memory: StorageDefinition<MemoryOptions, Capabilities> = defineMemoryStorage();

function randomString(): string {
  // vdirsyncer's `"%.9f" % random.random()`.
  return Math.random().toFixed(9);
}

/** A fresh etag, never equal to `previous`, so that every write is visible as an etag change. */
function newEtag(previous?: string): string {
  let etag = randomString();
  while (etag === previous) etag = randomString();
  return etag;
}

/** vdirsyncer's `normalize_meta_value`: iCloud sends the string "None" for an empty property. */
function normalizeMeta(value: string | undefined): string | undefined {
  if (value === undefined || value === "None") return undefined;
  return value.trim();
}

const TOKEN_PREFIX = "memory:";

function openMemoryCollection(
  data: MemoryCollectionData,
  caps: Capabilities,
  fileext: string,
): WritableCollection {
  const find = (href: string): MemoryEntry => {
    const entry = data.items.get(href);
    if (entry === undefined) throw new NotFoundError(href);
    return entry;
  };
  const fetched = (href: string, entry: MemoryEntry): FetchedItem => ({
    href,
    etag: entry.etag,
    item: entry.item,
  });
  const writable = (): void => {
    if (caps.readOnly) throw new ReadOnlyError();
  };
  const checkKey = (key: MetaKey): void => {
    if (!caps.metadata.includes(key))
      throw new UnsupportedError(`This storage does not support the metadata key "${key}".`);
  };

  const collection: WritableCollection = {
    async *list(): AsyncIterable<ItemRef> {
      // A snapshot: the listing reflects the state when it was asked for, even if writes interleave.
      const refs = [...data.items].map(([href, { etag }]) => ({ href, etag }));
      yield* refs;
    },
    async get(href) {
      return fetched(href, find(href));
    },
    async upload(item) {
      writable();
      const href = item.ident + fileext;
      if (data.items.has(href)) throw new AlreadyExistsError(href);
      const etag = newEtag();
      data.items.set(href, { etag, item });
      data.touch(href);
      return { href, etag };
    },
    async update(href, item, etag) {
      writable();
      const entry = find(href);
      if (entry.etag !== etag) throw new WrongEtagError(href, { expected: etag, actual: entry.etag });
      const next = newEtag(entry.etag);
      data.items.set(href, { etag: next, item });
      data.touch(href);
      return { etag: next };
    },
    async delete(href, etag) {
      writable();
      const entry = find(href);
      if (entry.etag !== etag) throw new WrongEtagError(href, { expected: etag, actual: entry.etag });
      data.items.delete(href);
      data.touch(href);
    },
  };

  if (caps.batchGet) {
    collection.getMany = async function* (hrefs) {
      // Check every href before yielding anything, so a caller never acts on half an answer.
      const unique = [...new Set(hrefs)];
      const entries = unique.map((href) => [href, find(href)] as const);
      for (const [href, entry] of entries) yield fetched(href, entry);
    };
  }
  if (caps.metadata.length > 0) {
    collection.getMeta = async (key) => {
      checkKey(key);
      return data.metadata.get(key);
    };
    collection.setMeta = async (key, value) => {
      writable();
      checkKey(key);
      const normalised = normalizeMeta(value);
      if (normalised === undefined) data.metadata.delete(key);
      else data.metadata.set(key, normalised);
      data.touch();
    };
  }
  if (caps.ctag) {
    collection.collectionTag = async () => `${data.instanceId}-${data.seq}`;
  }
  if (caps.syncToken) {
    collection.changes = async (token): Promise<ChangeSet> => {
      const current = `${TOKEN_PREFIX}${data.instanceId}:${data.seq}`;
      if (token === undefined) {
        const changed = [...data.items].map(([href, { etag }]) => ({ href, etag }));
        return { token: current, changed, removed: [] };
      }
      const since = parseToken(token, data);
      const touched = new Set(data.log.filter((e) => e.seq > since).map((e) => e.href));
      const changed: ItemRef[] = [];
      const removed: string[] = [];
      for (const href of touched) {
        const entry = data.items.get(href);
        // An href created and deleted after the token is reported as removed; RFC 6578 allows that.
        if (entry === undefined) removed.push(href);
        else changed.push({ href, etag: entry.etag });
      }
      return { token: current, changed, removed };
    };
  }
  return collection;
}

/** Reads the write number out of a token, refusing tokens of other collections and from the future. */
function parseToken(token: string, data: MemoryCollectionData): number {
  const prefix = `${TOKEN_PREFIX}${data.instanceId}:`;
  if (!token.startsWith(prefix))
    throw new SyncTokenExpiredError(`The sync token "${token}" is not one of this collection.`);
  const rest = token.slice(prefix.length);
  const seq = /^\d+$/.test(rest) ? Number(rest) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq > data.seq) {
    throw new SyncTokenExpiredError(`The sync token "${token}" is not one of this collection.`);
  }
  return seq;
}
