/**
 * The journal of runs: what each sync, undo and restore of one (pair, collection) did, item by item, with the
 * trash entries that hold what it overwrote or deleted. `vdirsyncer trash` and `undo` read it (and a `status`
 * command can).
 *
 * One JSON file per run and collection, `<status_path>/.trash/<pair>/<collection or _>/runs/<run>.json`, written
 * once when the run ends (temp file, fsync, rename), next to the trash batches it points at: a folder vdirsyncer
 * never reads. The last {@link JOURNAL_KEEP_RUNS} runs of each collection are kept, and a run that changed
 * nothing replaces the previous run when that one changed nothing either, so a daemon's idle runs do not push
 * the informative ones out.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, unlinkSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Item } from "@vdirsyncer/core";
import type { Side, SyncAction, SyncEvent, Trash } from "@vdirsyncer/core/engine";
import { STATUS_FILE_MODE } from "./files.ts";
import {
  collectionTrashDir,
  createDiskTrash,
  itemName,
  listTrash,
  makeDirs,
  type PruneResult,
  pruneTrash,
  RUNS_DIR,
  syncDir,
  TRASH_DIR,
  type TrashListing,
  type TrashOrigin,
  trashSegment,
} from "./trash.ts";

/** The format of a run file; a reader skips others. */
export const JOURNAL_FORMAT = 1;
/** How many runs of one collection the journal keeps. */
export const JOURNAL_KEEP_RUNS = 100;
/** How many error messages a run file keeps. */
const MESSAGE_LIMIT = 20;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The trash retention applied after every sync: 30 days, 100 MiB per status folder. */
export const DEFAULT_RETENTION = { olderThanMs: 30 * DAY_MS, maxBytes: 100 * 1024 * 1024 } as const;

/** What started a run. */
export type RunKind = "sync" | "undo" | "restore";

/** How one action ended. */
export type ActionResult = "done" | "failed" | "not-started";

/** One action of a run. */
export interface JournalAction {
  /** A sync's action kinds, or `restore` (a version put back by undo or restore). */
  kind: "upload" | "update" | "delete" | "conflict" | "restore";
  /** The side written; `null` for a conflict that wrote both sides or none. */
  side: Side | null;
  ident: string;
  /** Where the item is (or was) on `side`, when known. */
  href: string | null;
  /** SUMMARY or FN of the version written (or deleted), control characters removed. */
  name: string | null;
  uid: string | null;
  /** The content hash of the version this action wrote, when it wrote one. */
  hash: string | null;
  result: ActionResult;
  error?: string;
  /** The trash entries holding what this action overwrote or deleted (kept before it). */
  trash: string[];
  /** For `restore`: the trash entry put back. */
  restored?: string;
}

/** One run of one collection. */
export interface JournalRun {
  format: number;
  run: string;
  kind: RunKind;
  pair: string;
  collection: string | null;
  /** The storage instance names of side a and b, when the run opened them. */
  storages: { a: string; b: string } | null;
  started: string;
  finished: string;
  result: "ok" | "failed" | "stopped";
  errors: number;
  /** The first error messages, control characters removed. */
  messages: string[];
  actions: JournalAction[];
  /** For `undo`: the run it undid. */
  undoes?: string | null;
}

/** A new run id: the UTC time to the second and 24 random bits, `20250614T153012Z-9f3a1c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

function clean(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
}

function runsDir(statusPath: string, pair: string, collection: string | null): string {
  return join(collectionTrashDir(statusPath, pair, collection), RUNS_DIR);
}

function isRun(v: unknown): v is JournalRun {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<JournalRun>;
  return (
    r.format === JOURNAL_FORMAT &&
    typeof r.run === "string" &&
    typeof r.pair === "string" &&
    typeof r.started === "string" &&
    Array.isArray(r.actions)
  );
}

function byStart(x: JournalRun, y: JournalRun): number {
  return x.started < y.started ? -1 : x.started > y.started ? 1 : x.run < y.run ? -1 : x.run > y.run ? 1 : 0;
}

function readRunsIn(dir: string): { run: JournalRun; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { run: JournalRun; path: string }[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const path = join(dir, name);
    try {
      const v: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (isRun(v)) out.push({ run: v, path });
    } catch {
      // A damaged run file is skipped: the journal informs, it never decides alone.
    }
  }
  return out.sort((x, y) => byStart(x.run, y.run));
}

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

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** True when a run changed nothing and failed at nothing. */
function idle(run: JournalRun): boolean {
  return run.actions.length === 0 && run.errors === 0;
}

