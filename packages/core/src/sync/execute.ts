import { isVdirsyncerError, VdirsyncerError } from "../errors.ts";
import type { Item } from "../item/item.ts";
import type { CollectionStatus, Side, StatusRow, Trash, WriteIntent } from "../status.ts";
import type { Logger, ReadableCollection, WritableCollection } from "../storage/contract.ts";
import type { ConflictResolver } from "./conflict.ts";
import { PartialSyncError, SyncConflictError } from "./errors.ts";
import { keepOldVersions } from "./keep.ts";
import type { Plan, SideEntry, SyncAction } from "./plan.ts";
import { runPool } from "./pool.ts";
import type { PartialSyncMode, SyncEvent } from "./types.ts";

/** Everything the executor reads and the new status it writes into. */
export interface ExecutionState {
  names: Record<Side, string>;
  collections: Record<Side, ReadableCollection & Partial<WritableCollection>>;
  readOnly: Record<Side, boolean>;
  noDelete: Record<Side, boolean>;
  /** Items fetched this run (new or changed), per side, by ident. */
  items: Record<Side, Map<string, Item>>;
  /** The status of the last sync. */
  old: ReadonlyMap<string, StatusRow>;
  /** The new status, built by the listing and completed here. */
  next: Map<string, Partial<Record<Side, SideEntry>>>;
  resolver: ConflictResolver | null;
  partialSync: PartialSyncMode;
  log: Logger;
  /** Where a resolved conflict keeps the version it overwrites (known only once the resolver has chosen). */
  trash?: Trash;
}

/** Options of {@link executePlan}. */
export interface ExecuteOptions {
  status: CollectionStatus;
  trash?: Trash;
  concurrency: number;
  onEvent?: (event: SyncEvent) => void;
  onError?: (error: VdirsyncerError) => void;
  /** A stop: once aborted, no new action starts; actions in flight finish and are recorded. */
  stop?: AbortSignal;
}

const SIDES: readonly Side[] = ["a", "b"];

/**
 * Wraps anything thrown into one of our errors, with the storage and operation it happened in. Storages reach the
 * engine hosted, so their failures are named already; anything else is a bug of the engine (`INTERNAL`).
 */
export function asVdirsyncerError(
  err: unknown,
  context: { storage?: string; operation?: string; href?: string; source?: string },
) {
  const e =
    err instanceof VdirsyncerError || isVdirsyncerError(err)
      ? (err as VdirsyncerError)
      : new VdirsyncerError("INTERNAL", err instanceof Error ? err.message : String(err), { cause: err });
  if (typeof e.withContext === "function") e.withContext(context);
  return e;
}

function identOf(action: SyncAction): string {
  return action.ident;
}

/**
 * Applies a plan: runs its actions with bounded concurrency, records each success in the status at once, keeps
 * every version it overwrites or deletes in the trash first, then flushes buffering storages and commits the new
 * status in one transaction.
 *
 * A failed action is rolled back in the new status (its ident keeps the old row) and reported through
 * `onError`; without `onError` the first failure is thrown once running actions finished, and the status is not
 * committed (rows already recorded stay: they describe writes that happened).
 */
