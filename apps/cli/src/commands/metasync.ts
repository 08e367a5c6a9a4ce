/**
 * `vdirsyncer metasync [COLLECTION…]`: syncs the pair's `metadata` keys (displayname, color, …). Pairs run one
 * after another, the collections of one pair at once; the first failing pair stops the rest, as in vdirsyncer.
 */
import { type MetaKey, metasyncCollection } from "@vdirsyncer/core/engine";
import { openMetaStatus, type PairLock } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { reportError } from "../errors.ts";
import { takePairLock } from "../pair-locks.ts";
import { openCollection } from "../storages.ts";
import { selectTargets, statusNameOf } from "../targets.ts";

/** Runs `metasync`; returns the exit code. */
export async function runMetasync(ctx: AppContext, args: readonly string[]): Promise<number> {
  const { out } = ctx;
  const targets = await selectTargets(ctx, args);
  const root = await statusPath(ctx);
  for (const { resolved, collections } of targets) {
    // After a stop (SIGINT/SIGTERM), no new pair starts.
    if (ctx.stop.signal.aborted) break;
    const { pair } = resolved;
    // The pair lock, as for `sync`: the metadata status must not be written by two of our processes at once.
    let lock: PairLock;
    try {
      lock = await takePairLock(ctx, root, pair.name);
    } catch (err) {
      reportError(out, err, pair.name);
      return 1;
    }
    const results = await Promise.all(
      collections.map(async (c) => {
        const name = statusNameOf(pair.name, c.name);
        try {
          out.info(`Metasyncing ${name}`);
          const opening = { create: true, signal: ctx.halt.signal };
          const a = await openCollection(ctx, await ctx.storages.section(resolved.a), c.a, opening);
          const b = await openCollection(ctx, await ctx.storages.section(resolved.b), c.b, opening);
          await metasyncCollection({
            a: { name: a.instance, collection: a.collection, readOnly: a.readOnly },
            b: { name: b.instance, collection: b.collection, readOnly: b.readOnly },
            keys: pair.metadata as readonly MetaKey[],
            status: openMetaStatus(root, pair.name, c.name, { log: out }),
            conflictResolution: pair.conflictResolution,
            log: out,
          });
          return true;
        } catch (err) {
          reportError(out, err, name);
          return false;
        }
      }),
    ).finally(() => lock.release());
    if (results.includes(false)) return 1;
  }
  return 0;
}

/** The yargs module of `metasync`. */
export function metasyncCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "metasync [collections..]",
    describe: "Synchronize metadata of the given collections or pairs. See the `sync` command for usage.",
    builder: (y: Argv) =>
      y.positional("collections", { type: "string", array: true, describe: "PAIR or PAIR/COLLECTION" }),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) => runMetasync(ctx, ((argv.collections as string[] | undefined) ?? []).map(String))),
  };
}