async function writeRunFile(dir: string, run: JournalRun): Promise<string> {
  await makeDirs(dir);
  const path = join(dir, `${run.run}.json`);
  const tmp = join(dir, `.${run.run}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, "w", STATUS_FILE_MODE);
    try {
      await fh.writeFile(`${JSON.stringify(run, null, 1)}\n`, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
  return path;
}

/** What a written item was, as the observer saw it. */
interface Seen {
  href: string | null;
  name: string | null;
  uid: string | null;
  hash: string;
}

/** Options of {@link RunRecorder}. */
export interface RunOptions {
  /** Shared by every collection of one command; a new one when absent. */
  run?: string;
  kind: RunKind;
  pair: string;
  collection: string | null;
  storages?: { a: string; b: string } | null;
  undoes?: string | null;
  /** The clock, for tests. */
  now?: () => Date;
}

const key = (side: Side, ident: string) => `${side}\u0000${ident}`;

/**
 * Records one run of one collection. Hand {@link trash} to the engine (or keep versions through it), feed it the
 * engine's events ({@link onEvent}) or your own actions ({@link add}), and {@link finish} it once: that writes the
 * run file. {@link observe} wraps a collection so that the names and hrefs of the items written are known.
 */
export class RunRecorder {
  readonly run: string;
  readonly statusPath: string;
  readonly options: RunOptions;
  /** The trash of this collection; every entry carries this run's id. */
  readonly trash: Trash;
  storages: { a: string; b: string } | null;
  readonly #started: Date;
  readonly #kept = new Map<string, TrashListing[]>();
  readonly #seen = new Map<string, Seen>();
  readonly #planned = new Map<string, { action: SyncAction; result: ActionResult; error?: string }>();
  readonly #extra: JournalAction[] = [];
  readonly #messages: string[] = [];
  #errors = 0;
  #finished: Promise<JournalRun> | undefined;

  constructor(statusPath: string, options: RunOptions) {
    this.statusPath = statusPath;
    this.options = options;
    this.#started = options.now?.() ?? new Date();
    this.run = options.run ?? newRunId(this.#started);
    this.storages = options.storages ?? null;
    const origin: TrashOrigin = options.kind;
    this.trash = createDiskTrash(statusPath, options.pair, options.collection, {
      run: this.run,
      origin,
      now: options.now,
      onKept: (kept) => {
        for (const e of kept) {
          const k = key(e.side, e.ident);
          const list = this.#kept.get(k) ?? [];
          list.push(e);
          this.#kept.set(k, list);
        }
      },
    });
  }

  /** The trash entries this run kept for `ident` on `side`. */
  keptFor(side: Side, ident: string): readonly TrashListing[] {
    return this.#kept.get(key(side, ident)) ?? [];
  }

  /**
   * `collection`, seen through: each upload and update is noted (href, name, hash) once it succeeds. Everything
   * else passes unchanged, the host's guard included.
   */
  observe<C extends object>(side: Side, collection: C): C {
    const seen = this.#seen;
    const note = (item: Item, href: string | null) =>
      seen.set(key(side, item.ident), {
        href,
        name: itemName(item.raw),
        uid: item.uid === undefined ? null : clean(item.uid),
        hash: item.hash,
      });
    return new Proxy(collection, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (prop === "upload") {
          return async (item: Item) => {
            const written = await value.call(target, item);
            note(item, (written as { href?: string } | undefined)?.href ?? null);
            return written;
          };
        }
        if (prop === "update") {
          return async (href: string, item: Item, etag: string) => {
            const written = await value.call(target, href, item, etag);
            note(item, href);
            return written;
          };
        }
        return value;
      },
    });
  }

  /**
   * Takes the engine's events: the plan, and how each action ended. Errors are counted by {@link error} only
   * (give it what the engine's `onError` receives), so that none counts twice.
   */
  onEvent(event: SyncEvent): void {
    if (event.type === "planned") {
      for (const action of event.plan.actions)
        this.#planned.set(action.ident, { action, result: "not-started" });
    } else if (event.type === "action-done" || event.type === "action-failed") {
      const p = this.#planned.get(event.action.ident);
      if (!p) return;
      p.result = event.type === "action-done" ? "done" : "failed";
      if (event.type === "action-failed") p.error = clean(event.error.message);
    }
  }

  /** Counts an error of this run and keeps its message (the first few). */
  error(err: unknown): void {
    this.#errors++;
    if (this.#messages.length < MESSAGE_LIMIT)
      this.#messages.push(clean(err instanceof Error ? err.message : String(err)));
  }

  /** Adds an action that did not come from the engine (undo, restore). */
  add(action: JournalAction): void {
    this.#extra.push(action);
  }

  #fromPlan(action: SyncAction, result: ActionResult, error: string | undefined): JournalAction {
    const ident = action.ident;
    let side: Side | null = action.kind === "conflict" ? null : action.side;
    if (action.kind === "conflict") {
      // The side a resolution wrote: the one the observer saw written, else the one whose version was kept.
      const seenOn = (["a", "b"] as const).filter((s) => this.#seen.has(key(s, ident)));
      const keptOn = (["a", "b"] as const).filter((s) => this.keptFor(s, ident).length > 0);
      const written = seenOn.length > 0 ? seenOn : keptOn;
      if (written.length === 1) side = written[0] as Side;
    }
    const sides: Side[] = side === null ? ["a", "b"] : [side];
    const kept = sides.flatMap((s) => this.keptFor(s, ident));
    // Both sides get the same version when a conflict wrote both.
    const seen =
      this.#seen.get(key(side ?? "a", ident)) ??
      (side === null ? this.#seen.get(key("b", ident)) : undefined);
    const href =
      action.kind === "upload"
        ? (seen?.href ?? null)
        : action.kind === "conflict"
          ? side === null
            ? null
            : side === "a"
              ? action.hrefA
              : action.hrefB
          : action.href;
    const out: JournalAction = {
      kind: action.kind,
      side,
      ident,
      href,
      name: seen?.name ?? kept[0]?.name ?? null,
      uid: seen?.uid ?? kept[0]?.uid ?? null,
      hash: result === "done" && action.kind !== "delete" ? (seen?.hash ?? null) : null,
      result,
      trash: kept.map((e) => e.id),
    };
    if (error !== undefined) out.error = error;
    return out;
  }

  /**
   * Writes the run file (once; later calls return the same run) and trims the collection's journal.
   * A run with actions left unstarted is `stopped`; one with errors `failed`.
   */
  finish(): Promise<JournalRun> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<JournalRun> {
    const actions = [
      ...[...this.#planned.values()].map((p) => this.#fromPlan(p.action, p.result, p.error)),
      ...this.#extra,
    ];
    const run: JournalRun = {
      format: JOURNAL_FORMAT,
      run: this.run,
      kind: this.options.kind,
      pair: this.options.pair,
      collection: this.options.collection,
      storages: this.storages,
      started: this.#started.toISOString(),
      finished: (this.options.now?.() ?? new Date()).toISOString(),
      result: actions.some((a) => a.result === "not-started")
        ? "stopped"
        : this.#errors > 0 || actions.some((a) => a.result === "failed")
          ? "failed"
          : "ok",
      errors: this.#errors,
      messages: [...this.#messages],
      actions,
    };
    if (this.options.undoes !== undefined) run.undoes = this.options.undoes;
    const dir = runsDir(this.statusPath, this.options.pair, this.options.collection);
    const before = readRunsIn(dir);
    const path = await writeRunFile(dir, run);
    const drop: string[] = [];
    const last = before[before.length - 1];
    if (idle(run) && last && idle(last.run) && last.run.kind === run.kind) drop.push(last.path);
    const rest = before.filter((r) => !drop.includes(r.path) && r.path !== path);
    const excess = rest.length + 1 - JOURNAL_KEEP_RUNS;
    for (let i = 0; i < excess; i++) drop.push((rest[i] as { path: string }).path);
    for (const p of drop) {
      try {
        unlinkSync(p);
      } catch {
        // Gone already.
      }
    }
    return run;
  }
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
