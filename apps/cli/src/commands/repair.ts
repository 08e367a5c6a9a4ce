/**
 * `vdirsyncer repair STORAGE[/COLLECTION] [--repair-unsafe-uid]`: gives items without a UID, with a duplicate UID
 * or (on request) with an unsafe UID a new one, as vdirsyncer's `repair` does. The argument names a storage section,
 * not a pair. Old versions go to the trash under the status path first.
 */
import { repairCollection, UserError, type WritableCollection } from "@vdirsyncer/core/engine";
import { createDiskTrash } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { AbortedError } from "../errors.ts";
import { takePairLocks } from "../pair-locks.ts";
import { confirm } from "../prompt.ts";
import { openCollection, type StorageArgs } from "../storages.ts";

/** Runs `repair`; returns the exit code. */
export async function runRepair(ctx: AppContext, target: string, repairUnsafeUid: boolean): Promise<number> {
  const { out } = ctx;
  out.warn("This operation will take a very long time.");
  out.warn("It's recommended to make a backup and turn off other client's synchronization features.");
  if (!(await confirm(out, ctx.reader, "Do you want to continue?"))) throw new AbortedError();

  const slash = target.indexOf("/");
  const storageName = slash === -1 ? target : target.slice(0, slash);
  const collection = slash === -1 ? null : target.slice(slash + 1);
  const section = await ctx.resolvedStorage(storageName);
  const storage = await ctx.storages.section(section);
  let delta: StorageArgs = {};
  if (collection !== null) {
    out.info("Discovering collections (skipping cache).");
    let found: StorageArgs | undefined;
    for await (const info of storage.hosted.discover()) {
      if (info.id === collection) {
        const config = { ...(info.config as StorageArgs) };
        delete config.collection;
        found = { collection, ...config };
        break;
      }
    }
    if (!found) {
      throw new UserError(`Couldn't find collection ${collection} for storage ${storageName}.`, {
        hint: `Run \`vdirsyncer discover\` to see the collections of ${storageName}.`,
      });
    }
    delta = found;
  }
  const opened = await openCollection(ctx, storage, delta, { create: true, signal: ctx.halt.signal });
  if (opened.readOnly || !("upload" in opened.collection)) {
    throw new UserError(`Storage ${opened.instance} is read-only; repair would have to change it.`, {
      hint: "Remove `read_only = true` from the storage section for the repair.",
    });
  }
  out.info(`Repairing ${opened.instance}`);
  out.warn("Make sure no other program is talking to the server.");
  // The locks of every pair using this storage, as for `sync`: none of our syncs runs during the repair.
  const root = await statusPath(ctx);
  const config = await ctx.config();
  const pairs = [...config.pairs.values()].filter((p) => p.a === storageName || p.b === storageName);
  const locks = await takePairLocks(
    ctx,
    root,
    pairs.map((p) => p.name),
  );
  try {
    await repairCollection(opened.collection as WritableCollection, {
      repairUnsafeUid,
      log: out,
      name: opened.instance,
      // Storage and pair names never collide (vdirsyncer refuses it), so the storage name is a safe trash folder.
      trash: createDiskTrash(root, storageName, collection),
    });
  } finally {
    for (const lock of locks) lock.release();
  }
  // vdirsyncer exits 0 even when items were beyond repair; they are listed above.
  return 0;
}

/** The yargs module of `repair`. */
export function repairCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "repair <collection>",
    describe: "Repair a given collection: STORAGE or STORAGE/COLLECTION.",
    builder: (y: Argv) =>
      y
        .positional("collection", { type: "string", describe: "STORAGE or STORAGE/COLLECTION" })
        .option("repair-unsafe-uid", {
          type: "boolean",
          default: false,
          describe:
            "Some characters in item UIDs and URLs may cause problems with buggy software. Adding this option will reassign new UIDs to those items.",
        })
        .example(
          "$0 repair calendars_local/foo",
          "Repair the `foo` collection of the `calendars_local` storage",
        ),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) => runRepair(ctx, String(argv.collection), argv.repairUnsafeUid === true)),
  };
}
