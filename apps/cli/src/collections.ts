/**
 * A pair's collections: discovery and expansion of `collections` (as vdirsyncer's `discover` does), and the
 * discovery cache that `sync` and `metasync` read.
 */
import { resolve } from "node:path";
import type { CollectionEntry, JsonValue, PairSection } from "@vdirsyncer/config";
import { isVdirsyncerError, UserError } from "@vdirsyncer/core";
import {
  type CachedCollection,
  discoveryCacheKey,
  pythonJsonDumps,
  readDiscoveryCache,
  writeDiscoveryCache,
} from "@vdirsyncer/status";
import type { AppContext } from "./context.ts";
import { createCollectionFor, openCollection, type StorageArgs } from "./storages.ts";

/**
 * One collection of a pair: its name in the status (`null` for the configured locations) and each side's delta
 * from the discovery cache (`{collection: "work", path: …}`, keys equal to the section's left out), from which the
 * side is opened as `open({id: collection, config: rest})`.
 */
export interface PairCollection {
  name: string | null;
  a: StorageArgs;
  b: StorageArgs;
}

/** A pair with its two storage sections resolved (fetched values, `instance_name`). */
export interface ResolvedPair {
  pair: PairSection;
  a: StorageArgs;
  b: StorageArgs;
  /** vdirsyncer's discovery cache key for this config. */
  cacheKey: string;
}

/** The status path the config names, absolute. */
export async function statusPath(ctx: AppContext): Promise<string> {
  return resolve(ctx.io.cwd, (await ctx.config()).statusPath);
}

/** Resolves both storage sections of pair `name` (running fetch commands) and computes the cache key. */
export async function resolvePair(ctx: AppContext, name: string): Promise<ResolvedPair> {
  const pair = await ctx.pair(name);
  const a = await ctx.resolvedStorage(pair.a);
  const b = await ctx.resolvedStorage(pair.b);
  const collections = (pair.raw.collections ?? null) as JsonValue;
  return { pair, a, b, cacheKey: discoveryCacheKey(collections, a, b) };
}

/**
 * The cached collections of a pair, as `sync` and `metasync` use them; never discovers.
 * @throws {UserError} no cache (``Please run `vdirsyncer discover <pair>`  before synchronization.``) or a cache
 *   made from another config (``Detected change in config file, …``)
 */
export async function cachedCollections(ctx: AppContext, resolved: ResolvedPair): Promise<PairCollection[]> {
  const name = resolved.pair.name;
  const cache = readDiscoveryCache(await statusPath(ctx), name, { log: ctx.out });
  if (cache === undefined) {
    // vdirsyncer's wording, two spaces included.
    throw new UserError(`Please run \`vdirsyncer discover ${name}\`  before synchronization.`, {
      hint: `Run \`vdirsyncer discover ${name}\` once; sync reads the collections it finds.`,
    });
  }
  if (cache.cache_key !== resolved.cacheKey) {
    throw new UserError(`Detected change in config file, please run \`vdirsyncer discover ${name}\`.`, {
      hint: "The pair or one of its storage sections changed since the last discover (fetched passwords count too).",
    });
  }
  return cache.collections.map(([collection, [deltaA, deltaB]]) => ({
    name: collection,
    a: { ...(deltaA as StorageArgs) },
    b: { ...(deltaB as StorageArgs) },
  }));
}

/** Discovers the collections of one side once, on first need. */
class Discovered {
  readonly #ctx: AppContext;
  readonly #section: StorageArgs;
  #pending: Promise<Map<string, StorageArgs>> | undefined;

  constructor(ctx: AppContext, section: StorageArgs) {
    this.#ctx = ctx;
    this.#section = section;
  }

  /** Collection name → the delta that points the storage at it (`{collection, path}`), in discovery order. */
  get(): Promise<Map<string, StorageArgs>> {
    this.#pending ??= this.#discover();
    return this.#pending;
  }

  async #discover(): Promise<Map<string, StorageArgs>> {
    const storage = await this.#ctx.storages.section(this.#section);
    const found = new Map<string, StorageArgs>();
    // vdirsyncer: a storage that cannot discover has no collections (NotImplementedError → {}); the hosted
    // storage yields nothing then.
    for await (const info of storage.hosted.discover()) {
      const config = { ...(info.config as Record<string, JsonValue>) };
      delete config.collection;
      found.set(info.id, { collection: info.id, ...config });
    }
    return found;
  }
}

