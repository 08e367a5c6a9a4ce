/**
 * What every group of the suite works with: the options given to `describeStorage`, test registration with
 * known failures, and fresh locations, storage instances and collections opened the way the command opens them.
 */
import { randomUUID } from "node:crypto";
import type {
  Capabilities,
  CollectionInfo,
  CollectionRef,
  Item,
  ReadableCollection,
  Storage,
  StorageContext,
  StorageDefinition,
} from "@vdirsyncer/core";
import { type HostedCollection, type HostedStorage, hostStorage, NO_STATS } from "@vdirsyncer/core/engine";
import { describe, it, onTestFinished } from "vitest";
import { type AnyCollection, cachedRef } from "./expect.ts";
import { type ItemType, itemTypesFor } from "./items.ts";

/** Options as `options()` returns them, before the schema: what a config file would hold. */
type RawOptions<O> = Partial<O> | O;

/** How {@link describeStorage} runs a storage. */
export interface DescribeStorageOptions<O> {
  /**
   * Returns the options of a fresh location, called once per test; the result goes through the definition's
   * options schema, so defaults apply as in a config file. Its duty depends on `capabilities.createCollection`:
   *
   * - declared: a location that does not exist yet (a path inside a fresh temp dir, not the temp dir itself).
   *   The suite creates collections in it with `createCollection()` and checks that `open()` of a location or a
   *   collection that was never created throws `CollectionNotFoundError`.
   * - not declared: a location that exists and is empty (an empty file, a temp dir, a server collection), since
   *   nothing will create it.
   */
  options: () => RawOptions<O> | Promise<RawOptions<O>>;
  /**
   * Tests this storage is known to fail, by test name (or `"<group> > <test name>"`), with the reason. They still
   * run, as expected failures: when one starts passing, the run fails until it is removed from this list.
   */
  knownFailures?: Readonly<Record<string, string>>;
  /**
   * Longer timeouts (ms) for tests a slow backend needs them for, by test name (or `"<group> > <test name>"`), as
   * for `knownFailures`; e.g. a server that takes a new process per request in the parallel writes group. Every
   * other test keeps vitest's `testTimeout`. An entry that names no test fails the run.
   */
  timeouts?: Readonly<Record<string, number>>;
  /** The item types to test. @default VEVENT and VTODO for calendars, VCARD for address books */
  kinds?: readonly ItemType[];
  /** The name of the top-level `describe` block. @default the definition's `type` */
  name?: string;
  /** Overrides for the {@link StorageContext} handed to `create()`. */
  context?: Partial<StorageContext>;
  /**
   * Read-only storages only: returns the options of a location that already holds `items` (e.g. a feed served
   * from a temp dir). Without it, read-only storages are only checked on an empty location.
   */
  seed?: (items: readonly Item[]) => RawOptions<O> | Promise<RawOptions<O>>;
  /**
   * `false` for a storage that keeps nothing between instances (an in-memory one): a second `create()` with the
   * same options starts empty. The persistence group then checks exactly that ("not persistent (declared)"), and
   * the tests that reopen a collection "in another process" use the same instance.
   * @default true
   */
  persistent?: boolean;
  /**
   * With `createCollection` declared: the options of a configured location that does not exist, for the check
   * that `open(null)` throws `CollectionNotFoundError` until `createCollection(null)` creates it. `false` when
   * the configured location cannot be missing (an in-memory store, a server account whose collections are
   * below it): `open(null)` is then not checked for a missing location.
   * @default options
   */
  missingLocation?: false | (() => RawOptions<O> | Promise<RawOptions<O>>);
  /**
   * With `createCollection` declared: builds the ref of a collection that was never created from the ref of one
   * that was (`created`, as the command caches it). The default replaces the created collection's id in every
   * string of its config by `id`, which fits storages whose config names the collection (a path, a URL).
   */
  neverCreated?: (created: CollectionRef, id: string) => CollectionRef;
}

/** A validated location: the options as written (what the command compares the cache with) and as checked. */
export interface Location<O> {
  raw: Readonly<Record<string, unknown>>;
  options: O;
}

/** One storage instance: the plugin's own object and the same instance behind the host's guarantees. */
export interface Instance {
  storage: Storage<AnyCollection>;
  hosted: HostedStorage;
}

/** What most tests work on: a fresh location, an instance on it and one collection, opened from its cached ref. */
export interface Fixture<O> extends Instance {
  location: Location<O>;
  /** What `createCollection()` returned; `null` when the collection is the configured location. */
  info: CollectionInfo | null;
  /** The ref the collection was opened with, as the command keeps it (`null` for the configured location). */
  ref: CollectionRef | null;
  col: HostedCollection;
}

