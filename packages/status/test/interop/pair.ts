/**
 * Test scaffolding, not the CLI: syncs ONE pair the way `vdirsyncer sync PAIR` does, from the pair's discovery
 * cache, with the real storages, the SQLite status, a disk trash and the pair lock. It records what a user of
 * vdirsyncer would see (its INFO lines) and counts the storage calls per side, so the interop tests can say
 * "nothing was transferred".
 */
import { resolve } from "node:path";
import {
  type CollectionRef,
  createStorage,
  type HostedCollection,
  type JsonValue,
  type Logger,
  type Side,
  type StorageDefinition,
  type SyncReport,
  type SyncSide,
  syncCollection,
  UserError,
  type VdirsyncerError,
} from "@vdirsyncer/core/engine";
import filesystem from "@vdirsyncer/storage-filesystem";
import singlefile from "@vdirsyncer/storage-singlefile";
import { discoveryCacheKey, readDiscoveryCache } from "../../src/discovery-cache.ts";
import { lockPair } from "../../src/lock.ts";
import { openCollectionStatus } from "../../src/open-status.ts";
import { RunRecorder } from "../../src/run-recorder.ts";
import { createDiskTrash } from "../../src/trash.ts";

/** A `[storage NAME]` section as written in the config file (values before any expansion). */
export type StorageSection = { type: "filesystem" | "singlefile" } & Record<string, unknown>;

/** A `[pair NAME]` section. */
export interface PairSection {
  a: string;
  b: string;
  collections: unknown;
  conflict_resolution?: unknown;
}

/** The parts of a vdirsyncer config these tests use. Relative paths are relative to the test's root folder. */
export interface InteropConfig {
  general: { status_path: string };
  pairs: Record<string, PairSection>;
  storages: Record<string, StorageSection>;
}

/** Calls made on one side's collection during one collection sync. */
export interface CallCounts {
  list: number;
  get: number;
  getMany: number;
  /** hrefs asked for through get and getMany together. */
  fetchedHrefs: number;
  upload: number;
  update: number;
  delete: number;
}

/** What syncing one collection of the pair did. */
export interface CollectionRun {
  name: string | null;
  report: SyncReport;
  calls: Record<Side, CallCounts>;
}

/** What syncing the pair did. */
export interface PairRun {
  collections: CollectionRun[];
  /** The INFO lines vdirsyncer would print: `Syncing cal/work`, `Copying (uploading) item …`, … */
  lines: string[];
  warnings: string[];
  /** Every item and action error, in the order reported. */
  errors: VdirsyncerError[];
  /** {@link CallCounts} summed over all collections. */
  totals: Record<Side, CallCounts>;
}

export interface SyncPairOptions {
  /** The folder the config file lives in, and the working directory vdirsyncer runs in. */
  root: string;
  config: InteropConfig;
  pair: string;
  forceDelete?: boolean;
  concurrency?: number;
  /** Called with each INFO line as it is logged (the kill test prints them). */
  onInfo?: (line: string) => void;
  /** Journal each collection's run as the command does (names, actions, trash entries). */
  journal?: boolean;
}

const DEFINITIONS: Record<string, StorageDefinition> = {
  filesystem: filesystem as unknown as StorageDefinition,
  singlefile: singlefile as unknown as StorageDefinition,
};

function noCalls(): CallCounts {
  return { list: 0, get: 0, getMany: 0, fetchedHrefs: 0, upload: 0, update: 0, delete: 0 };
}

/** The config file text vdirsyncer reads for `config` (values written as JSON, which its parser accepts). */
export function renderConfig(config: InteropConfig): string {
  const section = (title: string, values: Record<string, unknown>) =>
    [`[${title}]`, ...Object.entries(values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)].join("\n");
  const parts = [section("general", config.general)];
  for (const [name, pair] of Object.entries(config.pairs)) parts.push(section(`pair ${name}`, { ...pair }));
  for (const [name, storage] of Object.entries(config.storages))
    parts.push(section(`storage ${name}`, storage));
  return `${parts.join("\n\n")}\n`;
}

/** vdirsyncer's discovery cache key for `pair`: the sections as written, plus `instance_name`. */
export function pairCacheKey(config: InteropConfig, pair: string): string {
  const p = pairSection(config, pair);
  const storage = (name: string) => ({ ...storageSection(config, name), instance_name: name });
  return discoveryCacheKey(p.collections, storage(p.a), storage(p.b));
}

function pairSection(config: InteropConfig, pair: string): PairSection {
  const p = config.pairs[pair];
  if (!p) throw new UserError(`Pair ${pair} does not exist.`);
  return p;
}

function storageSection(config: InteropConfig, name: string): StorageSection {
  const s = config.storages[name];
  if (!s) throw new UserError(`Storage ${name} does not exist.`);
  return s;
}

/** Counts the calls made through the returned proxy; methods still run with the real object as `this`. */
function counting<C extends object>(target: C, calls: CallCounts): C {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (typeof prop === "string" && prop in calls) calls[prop as keyof CallCounts]++;
        if (prop === "get") calls.fetchedHrefs++;
        if (prop === "getMany") calls.fetchedHrefs += (args[0] as readonly string[]).length;
        return value.apply(t, args);
      };
    },
  });
}

