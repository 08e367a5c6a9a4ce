/**
 * The `.items` file: vdirsyncer's SQLite status (`sync/status.py` `SqliteStatus`, schema version 1), behind the
 * engine's {@link CollectionStatus} interface. Open one with {@link openCollectionStatus}.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { VdirsyncerError } from "@vdirsyncer/core";
import type { CollectionStatus, StatusRow, WriteIntent } from "@vdirsyncer/core/engine";
import { parseIntent } from "./intents.ts";
import { INTENT_TABLE, SQLITE_CONSTRAINT_UNIQUE, STATE_TABLE, wrapSqliteError } from "./sqlite-db.ts";

interface RawRow {
  ident: string;
  href_a: string | null;
  href_b: string | null;
  hash_a: string;
  hash_b: string;
  etag_a: string | null;
  etag_b: string | null;
}

/** How many queued rows make {@link SqliteCollectionStatus.record} write at once. */
export const GROUP_ROWS = 200;
/** How long a queued row waits at most before it is written. */
export const GROUP_MS = 100;

type PendingOp = { kind: "record"; row: StatusRow } | { kind: "forget"; ident: string };

/**
 * A {@link CollectionStatus} on one `.items` file. Every method is synchronous; `record`/`forget` are written in
 * groups (see {@link SqliteCollectionStatus.record}), everything else is durable when it returns (SQLite,
 * `synchronous=FULL`, rollback journal as vdirsyncer leaves it). Write intents and our per-collection state live
 * in tables of our own, which vdirsyncer never reads.
 */
