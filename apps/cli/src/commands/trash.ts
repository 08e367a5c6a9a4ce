/**
 * `vdirsyncer trash list|show|restore|prune`: the versions syncs overwrote or deleted, and the journal of runs
 * that says what happened to each. The journal of a sync lives in `../sync-journal.ts`, the put-back machinery
 * `restore` shares with `undo` in `../put-back.ts`.
 */
import { UserError } from "@vdirsyncer/core/engine";
import {
  applyRetention,
  DEFAULT_RETENTION,
  findTrashEntries,
  type JournalAction,
  type JournalRun,
  listTrash,
  type PruneResult,
  RunRecorder,
  readRuns,
  readTrashItem,
  type TrashListing,
} from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { formatBytes, parseDuration, parseSize } from "../durations-and-sizes.ts";
import { agreeToReplace, applyPutBack, lockPairs, type PutBackGroup, preparePutBack } from "../put-back.ts";
import { statusNameOf } from "../targets.ts";

/** A local time as `2025-06-14 17:30:12`. */
function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Splits `PAIR[/COLLECTION]` at the first slash (as `sync` does); `undefined` collection = all of them. */
function splitTarget(arg: string | undefined): { pair?: string; collection?: string | null } {
  if (arg === undefined || arg === "") return {};
  const slash = arg.indexOf("/");
  if (slash === -1) return { pair: arg };
  const collection = arg.slice(slash + 1);
  return { pair: arg.slice(0, slash), collection: collection === "" ? undefined : collection };
}

// ---------------------------------------------------------------------------------------------------------------
// What happened to an entry, from the journal.

/** How an entry came into the trash, as `trash list` tells it. */
export interface EntryStory {
  /** `overwritten`, `deleted`, or `unchanged` (kept before a write that failed or never started). */
  happened: "overwritten" | "deleted" | "unchanged";
  /** `sync`, `undo`, `restore`, or `null` when no run is known (repair, older versions). */
  by: JournalRun["kind"] | null;
  run: string | null;
  /** The action's result, when the journal still has the run. */
  result: JournalAction["result"] | null;
  /** The hash of the version that replaced it (to tell whether that is still the current one). */
  replacedBy: string | null;
}

/** Index of the journal: entry id → its action and run. */
function journalIndex(runs: readonly JournalRun[]): Map<string, { run: JournalRun; action: JournalAction }> {
  const index = new Map<string, { run: JournalRun; action: JournalAction }>();
  for (const run of runs) {
    for (const action of run.actions) for (const id of action.trash) index.set(id, { run, action });
  }
  return index;
}

function storyOf(entry: TrashListing, index: ReturnType<typeof journalIndex>): EntryStory {
  const found = index.get(entry.id);
  const result = found?.action.result ?? null;
  const happened =
    result !== null && result !== "done"
      ? "unchanged"
      : entry.reason === "delete"
        ? "deleted"
        : "overwritten";
  return {
    happened,
    by: found?.run.kind ?? entry.origin ?? null,
    run: entry.run,
    result,
    replacedBy: found?.action.hash ?? null,
  };
}

function describeStory(s: EntryStory): string {
  const who = s.run === null ? (s.by ?? "") : `${s.by ?? "run"} ${s.run}`;
  if (s.happened === "unchanged") {
    return `kept by ${who}, not changed (${s.result === "failed" ? "the write failed" : "stopped before the write"})`;
  }
  return who === "" ? s.happened : `${s.happened} by ${who}`;
}

// ---------------------------------------------------------------------------------------------------------------
// trash list

interface ListOptions {
  target?: string;
  json: boolean;
}