/** The suite's state for one `describeStorage` call; the groups register their tests through it. */
export interface Suite<O> {
  readonly definition: StorageDefinition<O>;
  readonly caps: Capabilities;
  readonly config: DescribeStorageOptions<O>;
  readonly types: readonly ItemType[];
  readonly firstType: ItemType;
  readonly persistent: boolean;
  /** How many calls the host lets run at once on one instance. */
  readonly concurrency: number;
  /** Registers one test; a known failure runs as `it.fails`. */
  test(title: string, fn: () => Promise<void>): void;
  /** Registers a `describe` block whose name prefixes the test names for `knownFailures`. */
  group(title: string, fn: () => void): void;
  /** Validates raw options through the definition's schema. */
  validate(raw: RawOptions<O>): Promise<Location<O>>;
  /** A fresh location from `options()`. */
  location(): Promise<Location<O>>;
  /** A new storage instance on `location` (another process, in real life), closed when the test ends. */
  instance(location: Location<O>): Promise<Instance>;
  /** A fresh location, an instance and a collection (`createCollection(id)` when declared, else the location). */
  setup(collectionId?: string): Promise<Fixture<O>>;
  /** Opens `ref` (`null`: the location) through the hosted instance, from the form the command caches. */
  open(
    instance: Pick<Instance, "hosted">,
    location: Location<O>,
    ref: CollectionRef | null,
  ): Promise<HostedCollection>;
  /** Opens the fixture's collection through a new instance with the same options (the same one if not persistent). */
  reopen(fx: Fixture<O>): Promise<HostedCollection>;
  /** Every `knownFailures` key that matched a test so far. */
  readonly usedKnown: ReadonlySet<string>;
  /** Every `timeouts` key that matched a test so far. */
  readonly usedTimeouts: ReadonlySet<string>;
}

/** A random collection id that is safe in file names and URLs. */
export function randomCollectionId(prefix = "test"): string {
  return `${prefix}-${randomUUID()}`;
}

export function createSuite<O>(
  definition: StorageDefinition<O>,
  config: DescribeStorageOptions<O>,
): Suite<O> {
  const caps: Capabilities = definition.capabilities;
  const types = [...(config.kinds ?? itemTypesFor(definition.itemKinds))];
  const known = config.knownFailures ?? {};
  const usedKnown = new Set<string>();
  const timeouts = config.timeouts ?? {};
  const usedTimeouts = new Set<string>();
  const groupPath: string[] = [];
  const instanceName = config.name ?? definition.type;

  const context = (): StorageContext => ({
    instance: instanceName,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    stats: NO_STATS,
    signal: new AbortController().signal,
    ...config.context,
  });

  const validate = async (raw: RawOptions<O>): Promise<Location<O>> => {
    const result = await definition.options["~standard"].validate(raw);
    if (result.issues !== undefined) {
      const problems = result.issues.map((i) => `${(i.path ?? []).map(String).join(".")}: ${i.message}`);
      throw new Error(`options() returned options the schema rejects: ${problems.join("; ")}`);
    }
    return { raw: (raw ?? {}) as Record<string, unknown>, options: result.value };
  };

  const instance = async (location: Location<O>): Promise<Instance> => {
    const storage = (await definition.create(location.options, context())) as Storage<ReadableCollection>;
    const hosted = hostStorage(definition as StorageDefinition, storage, { instance: instanceName });
    onTestFinished(async () => {
      await hosted.close();
    });
    return { storage: storage as Storage<AnyCollection>, hosted };
  };

  const open = (inst: Pick<Instance, "hosted">, location: Location<O>, ref: CollectionRef | null) =>
    inst.hosted.open(ref === null ? null : cachedRef(ref, location.raw));

  const suite: Suite<O> = {
    definition,
    caps,
    config,
    types,
    firstType: types[0] ?? "VEVENT",
    persistent: config.persistent ?? true,
    concurrency: caps.concurrency ?? 1,
    usedKnown,
    usedTimeouts,
    test(title, fn) {
      const full = [...groupPath, title].join(" > ");
      const key = title in known ? title : full in known ? full : undefined;
      const timeoutKey = title in timeouts ? title : full in timeouts ? full : undefined;
      if (timeoutKey !== undefined) usedTimeouts.add(timeoutKey);
      const timeout = timeoutKey === undefined ? undefined : timeouts[timeoutKey];
      if (key !== undefined) {
        usedKnown.add(key);
        it.fails(`${title} [known failure: ${known[key]}]`, fn, timeout);
      } else {
        it(title, fn, timeout);
      }
    },
    group(title, fn) {
      describe(title, () => {
        groupPath.push(title);
        try {
          fn();
        } finally {
          groupPath.pop();
        }
      });
    },
    validate,
    location: async () => validate(await config.options()),
    instance,
    open,
    async setup(collectionId) {
      const location = await suite.location();
      const inst = await instance(location);
      let info: CollectionInfo | null = null;
      if (caps.createCollection) {
        info = await inst.hosted.createCollection(collectionId ?? randomCollectionId());
      }
      const ref = info === null ? null : cachedRef(info, location.raw);
      const col = await open(inst, location, ref);
      return { ...inst, location, info, ref, col };
    },
    async reopen(fx) {
      const again = suite.persistent ? await instance(await validate(fx.location.raw as RawOptions<O>)) : fx;
      return open(again, fx.location, fx.ref);
    },
  };
  return suite;
}