export async function executePlan(
  plan: Plan,
  state: ExecutionState,
  options: ExecuteOptions,
): Promise<{ applied: number; errors: VdirsyncerError[]; rows: StatusRow[]; notStarted: number }> {
  const errors: VdirsyncerError[] = [];
  let firstError: VdirsyncerError | undefined;
  const fail = (err: VdirsyncerError) => {
    errors.push(err);
    if (options.onError) options.onError(err);
    else firstError ??= err;
  };

  // Writes to a buffering storage are durable only after flush(): record nothing before it, the commit covers all.
  const buffered = SIDES.some((s) => typeof state.collections[s].flush === "function");
  const blocked = await keepOldVersions(plan, state, options, fail);

  let applied = 0;
  let done = 0;
  const total = plan.actions.length;
  const actions = plan.actions.filter((a) => !blocked.has(identOf(a)));
  done += plan.actions.length - actions.length;

  const started = new Set<SyncAction>();
  const run = async (action: SyncAction) => {
    if (firstError || options.stop?.aborted) return;
    started.add(action);
    const source = sourceOf(action, state);
    try {
      const outcome = await runAction(action, state);
      if (outcome === "done" && !buffered) await recordIdent(action.ident, state, options.status);
      applied++;
      done++;
      options.onEvent?.({ type: "action-done", action, done, total });
    } catch (err) {
      rollback(action.ident, state);
      const error = asVdirsyncerError(err, {
        storage: "side" in action ? state.names[action.side] : undefined,
        operation: action.kind,
        href: "href" in action && action.href !== null ? action.href : undefined,
        source,
      });
      done++;
      options.onEvent?.({ type: "action-failed", action, error, done, total });
      fail(error);
    }
  };
  // In batches: the intents of a batch are durable before its first write, and its results (with the intents
  // dropped) right after its last, so a kill leaves at most one batch of writes to recognise on the next run.
  const batchSize = Math.max(64, options.concurrency * 8);
  for (let i = 0; i < actions.length; i += batchSize) {
    if (firstError || options.stop?.aborted) break;
    const batch = actions.slice(i, i + batchSize);
    await options.status.intend(batch.flatMap((action) => intentsOf(action, state)));
    await runPool(batch, options.concurrency, run);
    // A buffering storage writes at flush(); the final commit settles its intents with everything else.
    if (!buffered) await options.status.settle();
  }
  if (firstError) throw firstError;
  // Stopped: what did not start keeps its old status row, so the next sync plans it again.
  const stopped = actions.filter((a) => !started.has(a));
  for (const action of stopped) rollback(identOf(action), state);

  for (const side of SIDES) {
    const collection = state.collections[side];
    if (collection.flush && !state.readOnly[side]) await collection.flush();
  }
  const rows: StatusRow[] = [];
  for (const [ident, entry] of state.next) {
    if (entry.a && entry.b) rows.push({ ident, a: entry.a, b: entry.b });
  }
  // A no-op sync leaves the status as it was: rewriting 10k identical rows would cost more than the whole sync.
  if (!sameRows(rows, state.old)) await options.status.commit(rows);
  return { applied, errors, rows, notStarted: stopped.length };
}

function sameSide(x: SideEntry, y: SideEntry): boolean {
  return x.href === y.href && x.hash === y.hash && x.etag === y.etag;
}

/** True when `rows` are exactly the rows of `old`. */
function sameRows(rows: readonly StatusRow[], old: ReadonlyMap<string, StatusRow>): boolean {
  if (rows.length !== old.size) return false;
  for (const row of rows) {
    const before = old.get(row.ident);
    if (!before || !sameSide(row.a, before.a) || !sameSide(row.b, before.b)) return false;
  }
  return true;
}

/** Where the item an upload or update writes comes from, for its error message: `<storage> <href>`. */
function sourceOf(action: SyncAction, state: ExecutionState): string | undefined {
  if (action.kind !== "upload" && action.kind !== "update") return undefined;
  const other = action.side === "a" ? "b" : "a";
  const href = state.next.get(action.ident)?.[other]?.href;
  return href == null ? undefined : `${state.names[other]} ${href}`;
}

/** The writes an action may make, as intents; none for a side that is read-only (reverts write nothing). */
function intentsOf(action: SyncAction, state: ExecutionState): WriteIntent[] {
  const entry = state.next.get(action.ident);
  const intent = (side: Side, kind: WriteIntent["kind"]): WriteIntent[] => {
    if (state.readOnly[side] || (kind === "delete" && state.noDelete[side])) return [];
    const target = entry?.[side];
    const source = kind === "delete" ? undefined : entry?.[side === "a" ? "b" : "a"];
    return [
      {
        ident: action.ident,
        side,
        kind,
        source: source ? { ...source } : null,
        target: kind !== "upload" && target?.href != null ? { href: target.href, etag: target.etag } : null,
      },
    ];
  };
  switch (action.kind) {
    case "upload":
    case "update":
    case "delete":
      return intent(action.side, action.kind);
    case "conflict":
      // Only a resolved conflict writes, and then possibly on both sides.
      return action.sameContent || !state.resolver
        ? []
        : [...intent("a", "update"), ...intent("b", "update")];
  }
}

function rollback(ident: string, state: ExecutionState): void {
  const row = state.old.get(ident);
  if (row) state.next.set(ident, { a: { ...row.a }, b: { ...row.b } });
  else state.next.delete(ident);
}

async function recordIdent(ident: string, state: ExecutionState, status: CollectionStatus): Promise<void> {
  const entry = state.next.get(ident);
  if (entry?.a && entry.b) await status.record({ ident, a: entry.a, b: entry.b });
  else await status.forget(ident);
}

function setEntry(state: ExecutionState, ident: string, side: Side, entry: SideEntry): void {
  const current = state.next.get(ident) ?? {};
  current[side] = entry;
  state.next.set(ident, current);
}

function writable(state: ExecutionState, side: Side): WritableCollection {
  return state.collections[side] as WritableCollection;
}