async function runList(ctx: AppContext, options: ListOptions): Promise<number> {
  const root = await statusPath(ctx);
  const where = splitTarget(options.target);
  if (where.pair !== undefined) await ctx.pair(where.pair);
  const entries = listTrash(root, where);
  const index = journalIndex(readRuns(root, where));
  if (options.json) {
    const out = entries.map((e) => {
      const s = storyOf(e, index);
      return {
        id: e.id,
        time: e.time,
        pair: e.pair,
        collection: e.collection,
        side: e.side,
        storage: e.storage,
        reason: e.reason,
        happened: s.happened,
        by: s.by,
        run: s.run,
        result: s.result,
        name: e.name,
        uid: e.uid,
        ident: e.ident,
        href: e.href,
        size: e.size,
      };
    });
    ctx.io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    ctx.out.info("The trash is empty.");
    return 0;
  }
  for (const e of entries) {
    const name = e.name === null ? "(no name)" : JSON.stringify(e.name);
    ctx.io.stdout.write(
      `${e.id}  ${localTime(e.time)}  ${statusNameOf(e.pair, e.collection)}  ${e.side} (${e.storage})  ${describeStory(storyOf(e, index))}  ${name}  ${e.uid ?? e.ident}\n`,
    );
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// trash show

/**
 * The entry `id` names (a unique prefix of at least 4 characters is enough).
 * @throws {UserError} none or several match
 */
export function entryById(root: string, id: string): TrashListing {
  const found = findTrashEntries(root, id);
  if (found.length === 1) return found[0] as TrashListing;
  if (found.length === 0) {
    throw new UserError(`No kept version with the id ${JSON.stringify(id)} in the trash.`, {
      hint: "`vdirsyncer trash list` shows the ids; old versions are pruned after 30 days.",
    });
  }
  throw new UserError(`The id ${JSON.stringify(id)} names ${found.length} kept versions.`, {
    hint: `Give more of it: ${found.map((e) => e.id).join(", ")}.`,
  });
}

async function runShow(ctx: AppContext, id: string): Promise<number> {
  const entry = entryById(await statusPath(ctx), id);
  ctx.io.stdout.write(readTrashItem(entry));
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// trash restore

async function runRestore(ctx: AppContext, ids: readonly string[], force: boolean): Promise<number> {
  const root = await statusPath(ctx);
  const entries = [...new Map(ids.map((id) => entryById(root, id)).map((e) => [e.id, e])).values()];
  const groups = new Map<string, { pair: string; collection: string | null; entries: TrashListing[] }>();
  for (const e of entries) {
    const k = JSON.stringify([e.pair, e.collection]);
    const g = groups.get(k) ?? { pair: e.pair, collection: e.collection, entries: [] };
    g.entries.push(e);
    groups.set(k, g);
  }
  const config = await ctx.config();
  const locks = await lockPairs(
    ctx,
    root,
    [...groups.values()].map((g) => g.pair).filter((p) => config.pairs.has(p)),
  );
  try {
    const prepared: PutBackGroup[] = [];
    for (const g of groups.values()) {
      const index = journalIndex(readRuns(root, { pair: g.pair, collection: g.collection }));
      // What replaced the version: nothing for a deletion, else what the run wrote (when the journal knows it).
      const wanted = g.entries.map((entry) => ({
        entry,
        expect: entry.reason === "delete" ? null : (index.get(entry.id)?.action.hash ?? undefined),
      }));
      prepared.push(await preparePutBack(ctx, root, g.pair, g.collection, wanted));
    }
    if (!(await agreeToReplace(ctx, prepared, force))) return 1;
    let failed = 0;
    for (const g of prepared) {
      const recorder = new RunRecorder(root, { kind: "restore", pair: g.pair, collection: g.collection });
      try {
        failed += await applyPutBack(ctx, g, recorder);
      } finally {
        await recorder.finish();
      }
    }
    if (failed === 0) ctx.out.info("Restored. The next `vdirsyncer sync` copies it to the other side.");
    return failed === 0 ? 0 : 1;
  } finally {
    for (const l of locks) l.release();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// trash prune

async function runPrune(
  ctx: AppContext,
  options: { olderThan?: string; maxSize?: string; json: boolean },
): Promise<number> {
  const olderThanMs =
    options.olderThan === undefined ? DEFAULT_RETENTION.olderThanMs : parseDuration(options.olderThan);
  const maxBytes = options.maxSize === undefined ? DEFAULT_RETENTION.maxBytes : parseSize(options.maxSize);
  const root = await statusPath(ctx);
  const result: PruneResult = applyRetention(root, { olderThanMs, maxBytes });
  if (options.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({
        removed: result.removed.length,
        removedBytes: result.removedBytes,
        kept: result.kept,
        keptBytes: result.keptBytes,
        ids: result.removed.map((e) => e.id),
      })}\n`,
    );
    return 0;
  }
  ctx.out.info(
    `Removed ${result.removed.length} kept versions (${formatBytes(result.removedBytes)}); ${result.kept} remain (${formatBytes(result.keptBytes)}).`,
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The yargs module.

/** The yargs module of `trash`. */
export function trashCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "trash",
    describe: "List, show, restore and prune the item versions syncs overwrote or deleted.",
    builder: (y: Argv) =>
      y
        .command({
          command: "list [target]",
          describe: "One line per kept version: id, time, collection, side, what happened, name and UID.",
          builder: (yy: Argv) =>
            yy
              .positional("target", { type: "string", describe: "PAIR or PAIR/COLLECTION" })
              .option("json", { type: "boolean", default: false, describe: "Print a JSON array on stdout." }),
          handler: (argv: ArgumentsCamelCase) =>
            run((ctx) =>
              runList(ctx, {
                target: argv.target === undefined ? undefined : String(argv.target),
                json: argv.json === true,
              }),
            ),
        })
        .command({
          command: "show <id>",
          describe: "Print a kept version.",
          builder: (yy: Argv) =>
            yy.positional("id", { type: "string", describe: "as `trash list` shows it" }),
          handler: (argv: ArgumentsCamelCase) => run((ctx) => runShow(ctx, String(argv.id))),
        })
        .command({
          command: "restore <ids..>",
          describe:
            "Put kept versions back on the side they were taken from; the next sync copies them to the other side.",
          builder: (yy: Argv) =>
            yy
              .positional("ids", { type: "string", array: true, describe: "as `trash list` shows them" })
              .option("force", {
                type: "boolean",
                default: false,
                describe: "Replace items changed since, without asking (what is there goes to the trash).",
              }),
          handler: (argv: ArgumentsCamelCase) =>
            run((ctx) =>
              runRestore(ctx, ((argv.ids as string[] | undefined) ?? []).map(String), argv.force === true),
            ),
        })
        .command({
          command: "prune",
          describe:
            "Remove old kept versions (by default older than 30 days, then the oldest beyond 100 MiB); the last run's always stay.",
          builder: (yy: Argv) =>
            yy
              .option("older-than", {
                type: "string",
                describe: "Remove versions older than this: 30d, 12h, 2w.",
              })
              .option("max-size", {
                type: "string",
                describe: "Then remove the oldest beyond this: 100M, 1G.",
              })
              .option("json", {
                type: "boolean",
                default: false,
                describe: "Print a JSON summary on stdout.",
              }),
          handler: (argv: ArgumentsCamelCase) =>
            run((ctx) =>
              runPrune(ctx, {
                olderThan: typeof argv.olderThan === "string" ? argv.olderThan : undefined,
                maxSize: typeof argv.maxSize === "string" ? argv.maxSize : undefined,
                json: argv.json === true,
              }),
            ),
        })
        .demandCommand(1, "Give a trash command: list, show, restore or prune."),
    handler: () => {},
  };
}