export class SqliteCollectionStatus implements CollectionStatus, Disposable {
  /** The `.items` file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #hasStateTable: boolean;
  #hasIntentTable: boolean;
  #pending: PendingOp[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deferred: unknown;

  /** @internal use {@link openCollectionStatus} */
  constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#hasStateTable = this.#hasTable(STATE_TABLE);
    this.#hasIntentTable = this.#hasTable(INTENT_TABLE);
  }

  #hasTable(name: string): boolean {
    return (
      this.#stmt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
    );
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` and turns SQLite's errors into ones that name the file. */
  #guard<T>(what: string, fn: () => T): T {
    if (!this.#db.isOpen) throw new Error(`The status file ${this.path} is closed.`);
    try {
      return fn();
    } catch (err) {
      throw wrapSqliteError(err, this.path, what);
    }
  }

  /** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws. */
  #transaction<T>(what: string, fn: () => T): T {
    return this.#guard(what, () => {
      // IMMEDIATE takes the write lock up front, so a concurrent writer is met at BEGIN (after the busy timeout)
      // and never half-way through.
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        this.#db.exec("COMMIT");
        return result;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  /** Every row of the `status` table, in no particular order. */
  rows(): StatusRow[] {
    this.flush();
    return this.#guard("read", () =>
      (this.#stmt("SELECT * FROM status").all() as unknown as RawRow[]).map((r) => ({
        ident: r.ident,
        a: { href: r.href_a, hash: r.hash_a, etag: r.etag_a },
        b: { href: r.href_b, hash: r.hash_b, etag: r.etag_b },
      })),
    );
  }

  /**
   * Inserts or replaces the row of `row.ident`, first deleting any other row that holds `row.a.href` as its
   * `href_a` or `row.b.href` as its `href_b` (the unique indexes).
   *
   * Rows are written in groups (group commit): at most {@link GROUP_ROWS} rows or {@link GROUP_MS} ms wait, and
   * every other method writes pending rows first. One transaction (and fsync) per item made a 10k-item first sync
   * spend most of its time in fsync. A process killed inside that window loses only those rows, and the next sync
   * re-derives them without transfers: each describes a write whose result now looks the same on both sides.
   * @throws {VdirsyncerError} `status/LOCKED` when another process holds the file longer than the busy timeout (from a
   *   later call, when a timed write failed)
   */
  record(row: StatusRow): void {
    this.#queue({ kind: "record", row });
  }

  #queue(op: PendingOp): void {
    this.#throwDeferred();
    this.#pending.push(op);
    if (this.#pending.length >= GROUP_ROWS) this.#flushPending();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        try {
          this.#flushPending();
        } catch (err) {
          this.#deferred = err;
        }
      }, GROUP_MS);
      this.#timer.unref();
    }
  }

  #throwDeferred(): void {
    if (this.#deferred !== undefined) {
      const err = this.#deferred;
      this.#deferred = undefined;
      throw err;
    }
  }

  /** Writes queued rows now, in one transaction, followed by `then` in the same transaction. */
  #flushPending(what = "record rows", then?: () => void): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0 && then === undefined) return;
    const ops = this.#pending;
    this.#pending = [];
    this.#transaction(ops.length > 0 ? `${what} (with ${ops.length} rows)` : what, () => {
      for (const op of ops) {
        if (op.kind === "forget") {
          this.#stmt("DELETE FROM status WHERE ident = ?").run(op.ident);
          continue;
        }
        const { row } = op;
        this.#stmt("DELETE FROM status WHERE ident <> ? AND (href_a = ? OR href_b = ?)").run(
          row.ident,
          row.a.href,
          row.b.href,
        );
        this.#insert(row, "INSERT OR REPLACE INTO status VALUES (?, ?, ?, ?, ?, ?, ?)");
      }
      then?.();
    });
  }

  /** Writes rows queued by {@link record} and {@link forget} now. */
  flush(): void {
    this.#throwDeferred();
    this.#flushPending();
  }

  #insert(row: StatusRow, sql: string): void {
    this.#stmt(sql).run(row.ident, row.a.href, row.b.href, row.a.hash, row.b.hash, row.a.etag, row.b.etag);
  }

  /** Deletes the row of `ident`, if any; written with the next group (see {@link record}). */
  forget(ident: string): void {
    this.#queue({ kind: "forget", ident });
  }

  /**
   * Replaces the whole `status` table with `rows` in one transaction and empties `new_status`, as
   * vdirsyncer does at the end of a sync.
   * @throws {VdirsyncerError} `DUPLICATE_HREF` when two rows hold the same href on one side (nothing changes)
   * @throws {VdirsyncerError} `status/LOCKED` when another process holds the file longer than the busy timeout
   */
  commit(rows: Iterable<StatusRow>): void {
    // Queued rows are superseded by `rows`; writing them first keeps one order of events on disk.
    this.flush();
    this.#transaction("commit", () => {
      this.#stmt("DELETE FROM status").run();
      for (const row of rows) {
        try {
          this.#insert(row, "INSERT INTO status VALUES (?, ?, ?, ?, ?, ?, ?)");
        } catch (err) {
          if ((err as { errcode?: number }).errcode === SQLITE_CONSTRAINT_UNIQUE) {
            throw new VdirsyncerError(
              "DUPLICATE_HREF",
              `Cannot save the status of ${row.ident} in ${this.path}: another item has the same href ` +
                `(${row.a.href} on side a or ${row.b.href} on side b).`,
              { cause: err, context: { location: this.path } },
            );
          }
          throw err;
        }
      }
      this.#stmt("DELETE FROM new_status").run();
      this.#dropIntents();
    });
  }

  /**
   * Records the intents of the writes about to start, durably, in our own table (vdirsyncer ignores it). Rows
   * queued before are written in the same transaction, so the file never holds an intent older than a row.
   * @throws {VdirsyncerError} `status/LOCKED` when another process holds the file longer than the busy timeout
   */
  intend(intents: readonly WriteIntent[]): void {
    this.#throwDeferred();
    if (intents.length === 0) return;
    this.#flushPending(`record ${intents.length} write intents`, () => {
      if (!this.#hasIntentTable) {
        this.#db.exec(
          `CREATE TABLE IF NOT EXISTS ${INTENT_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, intent TEXT NOT NULL)`,
        );
        this.#hasIntentTable = true;
      }
      const insert = this.#stmt(`INSERT INTO ${INTENT_TABLE} (intent) VALUES (?)`);
      for (const intent of intents) insert.run(JSON.stringify(intent));
    });
  }

  /**
   * Writes every queued row and drops every intent, in one transaction: the writes of a batch are then all
   * recorded, so none is left to recognise.
   * @throws {VdirsyncerError} `status/LOCKED` when another process holds the file longer than the busy timeout
   */
  settle(): void {
    this.#throwDeferred();
    this.#flushPending("settle the written batch", () => this.#dropIntents());
  }

  /**
   * The intents a killed run left, in the order they were recorded.
   * @throws {UserError} an intent in the file is not one this version wrote (the message names the file)
   */
  intents(): WriteIntent[] {
    this.flush();
    if (!this.#hasIntentTable) return [];
    const rows = this.#guard(
      "read write intents",
      () => this.#stmt(`SELECT intent FROM ${INTENT_TABLE} ORDER BY seq`).all() as { intent: string }[],
    );
    return rows.map((r) => parseIntent(r.intent, this.path));
  }

  #dropIntents(): void {
    if (this.#hasIntentTable) this.#stmt(`DELETE FROM ${INTENT_TABLE}`).run();
  }

  /** Our own per-collection value for `key` (sync token, ctag), from a table vdirsyncer ignores. */
  getState(key: string): string | undefined {
    if (!this.#hasStateTable) return undefined;
    return this.#guard("read state", () => {
      const r = this.#stmt(`SELECT value FROM ${STATE_TABLE} WHERE key = ?`).get(key) as
        | { value: string }
        | undefined;
      return r?.value;
    });
  }

  /** Sets (or with `undefined`, deletes) our own value for `key`. Durable when it returns. */
  setState(key: string, value: string | undefined): void {
    this.#guard("write state", () => {
      if (!this.#hasStateTable) {
        if (value === undefined) return;
        this.#db.exec(
          `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)`,
        );
        this.#hasStateTable = true;
      }
      if (value === undefined) this.#stmt(`DELETE FROM ${STATE_TABLE} WHERE key = ?`).run(key);
      else this.#stmt(`INSERT OR REPLACE INTO ${STATE_TABLE} (key, value) VALUES (?, ?)`).run(key, value);
    });
  }

  /** Closes the database. Idempotent. */
  close(): void {
    if (this.#db.isOpen) {
      try {
        this.flush();
      } finally {
        this.#db.close();
      }
    }
  }

  /** Closes the database: `using status = openCollectionStatus(…)` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