/** The read-only rules vdirsyncer applies before every write (`Action.run`): "ignored" means skip it. */
function checkReadOnly(state: ExecutionState, side: Side, ident: string): "write" | "phantom" | "ignored" {
  if (!state.readOnly[side]) return "write";
  if (state.partialSync === "error") throw new PartialSyncError(state.names[side]);
  if (state.partialSync === "ignore") {
    rollback(ident, state);
    return "ignored";
  }
  return "phantom";
}

async function writeItem(
  state: ExecutionState,
  kind: "upload" | "update",
  side: Side,
  ident: string,
  item: Item,
): Promise<"done" | "ignored"> {
  const mode = checkReadOnly(state, side, ident);
  if (mode === "ignored") return "ignored";
  if (mode === "phantom") {
    // Revert: record it as written, without I/O; the next sync copies the read-only side's state back.
    setEntry(state, ident, side, { href: null, hash: item.hash, etag: null });
    return "done";
  }
  const current = state.next.get(ident)?.[side];
  if (kind === "update" && current?.href != null) {
    state.log.info(`Copying (updating) item ${ident} to ${state.names[side]}`);
    // An empty etag tells the storage the status has none (a server that sent no ETag on PUT).
    const { etag } = await writable(state, side).update(current.href, item, current.etag ?? "");
    // vdirsyncer bug fixed: it kept the destination's old hash here (spec/sync.md, Update).
    setEntry(state, ident, side, { href: current.href, hash: item.hash, etag: etag ?? null });
    return "done";
  }
  state.log.info(`Copying (uploading) item ${ident} to ${state.names[side]}`);
  const written = await writable(state, side).upload(item);
  setEntry(state, ident, side, { href: written.href, hash: item.hash, etag: written.etag ?? null });
  return "done";
}

function cachedItem(state: ExecutionState, side: Side, ident: string): Item {
  const item = state.items[side].get(ident);
  if (!item)
    throw new VdirsyncerError(
      "INTERNAL",
      `Internal error: item ${ident} of ${state.names[side]} was not fetched.`,
    );
  return item;
}

async function runAction(action: SyncAction, state: ExecutionState): Promise<"done" | "ignored"> {
  switch (action.kind) {
    case "upload":
    case "update": {
      // Copy the other side's version over (or onto) `side`.
      const from = action.side === "a" ? "b" : "a";
      return writeItem(state, action.kind, action.side, action.ident, cachedItem(state, from, action.ident));
    }
    case "delete": {
      const mode = checkReadOnly(state, action.side, action.ident);
      if (mode === "ignored") return "ignored";
      if (mode === "phantom") {
        state.log.debug(
          `Skipping deletion of item ${action.ident} from read-only ${state.names[action.side]}`,
        );
      } else if (state.noDelete[action.side]) {
        // vdirsyncer quirk, kept: the item stays and has no status row, so the next sync copies it back.
        state.log.debug(
          `Skipping deletion of item ${action.ident} from ${state.names[action.side]} (no_delete)`,
        );
      } else {
        const entry = state.next.get(action.ident)?.[action.side];
        state.log.info(`Deleting item ${action.ident} from ${state.names[action.side]}`);
        if (entry?.href != null) await writable(state, action.side).delete(entry.href, entry.etag ?? "");
      }
      state.next.delete(action.ident);
      return "done";
    }
    case "conflict": {
      // Changed on both sides, or new on both sides without a status row.
      state.log.info(`Doing conflict resolution for item ${action.ident}...`);
      const entry = state.next.get(action.ident);
      if (entry?.a?.hash === entry?.b?.hash) {
        state.log.info("...same content on both sides.");
        return "done";
      }
      if (!state.resolver) throw new SyncConflictError(action.ident, action.hrefA, action.hrefB);
      const itemA = cachedItem(state, "a", action.ident);
      const itemB = cachedItem(state, "b", action.ident);
      const winner = await state.resolver(itemA, itemB, {
        ident: action.ident,
        nameA: state.names.a,
        nameB: state.names.b,
      });
      let outcome: "done" | "ignored" = "done";
      // Compare with the versions before any write: an "ignore" on one side rolls the whole ident back, and the
      // other side must still be compared with (and written over) what it holds now, not the old status.
      const before = { a: entry?.a, b: entry?.b };
      for (const side of SIDES) {
        const current = before[side];
        if (current && winner.hash !== current.hash) {
          if (current.href && !state.readOnly[side]) {
            await state.trash?.keep([
              {
                storage: state.names[side],
                side,
                ident: action.ident,
                href: current.href,
                etag: current.etag,
                raw: (side === "a" ? itemA : itemB).raw,
                reason: "update",
              },
            ]);
          }
          setEntry(state, action.ident, side, current);
          if ((await writeItem(state, "update", side, action.ident, winner)) === "ignored")
            outcome = "ignored";
        }
      }
      return outcome;
    }
  }
}