/**
 * Opens one side's collection as vdirsyncer's CLI does: the storage is made from the section, and the collection
 * is opened from the cached delta (`{collection, path}` → `{id, config: {path}}`), as the command does.
 */
async function openSide(
  root: string,
  instance: string,
  section: StorageSection,
  delta: Record<string, unknown>,
  log: Logger,
): Promise<HostedCollection> {
  const { type, collection: _collection, instance_name: _instance, ...options } = section;
  const definition = DEFINITIONS[String(type)];
  if (!definition) throw new UserError(`Storage type ${String(type)} is not supported by these tests.`);
  // Storage paths are relative to vdirsyncer's working directory, which the tests make the root.
  const rooted = (values: Record<string, unknown>) =>
    typeof values.path === "string" ? { ...values, path: resolve(root, values.path) } : values;
  const checked = await definition.options["~standard"].validate(rooted(options));
  if (checked.issues) {
    throw new UserError(`Invalid options for ${instance}.`, {
      problems: checked.issues.map((i) => i.message),
    });
  }
  const storage = await createStorage(definition, checked.value, { instance, log });
  const { collection, ...config } = delta;
  const ref: CollectionRef | null =
    typeof collection === "string"
      ? { id: collection, config: JSON.parse(JSON.stringify(rooted(config))) as Record<string, JsonValue> }
      : null;
  return storage.open(ref);
}

/**
 * Syncs every cached collection of `pair`, one after the other, under the pair lock.
 *
 * Item errors are collected, not thrown (vdirsyncer's CLI installs an error callback too).
 * @throws {UserError} no discovery cache, or one made from another config (vdirsyncer asks for `discover`)
 */
export async function syncPair(options: SyncPairOptions): Promise<PairRun> {
  const { root, config, pair } = options;
  const statusPath = resolve(root, config.general.status_path);
  const p = pairSection(config, pair);
  const cache = readDiscoveryCache(statusPath, pair);
  if (cache === undefined)
    throw new UserError(`Please run \`vdirsyncer discover ${pair}\` before synchronization.`);
  if (cache.cache_key !== pairCacheKey(config, pair))
    throw new UserError(`Detected change in config file, please run \`vdirsyncer discover ${pair}\`.`);

  const run: PairRun = {
    collections: [],
    lines: [],
    warnings: [],
    errors: [],
    totals: { a: noCalls(), b: noCalls() },
  };
  const log: Logger = {
    debug() {},
    info: (m) => {
      run.lines.push(m);
      options.onInfo?.(m);
    },
    warn: (m) => run.warnings.push(m),
    error: (m) => run.warnings.push(m),
  };
  const lock = await lockPair(statusPath, pair, { log });
  try {
    for (const [name, deltas] of cache.collections) {
      log.info(`Syncing ${name === null ? pair : `${pair}/${name}`}`);
      const calls = { a: noCalls(), b: noCalls() };
      const sides = {} as Record<Side, SyncSide>;
      for (const [i, side] of (["a", "b"] as const).entries()) {
        const instance = p[side];
        const delta = deltas[i] ?? {};
        const collection = delta.collection;
        const sideName = typeof collection === "string" ? `${instance}/${collection}` : instance;
        const opened = await openSide(root, sideName, storageSection(config, instance), delta, log);
        sides[side] = { name: sideName, collection: counting(opened, calls[side]) };
      }
      const status = openCollectionStatus(statusPath, pair, name, { log });
      const journal = options.journal
        ? new RunRecorder(statusPath, { kind: "sync", pair, collection: name })
        : undefined;
      try {
        const report = await syncCollection({
          a: journal ? { ...sides.a, collection: journal.observe("a", sides.a.collection) } : sides.a,
          b: journal ? { ...sides.b, collection: journal.observe("b", sides.b.collection) } : sides.b,
          status,
          trash: journal?.trash ?? createDiskTrash(statusPath, pair, name),
          onEvent: (event) => journal?.onEvent(event),
          conflictResolution: (p.conflict_resolution ?? null) as never,
          forceDelete: options.forceDelete,
          concurrency: options.concurrency,
          log,
          onError: (err) => {
            run.errors.push(err);
            journal?.error(err);
          },
        });
        run.collections.push({ name, report, calls });
      } finally {
        status.close();
        await journal?.finish();
      }
      for (const side of ["a", "b"] as const) {
        for (const key of Object.keys(calls[side]) as (keyof CallCounts)[])
          run.totals[side][key] += calls[side][key];
      }
    }
  } finally {
    lock.release();
  }
  return run;
}

/** Uploads, updates and deletes on both sides together. */
export function writes(run: PairRun): number {
  let n = 0;
  for (const side of ["a", "b"] as const)
    n += run.totals[side].upload + run.totals[side].update + run.totals[side].delete;
  return n;
}

/** get and getMany calls on both sides together. */
export function fetches(run: PairRun): number {
  return run.totals.a.get + run.totals.a.getMany + run.totals.b.get + run.totals.b.getMany;
}
