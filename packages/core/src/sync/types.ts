import type { VdirsyncerError } from "../errors.ts";
import type { Item } from "../item/item.ts";
import type { CollectionStatus, Side, Trash } from "../status.ts";
import type { Logger, ReadableCollection, WritableCollection } from "../storage/contract.ts";
import type { ConflictResolution } from "./conflict.ts";
import type { ListingMethod } from "./listing.ts";
import type { Plan, SyncAction } from "./plan.ts";

/** What to do when a change would have to be written to a read-only side (spec/sync.md). */
export type PartialSyncMode = "revert" | "ignore" | "error";

/** One side of a collection pair, as the engine sees it. */
export interface SyncSide {
  /** Storage instance name for messages: `section` or `section/collection`. */
  name: string;
  collection: ReadableCollection | WritableCollection;
  /** The config's `read_only`. A collection without write methods is read-only whatever this says. */
  readOnly?: boolean;
  /** The config's `no_delete`: deletions on this side are skipped (and so reverted by the next sync). */
  noDelete?: boolean;
}

/** Something the engine did or found; the CLI turns these into log lines, progress and `--json`. */
export type SyncEvent =
  | { type: "listed"; side: Side; method: ListingMethod; count: number; toFetch: number }
  | { type: "planned"; plan: Plan }
  | { type: "action-done"; action: SyncAction; done: number; total: number }
  | { type: "action-failed"; action: SyncAction; error: VdirsyncerError; done: number; total: number }
  | { type: "item-unreadable"; side: Side; href: string; error: VdirsyncerError };

/** Options of {@link syncCollection}. */
export interface SyncOptions {
  a: SyncSide;
  b: SyncSide;
  status: CollectionStatus;
  /** Where old versions go before an overwrite or delete. Without one, nothing is kept (tests only). */
  trash?: Trash;
  /** @default null: a conflict is an error for that item */
  conflictResolution?: ConflictResolution | null;
  /** @default "revert" */
  partialSync?: PartialSyncMode;
  /** Disables the emptied-storage check. @default false */
  forceDelete?: boolean;
  /** Only plan: list, fetch what changed, return the plan; write nothing, not even the status. */
  dryRun?: boolean;
  /** How many actions run at once. @default 8 */
  concurrency?: number;
  /** @see ListingOptions.fullListingIntervalMs */
  fullListingIntervalMs?: number;
  /** Forces full listings on both sides. */
  fullListing?: boolean;
  log?: Logger;
  onEvent?: (event: SyncEvent) => void;
  /**
   * Receives each failed action or unreadable item; the sync goes on with the others (vdirsyncer's error callback,
   * which its CLI always installs). Without it, the first action error is thrown once running actions finished.
   */
  onError?: (error: VdirsyncerError) => void;
  /**
   * A stop (the first Ctrl-C): once aborted, no new action starts, actions in flight finish and are recorded, and
   * the status is committed; what did not start is planned again by the next sync ({@link SyncReport.notStarted}).
   * To abandon calls in flight too, abort the signal the collections were opened with.
   */
  stop?: AbortSignal;
}

/** What a sync did. */
export interface SyncReport {
  plan: Plan;
  listing: Record<Side, { method: ListingMethod; count: number; fetched: number }>;
  /** Actions that completed. */
  applied: number;
  /** Action errors and unreadable items; empty when the collection synced cleanly. */
  errors: VdirsyncerError[];
  /** Actions left for the next sync because a stop came first. */
  notStarted: number;
}

/** An item fetched this run, by ident, per side. */
export type ItemCache = Map<string, Item>;
