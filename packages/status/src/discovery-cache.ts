/**
 * The `.collections` file: vdirsyncer's discovery cache (`cli/discover.py`).
 */
import { createHash } from "node:crypto";
import type { Logger } from "@vdirsyncer/core";
import { pythonJsonDumps } from "@vdirsyncer/core/compat";
import { loadJsonStatus, saveJsonStatus, statusFilePath } from "./files.ts";

/** vdirsyncer's `DISCOVERY_CACHE_VERSION`. */
export const DISCOVERY_CACHE_VERSION = 1;

/**
 * One cached collection: its name (`null` for the configured location itself) and, per side, the storage
 * arguments that differ from the configured section (e.g. `{collection, path}`), in insertion order.
 */
export type CachedCollection = [
  name: string | null,
  deltas: [a: Record<string, unknown>, b: Record<string, unknown>],
];

/** The content of `<status_path>/<pair>.collections`. */
export interface DiscoveryCache {
  collections: CachedCollection[];
  /** {@link discoveryCacheKey} of the configuration the cache was made from. */
  cache_key: string;
}

/**
 * vdirsyncer's cache key: the SHA-256 hex of Python's
 * `json.dumps([1, pair_collections, config_a, config_b], sort_keys=True)`, byte for byte.
 *
 * `configA`/`configB` MUST be the storage sections as written (paths not expanded), after fetch-param
 * expansion, including `instance_name`; `pairCollections` is the parsed `collections` value. Numbers that
 * are integral print as Python ints; wrap a float that Python would print as `1.0` in `PythonFloat`.
 */
export function discoveryCacheKey(pairCollections: unknown, configA: unknown, configB: unknown): string {
  const json = pythonJsonDumps([DISCOVERY_CACHE_VERSION, pairCollections, configA, configB], {
    sortKeys: true,
  });
  return createHash("sha256").update(json, "utf8").digest("hex");
}

/** The path of the discovery cache of `pair`. */
export function discoveryCachePath(statusPath: string, pair: string): string {
  return statusFilePath(statusPath, pair, null, "collections");
}

/**
 * Reads `<statusPath>/<pair>.collections`. Returns `undefined` when the file is missing, empty (`{}`), invalid
 * JSON or not of the cache's shape: the caller then asks for a new `discover` (a mismatching `cache_key` is
 * the caller's check). Tightens the file's permissions to 0600 with a warning, as vdirsyncer does.
 */
export function readDiscoveryCache(
  statusPath: string,
  pair: string,
  opts: { log?: Logger } = {},
): DiscoveryCache | undefined {
  const data = loadJsonStatus(discoveryCachePath(statusPath, pair), opts.log);
  if (data === undefined || typeof data.cache_key !== "string" || !Array.isArray(data.collections))
    return undefined;
  for (const c of data.collections) {
    const ok =
      Array.isArray(c) &&
      c.length === 2 &&
      (c[0] === null || typeof c[0] === "string") &&
      Array.isArray(c[1]) &&
      c[1].length === 2 &&
      c[1].every((d: unknown) => d !== null && typeof d === "object" && !Array.isArray(d));
    if (!ok) return undefined;
  }
  return { collections: data.collections as CachedCollection[], cache_key: data.cache_key };
}

/** Writes `<statusPath>/<pair>.collections` exactly as vdirsyncer would (Python JSON, atomic, 0600). */
export function writeDiscoveryCache(statusPath: string, pair: string, cache: DiscoveryCache): void {
  // Key order as vdirsyncer writes it: collections first, then cache_key.
  saveJsonStatus(discoveryCachePath(statusPath, pair), {
    collections: cache.collections,
    cache_key: cache.cache_key,
  });
}
