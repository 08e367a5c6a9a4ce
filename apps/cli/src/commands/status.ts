/**
 * `vdirsyncer status [PAIR…] [--json]`: what the last runs did, offline. Per pair and collection: the last run
 * this tool recorded (from the run journal), how many items the status knows, when the daemon runs it next (its
 * state file), and whether another tool (Python vdirsyncer) synced it since: its status file was written after
 * our last run ended. Reads files only; runs no fetch command and opens no storage.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { type JournalRun, readDiscoveryCache, readRuns, statusFilePath } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { daemonRunning, readDaemonState } from "../daemon/state.ts";
import { statusNameOf } from "../targets.ts";

/** The last run of a collection, as `status --json` prints it. */
export interface LastRunJson {
  run: string;
  kind: string;
  started: string;
  finished: string;
  result: string;
  uploads: number;
  updates: number;
  deletes: number;
  conflicts: number;
  restores: number;
  errors: number;
  /** The first error message, when the run had errors. */
  error: string | null;
}

/** One collection in `status --json`. */
export interface CollectionStatusJson {
  pair: string;
  collection: string | null;
  name: string;
  lastRun: LastRunJson | null;
  /** Rows in the status (items known on both sides); null when there is no status yet or a sync holds it. */
  items: number | null;
  /** A sync holds the status file right now (its rows cannot be counted). */
  busy: boolean;
  /** When the running daemon syncs it next; null when no daemon runs it. */
  nextRun: string | null;
  /** The daemon's failures in a row and last error, while it keeps failing. */
  daemonFailures: number;
  daemonError: string | null;
  /** The status file was written after our last run ended: another tool synced since. */
  syncedElsewhere: boolean;
  /** When the status file was last written. */
  statusWritten: string | null;
}

function lastRunJson(run: JournalRun): LastRunJson {
  const done = run.actions.filter((a) => a.result === "done");
  const n = (kind: string) => done.filter((a) => a.kind === kind).length;
  return {
    run: run.run,
    kind: run.kind,
    started: run.started,
    finished: run.finished,
    result: run.result,
    uploads: n("upload"),
    updates: n("update"),
    deletes: n("delete"),
    conflicts: n("conflict"),
    restores: n("restore"),
    errors: run.errors,
    error: run.messages[0] ?? null,
  };
}

/** The status file of a collection (SQLite, or a legacy JSON status not migrated yet), if any. */
function statusFile(root: string, pair: string, collection: string | null): string | undefined {
  const items = statusFilePath(root, pair, collection, "items");
  if (existsSync(items)) return items;
  const legacy = items.slice(0, -".items".length);
  return existsSync(legacy) ? legacy : undefined;
}

/**
 * Counts the rows of a status file without writing to it: `busy` while a sync holds it, undefined when it cannot be
 * read.
 */
function countRows(file: string): number | "busy" | undefined {
  try {
    const bytes = readFileSync(file, { encoding: null, flag: "r" }).subarray(0, 1);
    if (bytes[0] === 0x7b) {
      const legacy = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      return Object.keys(legacy).length;
    }
    const db = new DatabaseSync(file, { readOnly: true, timeout: 200 });
    try {
      const row = db.prepare("SELECT COUNT(*) AS n FROM status").get() as { n: number } | undefined;
      return Number(row?.n ?? 0);
    } finally {
      db.close();
    }
  } catch (err) {
    return /locked|busy/i.test(String((err as Error)?.message)) ? "busy" : undefined;
  }
}

