/**
 * Records one run of one collection as it goes and writes its run file when it ends, keeping the journal to its
 * last runs.
 */
import { unlinkSync } from "node:fs";
import type { Item } from "@vdirsyncer/core";
import type { Side, SyncAction, SyncEvent, Trash } from "@vdirsyncer/core/engine";
import {
  type ActionResult,
  JOURNAL_FORMAT,
  JOURNAL_KEEP_RUNS,
  type JournalAction,
  type JournalRun,
  newRunId,
  type RunKind,
} from "./journal-format.ts";
import { idle, readRunsIn, runsDir, writeRunFile } from "./run-files.ts";
import { createDiskTrash, itemName, type TrashListing, type TrashOrigin } from "./trash.ts";

/** How many error messages a run file keeps. */
const MESSAGE_LIMIT = 20;

function clean(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
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