/** Prints `<instance>:` and `  - "<collection>"` (with its displayname when it differs) for one side. */
async function printCollections(
  ctx: AppContext,
  section: StorageArgs,
  discovered: Discovered,
): Promise<void> {
  const instance = String(section.instance_name);
  let found: Map<string, StorageArgs>;
  try {
    found = await discovered.get();
  } catch (err) {
    if (isVdirsyncerError(err, "USER")) throw err;
    if (err instanceof Error && err.stack) ctx.out.debug(err.stack);
    ctx.out.warn(
      `Failed to discover collections for ${instance}, use \`-vdebug\` to see the full traceback.`,
    );
    return;
  }
  ctx.out.info(`${instance}:`);
  const lines = await Promise.all(
    [...found].map(async ([name, delta]) => {
      let displayname: string | undefined;
      try {
        const storage = await ctx.storages.section(section);
        const opened = await openCollection(ctx, storage, delta, { create: false });
        displayname = await opened.collection.getMeta?.("displayname");
      } catch {
        displayname = undefined;
      }
      const shown = displayname && displayname !== name ? ` ("${displayname}")` : "";
      return `  - ${pythonJsonDumps(name)}${shown}`;
    }),
  );
  for (const line of lines) ctx.out.info(line);
}

/** The entries of `collections`, expanded: each with the name used in the status and the name on each side. */
async function* expandEntries(
  entries: readonly CollectionEntry[] | null,
  a: Discovered,
  b: Discovered,
): AsyncGenerator<[name: string | null, nameA: string | null, nameB: string | null]> {
  if (entries === null) {
    yield [null, null, null];
    return;
  }
  for (const entry of entries) {
    if (entry === "from a" || entry === "from b") {
      for (const name of (await (entry === "from a" ? a : b).get()).keys()) yield [name, name, name];
    } else if (typeof entry === "string") yield [entry, entry, entry];
    else yield [entry[0], entry[1], entry[2]];
  }
}

/**
 * `discover` for one pair: discovers both sides, expands `collections` (asking before creating a missing
 * collection unless `implicit = "create"`), opens every resulting collection as a check, and writes
 * `<status_path>/<pair>.collections`.
 * @returns the names saved, as printed in `Saved for <pair>: collections = …`
 */
export async function discoverPair(
  ctx: AppContext,
  name: string,
  options: { list: boolean },
): Promise<(string | null)[]> {
  const resolved = await resolvePair(ctx, name);
  const { pair } = resolved;
  ctx.out.info(`Discovering collections for pair ${name}`);
  const discovered = { a: new Discovered(ctx, resolved.a), b: new Discovered(ctx, resolved.b) };
  if (options.list) {
    await printCollections(ctx, resolved.a, discovered.a);
    await printCollections(ctx, resolved.b, discovered.b);
  }

  const sideDelta = async (side: "a" | "b", collection: string | null): Promise<StorageArgs> => {
    if (collection === null) return { collection: null };
    const found = (await discovered[side].get()).get(collection);
    if (found) return found;
    const storage = await ctx.storages.section(resolved[side]);
    return createCollectionFor(ctx, storage, collection, { implicit: pair.implicitCreate });
  };
  const result: PairCollection[] = [];
  const seen = new Set<string | null>();
  for await (const [collection, nameA, nameB] of expandEntries(
    pair.collections,
    discovered.a,
    discovered.b,
  )) {
    if (seen.has(collection)) continue;
    seen.add(collection);
    result.push({ name: collection, a: await sideDelta("a", nameA), b: await sideDelta("b", nameB) });
  }

  // vdirsyncer's sanity check: every collection must open; a missing local one is created here.
  const storages = { a: await ctx.storages.section(resolved.a), b: await ctx.storages.section(resolved.b) };
  for (const c of result) {
    await openCollection(ctx, storages.a, c.a, { create: true });
    await openCollection(ctx, storages.b, c.b, { create: true });
  }

  const compress = (delta: StorageArgs, section: StorageArgs): StorageArgs => {
    const out: StorageArgs = {};
    for (const [k, v] of Object.entries(delta)) {
      if (!(k in section) || JSON.stringify(section[k]) !== JSON.stringify(v)) out[k] = v;
    }
    return out;
  };
  const collections: CachedCollection[] = result.map((c) => [
    c.name,
    [compress(c.a, resolved.a), compress(c.b, resolved.b)],
  ]);
  writeDiscoveryCache(await statusPath(ctx), name, { collections, cache_key: resolved.cacheKey });
  return result.map((c) => c.name);
}
