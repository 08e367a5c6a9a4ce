/**
 * The `[COLLECTION…]` arguments of `sync` and `metasync` (vdirsyncer's `collections_arg_callback`), and the
 * collections they select from the discovery cache.
 */
import { UserError } from "@vdirsyncer/core";
import { pyRepr as pyReprList } from "@vdirsyncer/core/compat";
import { pythonJsonDumps } from "@vdirsyncer/status";
import { cachedCollections, type PairCollection, type ResolvedPair, resolvePair } from "./collections.ts";
import type { AppContext } from "./context.ts";

/**
 * Groups `pair` and `pair/collection` arguments by pair, in order: `null` means all collections.
 *
 * Fixed on purpose: a bare `pair` means all its collections whatever else is given for it (vdirsyncer's
 * `sync p p/c` syncs only `c`), and an argument is split at the first `/` only (vdirsyncer crashes on two).
 */
export function groupTargets(args: readonly string[]): Map<string, Set<string> | null> {
  const groups = new Map<string, Set<string> | null>();
  for (const arg of args) {
    const slash = arg.indexOf("/");
    const pair = slash === -1 ? arg : arg.slice(0, slash);
    const collection = slash === -1 ? "" : arg.slice(slash + 1);
    if (collection === "") groups.set(pair, null);
    else if (!groups.has(pair)) groups.set(pair, new Set([collection]));
    else groups.get(pair)?.add(collection);
  }
  return groups;
}

/** One pair and the cached collections selected from it. */
export interface PairTarget {
  resolved: ResolvedPair;
  collections: PairCollection[];
}

/**
 * Resolves the arguments (all pairs when there are none) into pairs and collections from the discovery cache.
 * Any error here stops the whole command before anything is synced, as in vdirsyncer.
 * @throws {PairNotFoundError} an unknown pair
 * @throws {UserError} no or stale discovery cache, an unknown collection
 */
export async function selectTargets(ctx: AppContext, args: readonly string[]): Promise<PairTarget[]> {
  const config = await ctx.config();
  const groups = groupTargets(args.length > 0 ? args : [...config.pairs.keys()]);
  const targets: PairTarget[] = [];
  for (const [pairName, wanted] of groups) {
    const resolved = await resolvePair(ctx, pairName);
    const all = await cachedCollections(ctx, resolved);
    if (wanted === null) {
      targets.push({ resolved, collections: all });
      continue;
    }
    const picked: PairCollection[] = [];
    for (const name of wanted) {
      const found = all.find((c) => c.name === name);
      if (!found) {
        // vdirsyncer's wording, missing space included.
        throw new UserError(
          `Pair ${pairName}: Collection ${pythonJsonDumps(name)} not found.These are the configured collections:\n${pyReprList(all.map((c) => c.name))}`,
          { hint: `Run \`vdirsyncer discover ${pairName}\` if the collection is new.` },
        );
      }
      picked.push(found);
    }
    targets.push({ resolved, collections: picked });
  }
  return targets;
}

/** `<pair>` or `<pair>/<collection>`: the status name used in messages. */
export function statusNameOf(pair: string, collection: string | null): string {
  return collection === null ? pair : `${pair}/${collection}`;
}
