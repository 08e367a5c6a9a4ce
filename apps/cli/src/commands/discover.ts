/**
 * `vdirsyncer discover [PAIR…] [--list/--no-list]`: refreshes the collection cache of the given pairs (all by
 * default), one pair after another; the first error stops the command.
 */
import { pythonJsonDumps } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { discoverPair, statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { takePairLock } from "../pair-locks.ts";

/** Runs `discover`; returns the exit code. */
export async function runDiscover(ctx: AppContext, pairs: readonly string[], list: boolean): Promise<number> {
  const config = await ctx.config();
  for (const name of pairs.length > 0 ? pairs : [...config.pairs.keys()]) {
    // The pair lock, as for `sync`: a sync of this pair reads the collection cache this rewrites.
    await ctx.pair(name);
    const lock = await takePairLock(ctx, await statusPath(ctx), name);
    let saved: Awaited<ReturnType<typeof discoverPair>>;
    try {
      saved = await discoverPair(ctx, name, { list });
    } finally {
      lock.release();
    }
    const shown = saved.length === 1 && saved[0] === null ? null : saved;
    ctx.out.info(`Saved for ${name}: collections = ${pythonJsonDumps(shown)}`);
  }
  return 0;
}

/** The yargs module of `discover`. */
export function discoverCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "discover [pairs..]",
    describe: "Refresh collection cache for the given pairs.",
    builder: (y: Argv) =>
      y.positional("pairs", { type: "string", array: true, describe: "PAIR" }).option("list", {
        type: "boolean",
        default: true,
        describe:
          "Whether to list all collections from both sides during discovery, for debugging. This is slow and may crash for broken servers.",
      }),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) =>
        runDiscover(ctx, ((argv.pairs as string[] | undefined) ?? []).map(String), argv.list !== false),
      ),
  };
}
