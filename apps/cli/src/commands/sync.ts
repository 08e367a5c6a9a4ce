/**
 * `vdirsyncer sync [COLLECTION…] [--force-delete] [--dry-run] [--json]`: syncs the cached collections of the
 * given pairs, all collections of all pairs at once (bounded), one failing collection not stopping the others.
 */
import { existsSync, readFileSync } from "node:fs";
import {
  type CollectionStatus,
  type ConflictResolution,
  createMemoryStatus,
  describeConflictResolution,
  isVdirsyncerError,
  type SyncAction,
  type SyncEvent,
  syncCollection,
  UserError,
  type VdirsyncerError,
} from "@vdirsyncer/core/engine";
import { createMemoryStorage } from "@vdirsyncer/core/memory";
import { fromLegacyStatus, openCollectionStatus, type PairLock, statusFilePath } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { type PairCollection, type ResolvedPair, statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { ErrorDigest, hintFor, reportError } from "../errors.ts";
import { heldByDaemon, takePairLock } from "../pair-locks.ts";
import { runPool } from "../pool.ts";
import { Progress } from "../progress.ts";
import { Tally } from "../stats.ts";
import { openCollection } from "../storages.ts";
import { retainAfterSync, syncJournal } from "../sync-journal.ts";
import { selectTargets, statusNameOf } from "../targets.ts";

/** How many collections sync at once. */
export const SYNC_CONCURRENCY = 4;

/** Options of {@link runSync}. */
export interface SyncCommandOptions {
  collections: string[];
  forceDelete: boolean;
  dryRun: boolean;
  json: boolean;
}

/** What one collection did, for `--json` and the summary. */
interface Counts {
  uploads: number;
  updates: number;
  deletes: number;
  conflicts: number;
  errors: number;
}

function zero(): Counts {
  return { uploads: 0, updates: 0, deletes: 0, conflicts: 0, errors: 0 };
}

function count(counts: Counts, action: SyncAction): void {
  if (action.kind === "upload") counts.uploads++;
  else if (action.kind === "update") counts.updates++;
  else if (action.kind === "delete") counts.deletes++;
  else counts.conflicts++;
}

function errorJson(err: unknown): Record<string, unknown> {
  if (isVdirsyncerError(err))
    return { code: err.code, message: err.message, hint: hintFor(err), ...err.context };
  return { code: "UNKNOWN", message: err instanceof Error ? err.message : String(err), hint: hintFor(err) };
}

/**
 * Reads a collection's status for a dry run without writing anything: the SQLite rows (or a legacy JSON
 * status) copied into memory. Opening an existing schema-1 database only reads it.
 */
function dryRunStatus(root: string, pair: string, collection: string | null): CollectionStatus {
  const path = statusFilePath(root, pair, collection, "items");
  const legacy = path.slice(0, -".items".length);
  const file = existsSync(path) ? path : existsSync(legacy) ? legacy : undefined;
  if (file === undefined) return createMemoryStatus();
  const bytes = readFileSync(file);
  if (bytes[0] === 0x7b)
    return createMemoryStatus(fromLegacyStatus(JSON.parse(bytes.toString("utf8")), file));
  if (file !== path) return createMemoryStatus();
  const status = openCollectionStatus(root, pair, collection);
  try {
    return createMemoryStatus([...status.rows()]);
  } finally {
    status.close();
  }
}

/** The line a dry run prints for one planned action. */
function describe(
  action: SyncAction,
  names: { a: string; b: string },
  readOnly: { a: boolean; b: boolean },
  resolution: ConflictResolution | null,
  partialSync: string,
): string {
  const ro = (side: "a" | "b") =>
    readOnly[side] ? ` (${names[side]} is read-only: partial_sync = "${partialSync}")` : "";
  switch (action.kind) {
    case "upload":
      return `Would copy (upload) item ${action.ident} to ${names[action.side]}${ro(action.side)}`;
    case "update":
      return `Would copy (update) item ${action.ident} to ${names[action.side]}${ro(action.side)}`;
    case "delete":
      return `Would delete item ${action.ident} from ${names[action.side]}${ro(action.side)}`;
    case "conflict":
      if (action.sameContent) return `Would record item ${action.ident} (same content on both sides)`;
      if (resolution === null)
        return `Would report a conflict for item ${action.ident} (changed on both sides, no conflict_resolution)`;
      return `Would resolve the conflict for item ${action.ident} (${describeConflictResolution(resolution)})`;
  }
}

/** An empty stand-in for a collection that a real run would create first. */
async function emptyCollection(ctx: AppContext, resolved: ResolvedPair, side: "a" | "b", c: PairCollection) {
  const name = statusNameOf(String(resolved[side].instance_name), c.name);
  ctx.out.info(`Would create collection ${JSON.stringify(c.name)} for storage ${name}`);
  const storage = createMemoryStorage();
  return { instance: name, collection: storage.open(null), readOnly: false, noDelete: false };
}

/** Runs `sync`; returns the exit code. */
export async function runSync(ctx: AppContext, options: SyncCommandOptions): Promise<number> {
  const { out } = ctx;
  const json = (value: Record<string, unknown>) => {
    if (options.json) ctx.io.stdout.write(`${JSON.stringify(value)}\n`);
  };
  let targets: Awaited<ReturnType<typeof selectTargets>>;
  try {
    targets = await selectTargets(ctx, options.collections);
  } catch (err) {
    // A script reading --json always gets its summary, even when nothing could start.
    json({ event: "summary", ok: false, collections: 0, ...zero(), errors: 1 });
    throw err;
  }
  const root = await statusPath(ctx);
  const progress =
    ctx.io.stderr.isTTY === true && !options.json && out.level !== "DEBUG"
      ? new Progress(ctx.io.stderr)
      : undefined;
  out.progress = progress;
  const total = zero();
  const totalStats = new Tally();
  let failed = 0;
  let collections = 0;

  const locks: PairLock[] = [];
  const tasks: (() => Promise<void>)[] = [];
  try {
    for (const { resolved, collections: list } of targets) {
      const pairName = resolved.pair.name;
      if (!options.dryRun) {
        try {
          locks.push(await takePairLock(ctx, root, pairName));
        } catch (err) {
          const daemon = heldByDaemon(root, err);
          if (daemon !== undefined) {
            // A cron sync meeting the daemon: the daemon syncs this pair anyway, so this is no failure.
            out.warn(
              `${pairName}: skipped: the vdirsyncer daemon (process ${daemon.pid}) is syncing this pair and keeps it in sync.`,
            );
            continue;
          }
          reportError(out, err, pairName);
          failed += list.length;
          continue;
        }
      }
      for (const c of list) {
        tasks.push(async () => {
          // After a stop, collections that have not started yet are left for the next run.
          if (ctx.stop.signal.aborted) return;
          const name = statusNameOf(pairName, c.name);
          const counts = zero();
          const stats = new Tally();
          collections++;
          const ok = await syncOne(ctx, options, root, resolved, c, counts, json, progress, stats);
          stats.end();
          if (!ok) failed++;
          for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += counts[k];
          totalStats.merge(stats);
          out.debug(`${name}: ${stats.line()}`);
          json({
            event: "collection",
            collection: name,
            status: ok ? "done" : "failed",
            ...counts,
            stats: stats.toJSON(),
          });
        });
      }
    }
    await runPool(tasks, SYNC_CONCURRENCY);
    if (!options.dryRun) retainAfterSync(ctx, root);
  } finally {
    for (const lock of locks) lock.release();
    progress?.clear();
    out.progress = undefined;
  }
  if (options.dryRun) out.info("Dry run: nothing was written.");
  totalStats.end();
  json({ event: "summary", ok: failed === 0, collections, ...total, stats: totalStats.toJSON() });
  return failed === 0 ? 0 : 1;
}

/** Syncs one collection; reports its errors; returns whether it synced cleanly. */
async function syncOne(
  ctx: AppContext,
  options: SyncCommandOptions,
  root: string,
  resolved: ResolvedPair,
  c: PairCollection,
  counts: Counts,
  json: (value: Record<string, unknown>) => void,
  progress: Progress | undefined,
  stats: Tally,
): Promise<boolean> {
  const { out } = ctx;
  const { pair } = resolved;
  const name = statusNameOf(pair.name, c.name);
  let ok = true;
  // The journal of this run: what each action did and the trash entries it kept (read by `trash` and `undo`).
  const journal = options.dryRun ? undefined : syncJournal(ctx, root, pair.name, c.name);
  const digest = new ErrorDigest(out, name);
  const fail = (err: unknown) => {
    ok = false;
    counts.errors++;
    journal?.error(err);
    // Another program changing 126 items meanwhile is one error and a count, not 126 of each.
    digest.report(err);
  };
  out.info(`Syncing ${name}`);
  progress?.start(name);
  let status: CollectionStatus | undefined;
  try {
    // The section's storage is shared by every collection and pair of this run, and closed when the command ends.
    const open = async (side: "a" | "b") => {
      const storage = await ctx.storages.section(resolved[side]);
      const delta = c[side];
      const opening = { signal: ctx.halt.signal, stats };
      if (!options.dryRun) return openCollection(ctx, storage, delta, { create: true, ...opening });
      try {
        return await openCollection(ctx, storage, delta, { create: false, ...opening });
      } catch (err) {
        if (!isVdirsyncerError(err, "COLLECTION_NOT_FOUND")) throw err;
        return emptyCollection(ctx, resolved, side, c);
      }
    };
    const a = await open("a");
    const b = await open("b");
    if (pair.partialSyncSet && !a.readOnly && !b.readOnly) {
      throw new UserError(
        "`partial_sync` is only effective if one storage is read-only. Use `read_only = true` in exactly one storage section.",
        { hint: "Remove `partial_sync` from the pair section, or make one storage read-only." },
      );
    }
    status = options.dryRun
      ? dryRunStatus(root, pair.name, c.name)
      : openCollectionStatus(root, pair.name, c.name, { log: out, exclusive: true });
    const names = { a: a.instance, b: b.instance };
    if (journal) journal.storages = names;
    const onEvent = (event: SyncEvent) => {
      journal?.onEvent(event);
      switch (event.type) {
        case "listed":
          json({
            event: "listed",
            collection: name,
            side: event.side,
            storage: names[event.side],
            method: event.method,
            count: event.count,
            toFetch: event.toFetch,
          });
          break;
        case "planned":
          json({
            event: "planned",
            collection: name,
            actions: event.plan.actions,
            unchanged: event.plan.unchanged,
          });
          progress?.update(name, 0, event.plan.actions.length);
          if (options.dryRun) {
            for (const action of event.plan.actions) {
              count(counts, action);
              out.info(
                describe(
                  action,
                  names,
                  { a: a.readOnly, b: b.readOnly },
                  pair.conflictResolution,
                  pair.partialSync,
                ),
              );
            }
          }
          break;
        case "action-done":
          count(counts, event.action);
          json({
            event: "action",
            collection: name,
            status: "done",
            action: event.action,
            done: event.done,
            total: event.total,
          });
          progress?.update(name, event.done, event.total);
          break;
        case "action-failed":
          json({
            event: "action",
            collection: name,
            status: "failed",
            action: event.action,
            error: errorJson(event.error),
            done: event.done,
            total: event.total,
          });
          progress?.update(name, event.done, event.total);
          break;
        case "item-unreadable":
          json({
            event: "item-unreadable",
            collection: name,
            side: event.side,
            href: event.href,
            error: errorJson(event.error),
          });
          break;
      }
    };
    const report = await syncCollection({
      a: {
        name: a.instance,
        collection: journal?.observe("a", a.collection) ?? a.collection,
        readOnly: a.readOnly,
        noDelete: a.noDelete,
      },
      b: {
        name: b.instance,
        collection: journal?.observe("b", b.collection) ?? b.collection,
        readOnly: b.readOnly,
        noDelete: b.noDelete,
      },
      status,
      trash: journal?.trash,
      conflictResolution: pair.conflictResolution,
      partialSync: pair.partialSync,
      forceDelete: options.forceDelete,
      dryRun: options.dryRun,
      stop: ctx.stop.signal,
      log: out,
      onEvent,
      onError: (err: VdirsyncerError) => fail(err),
    });
    if (report.notStarted > 0) {
      out.warn(`${name}: stopped; ${report.notStarted} changes are left for the next sync.`);
    }
  } catch (err) {
    fail(err);
  } finally {
    digest.finish();
    await status?.close?.();
    await journal
      ?.finish()
      .catch((err: unknown) => out.warn(`${name}: the journal could not be written: ${String(err)}`));
    progress?.end(name);
  }
  return ok;
}

/** The yargs module of `sync`. */
export function syncCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "sync [collections..]",
    describe:
      "Synchronize the given collections or pairs. If no arguments are given, all will be synchronized.",
    builder: (y: Argv) =>
      y
        .positional("collections", { type: "string", array: true, describe: "PAIR or PAIR/COLLECTION" })
        .option("force-delete", {
          type: "boolean",
          default: false,
          describe: "Do/Don't abort synchronization when all items are about to be deleted from both sides.",
        })
        .option("dry-run", {
          type: "boolean",
          default: false,
          describe: "Print what would change; write nothing.",
        })
        .option("json", {
          type: "boolean",
          default: false,
          describe: "Print one JSON object per event on stdout.",
        })
        .example("$0 sync", "Sync everything configured")
        .example("$0 sync bob frank", 'Sync the pairs "bob" and "frank"')
        .example("$0 sync bob/first_collection", 'Sync only "first_collection" from the pair "bob"'),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) =>
        runSync(ctx, {
          collections: ((argv.collections as string[] | undefined) ?? []).map(String),
          forceDelete: argv.forceDelete === true,
          dryRun: argv.dryRun === true,
          json: argv.json === true,
        }),
      ),
  };
}
