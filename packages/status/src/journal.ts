/**
 * The journal of runs: what each sync, undo and restore of one (pair, collection) did, item by item, with the
 * trash entries that hold what it overwrote or deleted. `vdirsyncer trash` and `undo` read it (and a `status`
 * command can).
 *
 * One JSON file per run and collection, `<status_path>/.trash/<pair>/<collection or _>/runs/<run>.json`, written
 * once when the run ends (temp file, fsync, rename), next to the trash batches it points at: a folder vdirsyncer
 * never reads. The last `JOURNAL_KEEP_RUNS` runs of each collection are kept, and a run that changed
 * nothing replaces the previous run when that one changed nothing either, so a daemon's idle runs do not push
 * the informative ones out.
 *
 * This file reads the journal (runs, the last change, the retention it protects); the run file format is in
 * `journal-format.ts`, the files on disk in `run-files.ts`, and recording a run in `run-recorder.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRun } from "./journal-format.ts";
import { byStart, isRun, readRunsIn, runsDir, safeList } from "./run-files.ts";
import { listTrash, type PruneResult, pruneTrash, RUNS_DIR, TRASH_DIR, trashSegment } from "./trash.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The trash retention applied after every sync: 30 days, 100 MiB per status folder. */
export const DEFAULT_RETENTION = { olderThanMs: 30 * DAY_MS, maxBytes: 100 * 1024 * 1024 } as const;

/**
 * The runs the journal holds, oldest first: of one collection, of one pair, or of the whole status folder.
 */
export function readRuns(
  statusPath: string,
  where: { pair?: string; collection?: string | null } = {},
): JournalRun[] {
  if (where.pair !== undefined && where.collection !== undefined)
    return readRunsIn(runsDir(statusPath, where.pair, where.collection)).map((r) => r.run);
  const root = join(statusPath, TRASH_DIR);
  const pairs = where.pair === undefined ? safeList(root) : [trashSegment(where.pair)];
  const out: JournalRun[] = [];
  for (const p of pairs) {
    for (const c of safeList(join(root, p)))
      out.push(...readRunsIn(join(root, p, c, RUNS_DIR)).map((r) => r.run));
  }
  return out.sort(byStart);
}

/** What changed something: a run with at least one action that completed. */
function changedSomething(run: JournalRun): boolean {
  return run.actions.some((a) => a.result === "done");
}

/**
 * The run `undo` takes back for one collection: the last sync that completed an action (later idle runs and
 * restores do not count), unless a complete undo came after it (then `undone` is that undo).
 */
export function lastChange(
  statusPath: string,
  pair: string,
  collection: string | null,
): { run: JournalRun | undefined; undone: JournalRun | undefined } {
  const runs = readRuns(statusPath, { pair, collection });
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i] as JournalRun;
    // A complete undo of the last change: nothing is left to undo until a sync changes something again.
    if (r.kind === "undo" && r.undoes && r.result === "ok")
      return { run: runs.find((x) => x.run === r.undoes), undone: r };
    if (r.kind === "sync" && changedSomething(r)) return { run: r, undone: undefined };
  }
  return { run: undefined, undone: undefined };
}

/**
 * The last run of every collection, reading only the newest files: run ids begin with their UTC start second, so
 * the last run is among the greatest file names (a damaged one falls back to reading the whole folder).
 */
function latestRuns(statusPath: string): JournalRun[] {
  const root = join(statusPath, TRASH_DIR);
  const out: JournalRun[] = [];
  for (const p of safeList(root)) {
    for (const c of safeList(join(root, p))) {
      const dir = join(root, p, c, RUNS_DIR);
      const names = safeList(dir)
        .filter((n) => n.endsWith(".json") && !n.startsWith("."))
        .sort();
      const last = names[names.length - 1];
      if (last === undefined) continue;
      // Runs of the same second sort by their random part: read them all and compare their start times.
      const second = last.split("-")[0] as string;
      const candidates: JournalRun[] = [];
      for (const name of names.filter((n) => n.split("-")[0] === second)) {
        try {
          const run: unknown = JSON.parse(readFileSync(join(dir, name), "utf8"));
          if (isRun(run)) candidates.push(run);
        } catch {
          // Damaged: looked for below.
        }
      }
      if (
        candidates.length < names.filter((n) => n.split("-")[0] === second).length ||
        candidates.length === 0
      ) {
        candidates.push(...readRunsIn(dir).map((r) => r.run));
      }
      const found = candidates.sort(byStart)[candidates.length - 1];
      if (found) out.push(found);
    }
  }
  return out;
}

/**
 * Applies the retention to the whole trash of a status folder: entries older than `olderThanMs` go, then the
 * oldest until at most `maxBytes` are left. The entries of each collection's last run (and anything newer: a run
 * still going) always stay; in a collection without a journal, its newest batch stays.
 */
export function applyRetention(
  statusPath: string,
  policy: { olderThanMs?: number; maxBytes?: number; now?: number },
): PruneResult {
  const latest = new Map<string, JournalRun>();
  for (const r of latestRuns(statusPath)) latest.set(JSON.stringify([r.pair, r.collection]), r);
  const newest = new Map<string, string>();
  for (const e of listTrash(statusPath)) {
    const k = JSON.stringify([e.pair, e.collection]);
    const seen = newest.get(k);
    if (seen === undefined || e.time > seen) newest.set(k, e.time);
  }
  return pruneTrash(statusPath, {
    ...policy,
    protect: (e) => {
      const k = JSON.stringify([e.pair, e.collection]);
      const last = latest.get(k);
      if (last !== undefined) return e.run === last.run || e.time >= last.started;
      return e.time === newest.get(k);
    },
  });
}