/** Local time as `2025-06-14 15:30:12`. */
function local(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The collections of a pair: the discovery cache's, then any other the journal knows. */
function collectionsOf(root: string, pair: string, runs: readonly JournalRun[]): (string | null)[] {
  const names: (string | null)[] = [];
  const cache = readDiscoveryCache(root, pair);
  for (const [name] of cache?.collections ?? []) if (!names.includes(name)) names.push(name);
  for (const run of runs) if (!names.includes(run.collection)) names.push(run.collection);
  return names;
}

/** Runs `status`; returns the exit code. */
export async function runStatus(ctx: AppContext, pairs: readonly string[], json: boolean): Promise<number> {
  const config = await ctx.config();
  for (const p of pairs) await ctx.pair(p);
  const root = await statusPath(ctx);
  const wanted = pairs.length > 0 ? [...pairs] : [...config.pairs.keys()];
  const state = readDaemonState(root);
  const running = daemonRunning(state);
  const rows: CollectionStatusJson[] = [];
  for (const pair of wanted) {
    const runs = readRuns(root, { pair });
    for (const collection of collectionsOf(root, pair, runs)) {
      const name = statusNameOf(pair, collection);
      const own = runs.filter((r) => r.collection === collection);
      const last = own[own.length - 1];
      const file = statusFile(root, pair, collection);
      const written = file === undefined ? undefined : statSync(file).mtimeMs;
      const daemon = running ? state?.collections[name] : undefined;
      const count = file === undefined ? undefined : countRows(file);
      rows.push({
        pair,
        collection,
        name,
        lastRun: last ? lastRunJson(last) : null,
        items: typeof count === "number" ? count : null,
        busy: count === "busy",
        nextRun: daemon?.nextRun ?? null,
        daemonFailures: daemon?.failures ?? 0,
        daemonError: daemon?.lastError ?? null,
        syncedElsewhere: last !== undefined && written !== undefined && written > Date.parse(last.finished),
        statusWritten: written === undefined ? null : new Date(written).toISOString(),
      });
    }
  }
  const daemonJson =
    state === undefined
      ? { running: false, pid: null, started: null, stopped: null, notices: [] as string[] }
      : {
          running,
          pid: state.pid,
          started: state.started,
          stopped: state.stopped,
          notices: running ? state.notices : [],
        };
  if (json) {
    ctx.io.stdout.write(`${JSON.stringify({ daemon: daemonJson, collections: rows })}\n`);
    return 0;
  }
  const w = (line: string) => ctx.io.stdout.write(`${line}\n`);
  if (running && state) w(`Daemon: running (process ${state.pid}) since ${local(state.started)}.`);
  else if (state?.stopped) w(`Daemon: not running (stopped ${local(state.stopped)}).`);
  else if (state) w(`Daemon: not running (process ${state.pid} ended without stopping cleanly).`);
  else w("Daemon: not running.");
  for (const notice of daemonJson.notices) w(`  ${notice}`);
  if (rows.length === 0) w("No collections: run `vdirsyncer discover` first.");
  for (const r of rows) {
    w("");
    w(r.name);
    const run = r.lastRun;
    if (run === null) w("  last run:  none recorded by this tool");
    else {
      const counts = [
        plural(run.uploads, "upload", "uploads"),
        plural(run.updates, "update", "updates"),
        plural(run.deletes, "delete", "deletes"),
        plural(run.conflicts, "conflict", "conflicts"),
        ...(run.restores > 0 ? [plural(run.restores, "restore", "restores")] : []),
        plural(run.errors, "error", "errors"),
      ].join(", ");
      w(`  last run:  ${local(run.finished)} (${run.kind}), ${run.result}: ${counts}`);
      if (run.error !== null) w(`  error:     ${run.error}`);
    }
    w(
      `  items:     ${r.busy ? "(a sync holds the status right now)" : r.items === null ? "no status yet" : String(r.items)}`,
    );
    if (r.nextRun !== null) w(`  next run:  ${local(r.nextRun)} (daemon)`);
    if (r.daemonFailures > 0)
      w(`  daemon:    ${plural(r.daemonFailures, "failure", "failures")} in a row: ${r.daemonError ?? ""}`);
    if (r.syncedElsewhere && r.statusWritten !== null)
      w(`  note:      synced by another tool since (the status was written ${local(r.statusWritten)})`);
  }
  return 0;
}

/** The yargs module of `status`. */
export function statusCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "status [pairs..]",
    describe: "Show the last run, items and next daemon run of each collection (offline).",
    builder: (y: Argv) =>
      y
        .positional("pairs", { type: "string", array: true, describe: "PAIR" })
        .option("json", { type: "boolean", default: false, describe: "Print one JSON object on stdout." }),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) =>
        runStatus(ctx, ((argv.pairs as string[] | undefined) ?? []).map(String), argv.json === true),
      ),
  };
}
