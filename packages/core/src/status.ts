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
 * The status of one (pair, collection).
 *
 * The engine records each applied action at once, so a killed process leaves a status where every row is either
 * the old one or the new one. `record`/`forget` MAY group writes for a short time (a fraction of a second) to
 * save an fsync per item: a row lost that way describes a write whose result looks the same on both sides, which
 * the next sync re-derives without transfers. `commit` and `setState` MUST be durable when they return.
 */
export interface CollectionStatus {
  /** Every row of the stored status. */
  rows(): Iterable<StatusRow> | Promise<Iterable<StatusRow>>;
  /** Inserts or replaces the row of `row.ident`, first dropping other rows that hold the same href on a side. */
  record(row: StatusRow): void | Promise<void>;
  /** Drops the row of `ident`, if any. */
  forget(ident: string): void | Promise<void>;
  /** Replaces the whole status with `rows` in one transaction (the end of a sync). */
  commit(rows: Iterable<StatusRow>): void | Promise<void>;
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
