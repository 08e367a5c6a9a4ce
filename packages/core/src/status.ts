/**
 * What the sync engine needs from a status store. `@vdirsyncer/status` implements it on vdirsyncer's SQLite
 * files; {@link createMemoryStatus} keeps it in memory for tests.
 */

/** One side of a status row: where the item is on that side and what it was when last seen or written. */
export interface SideStatus {
  /** NULL after a read-only revert. */
  href: string | null;
  /** sha256 of the normalised item; `"UNDEFINED"` in statuses migrated from vdirsyncer's JSON format. */
  hash: string;
  /** NULL when a server sent no ETag, or after a read-only revert. */
  etag: string | null;
}

/** One row of vdirsyncer's `status` table: an ident known on both sides. */
export interface StatusRow {
  ident: string;
  a: SideStatus;
  b: SideStatus;
}

/** Which side of a pair. */
export type Side = "a" | "b";

/**
 * A write the engine is about to make, recorded durably before the write starts, so that a run killed between the
 * write and its status row is recognised by the next one instead of read as a conflict.
 */
export interface WriteIntent {
  ident: string;
  /** The side written. */
  side: Side;
  kind: "upload" | "update" | "delete";
  /** The other side's entry the written item comes from (upload, update); the status row gets it once adopted. */
  source: SideStatus | null;
  /** Where the written side held the item before the write, and its etag then (update, delete). */
  target: { href: string; etag: string | null } | null;
}

/**
 * The status of one (pair, collection).
 *
 * The engine writes in batches: it records the batch's {@link WriteIntent}s (`intend`, durable), runs the writes,
 * records each result (`record`/`forget`, which MAY be buffered) and then calls `settle`, which makes the results
 * durable and drops the intents in one transaction. A killed process leaves rows that are either old or new, plus
 * the intents of the writes that may have happened, which the next sync resolves from what the storages hold.
 * `commit`, `intend`, `settle` and `setState` MUST be durable when they return.
 */
export interface CollectionStatus {
  /** Every row of the stored status. */
  rows(): Iterable<StatusRow> | Promise<Iterable<StatusRow>>;
  /** Inserts or replaces the row of `row.ident`, first dropping other rows that hold the same href on a side. */
  record(row: StatusRow): void | Promise<void>;
  /** Drops the row of `ident`, if any. */
  forget(ident: string): void | Promise<void>;
  /** Replaces the whole status with `rows` and drops every intent, in one transaction (the end of a sync). */
  commit(rows: Iterable<StatusRow>): void | Promise<void>;
  /**
   * Records the intents of the writes about to start, durably. The engine starts no write whose intent could not
   * be recorded: a throw here stops the sync before the batch.
   */
  intend(intents: readonly WriteIntent[]): void | Promise<void>;
  /** Makes every `record`/`forget` so far durable and drops every intent, in one transaction. */
  settle(): void | Promise<void>;
  /** The intents a killed run left: writes that may or may not have happened. */
  intents(): readonly WriteIntent[] | Promise<readonly WriteIntent[]>;
  /** Our own per-collection state (sync tokens, ctags): kept where vdirsyncer does not look. */
  getState(key: string): string | undefined | Promise<string | undefined>;
  setState(key: string, value: string | undefined): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** The metadata status of one (pair, collection): the last synced value of each key. */
export interface MetaStatus {
  load(): Record<string, string> | Promise<Record<string, string>>;
  save(values: Record<string, string>): void | Promise<void>;
}

/** One item version kept before the engine overwrote or deleted it. */
export interface TrashEntry {
  /** Storage instance name, e.g. `my_calendars/work`. */
  storage: string;
  side: Side;
  ident: string;
  href: string;
  etag: string | null;
  raw: string;
  reason: "update" | "delete";
}

/**
 * Where old item versions go before an overwrite or a delete, so that no sync destroys data beyond recovery.
 * `keep` MUST be durable when it resolves: the engine writes over the item only afterwards.
 */
export interface Trash {
  keep(entries: readonly TrashEntry[]): Promise<void>;
}
