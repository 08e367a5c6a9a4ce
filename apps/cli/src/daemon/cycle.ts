/**
 * One sync of one collection by the daemon: the same steps as `vdirsyncer sync` for a collection (the section's
 * hosted storage, `openCollection` with vdirsyncer's implicit creation, the exclusive status, the engine, the
 * journal and the trash), without the dry run, progress and `--json` events, and with the errors handed back
 * instead of printed: the daemon decides what to print (a failure that repeats is printed once).
 */
import {
  type CollectionStatus,
  isVdirsyncerError,
  syncCollection,
  UserError,
  type VdirsyncerError,
} from "@vdirsyncer/core/engine";
import { openCollectionStatus, RunRecorder } from "@vdirsyncer/status";
import type { PairCollection, ResolvedPair } from "../collections.ts";
import type { AppContext } from "../context.ts";
import type { Tally } from "../stats.ts";
import { openCollection } from "../storages.ts";
import { statusNameOf } from "../targets.ts";

/** What one sync of a collection did. */
export interface CycleResult {
  /** Every error, the collection's own first (it stopped the collection) and then the actions'. */
  errors: unknown[];
  /** Actions done (uploads, updates, deletes, resolved conflicts). */
  done: number;
  /** Actions left for later because the daemon is stopping. */
  notStarted: number;
}

/** Syncs collection `c` of `resolved` once; never throws. */
export async function syncOnce(
  ctx: AppContext,
  root: string,
  resolved: ResolvedPair,
  c: PairCollection,
  stats: Tally,
): Promise<CycleResult> {
  const { pair } = resolved;
  const result: CycleResult = { errors: [], done: 0, notStarted: 0 };
  const journal = new RunRecorder(root, { kind: "sync", pair: pair.name, collection: c.name });
  const fail = (err: unknown) => {
    result.errors.push(err);
    journal.error(err);
  };
  let status: CollectionStatus | undefined;
  try {
    const open = async (side: "a" | "b") =>
      openCollection(ctx, await ctx.storages.section(resolved[side]), c[side], {
        create: true,
        signal: ctx.halt.signal,
        stats,
      });
    const a = await open("a");
    const b = await open("b");
    if (pair.partialSyncSet && !a.readOnly && !b.readOnly) {
      throw new UserError(
        "`partial_sync` is only effective if one storage is read-only. Use `read_only = true` in exactly one storage section.",
        { hint: "Remove `partial_sync` from the pair section, or make one storage read-only." },
      );
    }
    status = openCollectionStatus(root, pair.name, c.name, { log: ctx.out, exclusive: true });
    journal.storages = { a: a.instance, b: b.instance };
    const report = await syncCollection({
      a: {
        name: a.instance,
        collection: journal.observe("a", a.collection),
        readOnly: a.readOnly,
        noDelete: a.noDelete,
      },
      b: {
        name: b.instance,
        collection: journal.observe("b", b.collection),
        readOnly: b.readOnly,
        noDelete: b.noDelete,
      },
      status,
      trash: journal.trash,
      conflictResolution: pair.conflictResolution,
      partialSync: pair.partialSync,
      forceDelete: false,
      dryRun: false,
      stop: ctx.stop.signal,
      log: ctx.out,
      onEvent: (event) => {
        journal.onEvent(event);
        if (event.type === "action-done") result.done++;
      },
      onError: (err: VdirsyncerError) => fail(err),
    });
    result.notStarted = report.notStarted;
  } catch (err) {
    fail(err);
  } finally {
    try {
      await status?.close?.();
    } catch (err) {
      fail(err);
    }
    await journal
      .finish()
      .catch((err: unknown) =>
        ctx.out.warn(
          `${statusNameOf(pair.name, c.name)}: the journal could not be written: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
  }
  return result;
}

/** True when a failure only says that the run was stopped (not a failure of the collection). */
export function isStop(err: unknown): boolean {
  return isVdirsyncerError(err, "STOPPED") || (err instanceof Error && err.name === "AbortError");
}
