/**
 * `vdirsyncer trash list|show|restore|prune`: the versions syncs overwrote or deleted, and the journal of runs
 * that says what happened to each. Also what `sync` calls to journal its runs and apply the retention, and the
 * put-back machinery `undo` shares.
 */
import { existsSync } from "node:fs";
import {
  Item,
  isVdirsyncerError,
  type Side,
  type StatusRow,
  UserError,
  type WritableCollection,
} from "@vdirsyncer/core/engine";
import {
  applyRetention,
  DEFAULT_RETENTION,
  findTrashEntries,
  type JournalAction,
  type JournalRun,
  listTrash,
  lockPair,
  openCollectionStatus,
  type PairLock,
  type PruneResult,
  RunRecorder,
  readRuns,
  readTrashItem,
  statusFilePath,
  type TrashListing,
} from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { cachedCollections, resolvePair, statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { reportError } from "../errors.ts";
import { confirm } from "../prompt.ts";
import { type OpenedCollection, openCollection } from "../storages.ts";
import { statusNameOf } from "../targets.ts";

// ---------------------------------------------------------------------------------------------------------------
// The journal of a sync, and the retention after it.

const runIds = new WeakMap<AppContext, string>();

/** The run id of this command: every collection a `sync` touches shares it. */
function runIdOf(ctx: AppContext): string | undefined {
  return runIds.get(ctx);
}

/**
 * Starts the journal of one collection's sync: hand `trash` to the engine, `observe` both collections, feed it
 * the events and errors, and `finish()` it when the collection is done.
 */
export function syncJournal(
  ctx: AppContext,
  root: string,
  pair: string,
  collection: string | null,
): RunRecorder {
  const recorder = new RunRecorder(root, { run: runIdOf(ctx), kind: "sync", pair, collection });
  if (!runIds.has(ctx)) runIds.set(ctx, recorder.run);
  return recorder;
}

/**
 * The trash retention after a sync: {@link DEFAULT_RETENTION} over the whole status folder, never the last run
 * of a collection. A failure is a warning: the sync itself went fine.
 */
export function retainAfterSync(ctx: AppContext, root: string): void {
  try {
    const result = applyRetention(root, DEFAULT_RETENTION);
    if (result.removed.length > 0) {
      ctx.out.debug(
        `Trash: removed ${result.removed.length} old versions (${formatBytes(result.removedBytes)}); ${result.kept} kept (${formatBytes(result.keptBytes)}).`,
      );
    }
  } catch (err) {
    ctx.out.warn(`Pruning the trash failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing and formatting.

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * A duration such as `30d`, `12h`, `90m`, `2w` or `45s`; a bare number means days.
 * @throws {UserError} anything else
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  if (!m) {
    throw new UserError(`Invalid duration ${JSON.stringify(text)} for --older-than.`, {
      hint: "Write a number and a unit: 30d, 12h, 90m, 2w (a bare number means days).",
    });
  }
  return Number(m[1]) * (UNITS[(m[2] || "d").toLowerCase()] as number);
}

const SIZES: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A size such as `100M`, `1G`, `500K` or `2048` (bytes); `KB`, `KiB` and friends mean the same powers of 1024.
 * @throws {UserError} anything else
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])i?b?|(b)?)\s*$/i.exec(text);
  if (!m) {
    throw new UserError(`Invalid size ${JSON.stringify(text)} for --max-size.`, {
      hint: "Write a number and a unit: 100M, 1G, 500K (a bare number means bytes).",
    });
  }
  return Math.floor(Number(m[1]) * (SIZES[(m[2] ?? m[3] ?? "").toLowerCase()] as number));
}

/** `12.3 MiB`, `512 B`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

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
// Putting versions back (restore and undo).

/** One version to put back, and the version the caller expects to replace (`absent`, a hash, or unknown). */
export interface PutBack {
  entry: TrashListing;
  /** `null`: nothing should be there (a deletion); a hash: what the run wrote; `undefined`: not known. */
  expect: string | null | undefined;
}

/** The current version of an item on one side. */
interface Current {
  href: string;
  etag: string;
  item: Item;
}

interface PlannedPutBack extends PutBack {
  collection: OpenedCollection;
  current: Current | null;
  /** Already there: the current version has the kept content. */
  already: boolean;
  /** What is there is newer than what the run left: the user must agree. */
  newer: string | null;
}

/** The rows of a collection's status, read without writing anything. */
function statusRows(root: string, pair: string, collection: string | null): Map<string, StatusRow> {
  const rows = new Map<string, StatusRow>();
  if (!existsSync(statusFilePath(root, pair, collection, "items"))) return rows;
  const status = openCollectionStatus(root, pair, collection);
  try {
    for (const row of status.rows() as Iterable<StatusRow>) rows.set(row.ident, row);
  } finally {
    status.close();
  }
  return rows;
}

async function readCurrent(
  collection: OpenedCollection,
  ident: string,
  hrefs: readonly (string | null | undefined)[],
): Promise<Current | null> {
  const tried = new Set<string>();
  for (const href of hrefs) {
    if (!href || tried.has(href)) continue;
    tried.add(href);
    try {
      const got = await collection.collection.get(href);
      if (got.item.ident === ident) return { href, etag: got.etag, item: got.item };
    } catch (err) {
      if (!isVdirsyncerError(err, "NOT_FOUND")) throw err;
    }
  }
  return null;
}

/** One collection's put-backs, prepared: storages opened, current versions read, nothing written yet. */
export interface PutBackGroup {
  pair: string;
  collection: string | null;
  items: PlannedPutBack[];
}

/**
 * Opens the sides the entries were taken from (from the discovery cache, as `sync` does) and reads what each
 * item is now.
 * @throws {UserError} the pair is gone from the config, the collection from the cache, or a side is read-only
 */
export async function preparePutBack(
  ctx: AppContext,
  root: string,
  pair: string,
  collection: string | null,
  wanted: readonly PutBack[],
): Promise<PutBackGroup> {
  const config = await ctx.config();
  if (!config.pairs.has(pair)) {
    const storage = wanted[0]?.entry.storage ?? pair;
    throw new UserError(
      `The kept versions of ${statusNameOf(pair, collection)} belong to no configured pair (kept by \`vdirsyncer repair\` of ${storage}, or the pair was removed).`,
      { hint: "Copy it back by hand: `vdirsyncer trash show ID > file`." },
    );
  }
  const resolved = await resolvePair(ctx, pair);
  const found = (await cachedCollections(ctx, resolved)).find((c) => c.name === collection);
  if (!found) {
    throw new UserError(
      `Pair ${pair}: the collection ${JSON.stringify(collection)} is not configured any more.`,
      {
        hint: `Run \`vdirsyncer discover ${pair}\` if it should be, or copy the version back by hand with \`vdirsyncer trash show\`.`,
      },
    );
  }
  const rows = statusRows(root, pair, collection);
  const opened = new Map<Side, Promise<OpenedCollection>>();
  const side = (s: Side) => {
    let pending = opened.get(s);
    if (!pending) {
      pending = (async () => {
        const storage = await ctx.storages.section(resolved[s]);
        const o = await openCollection(ctx, storage, found[s], { create: false, signal: ctx.halt.signal });
        if (o.readOnly || !("upload" in o.collection)) {
          throw new UserError(`Storage ${o.instance} is read-only: nothing can be put back there.`, {
            hint: "Remove `read_only = true` from its section to restore into it.",
          });
        }
        return o;
      })();
      opened.set(s, pending);
    }
    return pending;
  };
  const items: PlannedPutBack[] = [];
  for (const w of wanted) {
    const { entry } = w;
    const c = await side(entry.side);
    const row = rows.get(entry.ident);
    const current = await readCurrent(c, entry.ident, [row?.[entry.side].href, entry.href]);
    const kept = entry.hash ?? new Item(readTrashItem(entry)).hash;
    const already = current !== null && current.item.hash === kept;
    let newer: string | null = null;
    if (!already) {
      if (w.expect === null && current !== null) newer = "it exists again";
      else if (w.expect !== null && current === null) newer = "it was deleted since";
      else if (current !== null && current.item.hash !== w.expect) newer = "it was changed since";
    }
    items.push({ ...w, collection: c, current, already, newer });
  }
  return { pair, collection, items };
}

/** Asks before replacing newer versions, or refuses without a terminal. */
export async function agreeToReplace(
  ctx: AppContext,
  groups: readonly PutBackGroup[],
  force: boolean,
): Promise<boolean> {
  const newer = groups.flatMap((g) => g.items.filter((i) => i.newer !== null));
  if (newer.length === 0 || force) return true;
  for (const i of newer) {
    const name = i.entry.name === null ? "" : ` (${JSON.stringify(i.entry.name)})`;
    ctx.out.warn(`Item ${i.entry.ident}${name} on ${i.collection.instance}: ${i.newer}.`);
  }
  const question = `Replace ${newer.length === 1 ? "it" : `these ${newer.length} items`} with the kept version? What is there now goes to the trash.`;
  if ((ctx.io.stdin as { isTTY?: boolean }).isTTY === true) return confirm(ctx.out, ctx.reader, question);
  throw new UserError(
    `Not putting anything back: ${newer.length} item${newer.length === 1 ? " was" : "s were"} changed after the run, and there is no terminal to ask.`,
    {
      hint: "Run it again on a terminal, or add --force to replace them anyway (what is there goes to the trash).",
    },
  );
}

/**
 * Writes the kept versions back through the storage, each on the side it was taken from; what they replace goes
 * to the trash of this run first. The status is left alone, so the next sync carries them to the other side.
 * @returns how many failed
 */
export async function applyPutBack(
  ctx: AppContext,
  group: PutBackGroup,
  recorder: RunRecorder,
): Promise<number> {
  let failed = 0;
  const touched = new Set<OpenedCollection>();
  for (const p of group.items) {
    const { entry } = p;
    const name = entry.name === null ? "" : ` (${JSON.stringify(entry.name)})`;
    if (p.already) {
      ctx.out.info(`Item ${entry.ident}${name} on ${p.collection.instance} is already the kept version.`);
      continue;
    }
    const collection = p.collection.collection as WritableCollection;
    const item = new Item(readTrashItem(entry));
    const action: JournalAction = {
      kind: "restore",
      side: entry.side,
      ident: entry.ident,
      href: p.current?.href ?? null,
      name: entry.name,
      uid: entry.uid,
      hash: item.hash,
      result: "done",
      trash: [],
      restored: entry.id,
    };
    try {
      touched.add(p.collection);
      if (p.current) {
        await recorder.trash.keep([
          {
            storage: p.collection.instance,
            side: entry.side,
            ident: entry.ident,
            href: p.current.href,
            etag: p.current.etag,
            raw: p.current.item.raw,
            reason: "update",
          },
        ]);
        action.trash = recorder.keptFor(entry.side, entry.ident).map((e) => e.id);
        ctx.out.info(
          `Restoring item ${entry.ident}${name} over the current version in ${p.collection.instance}`,
        );
        await collection.update(p.current.href, item, p.current.etag);
      } else {
        ctx.out.info(`Restoring item ${entry.ident}${name} to ${p.collection.instance}`);
        action.href = (await collection.upload(item)).href;
      }
    } catch (err) {
      failed++;
      action.result = "failed";
      action.error = err instanceof Error ? err.message : String(err);
      recorder.error(err);
      reportError(ctx.out, err, statusNameOf(group.pair, group.collection));
    }
    recorder.add(action);
  }
  for (const c of touched) {
    try {
      await c.collection.flush?.();
    } catch (err) {
      failed++;
      recorder.error(err);
      reportError(ctx.out, err, statusNameOf(group.pair, group.collection));
    }
  }
  return failed;
}

/** Takes the locks of `pairs` (sorted, so two commands never wait on each other crosswise). */
export async function lockPairs(ctx: AppContext, root: string, pairs: Iterable<string>): Promise<PairLock[]> {
  const locks: PairLock[] = [];
  try {
    for (const p of [...new Set(pairs)].sort()) locks.push(await lockPair(root, p, { log: ctx.out }));
  } catch (err) {
    for (const l of locks) l.release();
    throw err;
  }
  return locks;
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
