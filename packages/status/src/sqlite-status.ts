/**
 * The `.items` file: vdirsyncer's SQLite status (`sync/status.py` `SqliteStatus`, schema version 1), behind the
 * engine's {@link CollectionStatus} interface.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type CollectionStatus,
  type Logger,
  type SideStatus,
  type StatusRow,
  UserError,
  VdirsyncerError,
} from "@vdirsyncer/core";
import { fsyncDir, prepareStatusPath, STATUS_FILE_MODE, statusFilePath } from "./files.ts";

/** vdirsyncer's `SqliteStatus.SCHEMA_VERSION`. */
export const SCHEMA_VERSION = 1;

/** Our own table; vdirsyncer never reads it, and an extra table does not disturb it. */
const STATE_TABLE = "vdirsyncer_ts_state";

// Column order matters: vdirsyncer inserts with VALUES(?, ?, ?, ?, ?, ?, ?) and copies with SELECT *.
const SCHEMA = [
  'CREATE TABLE meta ( "version" INTEGER PRIMARY KEY )',
  `INSERT INTO meta (version) VALUES (${SCHEMA_VERSION})`,
  `CREATE TABLE status (
                "ident" TEXT PRIMARY KEY NOT NULL,
                "href_a" TEXT,
                "href_b" TEXT,
                "hash_a" TEXT NOT NULL,
                "hash_b" TEXT NOT NULL,
                "etag_a" TEXT,
                "etag_b" TEXT
            ); `,
  "CREATE UNIQUE INDEX by_href_a ON status(href_a)",
  "CREATE UNIQUE INDEX by_href_b ON status(href_b)",
  `CREATE TABLE new_status (
                "ident" TEXT PRIMARY KEY NOT NULL,
                "href_a" TEXT,
                "href_b" TEXT,
                "hash_a" TEXT,
                "hash_b" TEXT,
                "etag_a" TEXT,
                "etag_b" TEXT
            ); `,
];

/** Options of {@link openCollectionStatus}. */
export interface OpenStatusOptions {
  /** Receives the migration warnings. */
  log?: Logger;
  /**
   * How long to wait for a lock another process holds on the file (a Python vdirsyncer sync holds one for its
   * whole run) before throwing a `LOCKED` error.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/** The 2-dict legacy form of one row: `[{href, etag, hash}, {href, etag, hash}]`. */
export type LegacyStatusEntry = [LegacySide, LegacySide];
/** One side of {@link LegacyStatusEntry}. */
export interface LegacySide {
  href: string | null;
  etag: string | null;
  hash: string;
}

/**
 * The status as vdirsyncer's `to_legacy_status()` returns it: `{ident: [{href, etag, hash}, {…}]}`.
 * Used by tests to compare statuses as data.
 */
export function toLegacyStatus(rows: Iterable<StatusRow>): Record<string, LegacyStatusEntry> {
  const out: Record<string, LegacyStatusEntry> = {};
  for (const r of rows) {
    out[r.ident] = [
      { href: r.a.href, etag: r.a.etag, hash: r.a.hash },
      { href: r.b.href, etag: r.b.etag, hash: r.b.hash },
    ];
  }
  return out;
}

/**
 * Rows from a legacy JSON status (vdirsyncer before 0.16, or {@link toLegacyStatus} output), as vdirsyncer's
 * `load_legacy_status` reads it: each value is `[href_a, etag_a, href_b, etag_b]` (both hashes become
 * `"UNDEFINED"`) or `[{href, etag, hash?}, {href, etag, hash?}]` (a missing hash becomes `"UNDEFINED"`).
 *
 * @param where names the file in errors
 * @throws {UserError} when the value is not such an object
 */
export function fromLegacyStatus(legacy: unknown, where = "the legacy status"): StatusRow[] {
  if (legacy === null || typeof legacy !== "object" || Array.isArray(legacy)) {
    throw new UserError(`${where} is not a JSON object of status entries.`);
  }
  const rows: StatusRow[] = [];
  for (const [ident, value] of Object.entries(legacy)) {
    const bad = () =>
      new UserError(`${where} has an entry for ${JSON.stringify(ident)} that is not a known status form.`, {
        hint: "Move the file away to start this collection's status afresh.",
      });
    if (!Array.isArray(value)) throw bad();
    if (value.length === 4) {
      const [hrefA, etagA, hrefB, etagB] = value as unknown[];
      rows.push({
        ident,
        a: { href: optString(hrefA, bad), hash: "UNDEFINED", etag: optString(etagA, bad, true) },
        b: { href: optString(hrefB, bad), hash: "UNDEFINED", etag: optString(etagB, bad, true) },
      });
    } else if (value.length === 2) {
      rows.push({ ident, a: legacySide(value[0], bad), b: legacySide(value[1], bad) });
    } else {
      throw bad();
    }
  }
  return rows;
}

function optString(v: unknown, bad: () => Error, number = false): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  // Very old statuses stored filesystem etags as floats (the mtime). An etag is only compared for equality,
  // so a differently printed one costs one download, never data.
  if (number && typeof v === "number") return String(v);
  throw bad();
}

function legacySide(v: unknown, bad: () => Error): SideStatus {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad();
  const o = v as Record<string, unknown>;
  const hash = o.hash === undefined || o.hash === null ? "UNDEFINED" : o.hash;
  if (typeof hash !== "string") throw bad();
  return { href: optString(o.href, bad), hash, etag: optString(o.etag, bad, true) };
}

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
 * `synchronous=FULL`, rollback journal as vdirsyncer leaves it).
 */
export class SqliteCollectionStatus implements CollectionStatus, Disposable {
  /** The `.items` file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #hasStateTable: boolean;
  #pending: PendingOp[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deferred: unknown;

  /** @internal use {@link openCollectionStatus} */
  constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#hasStateTable =
      this.#stmt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(STATE_TABLE) !==
      undefined;
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
   * @throws {VdirsyncerError} `LOCKED` when another process holds the file longer than the busy timeout (from a
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

  /** Writes queued rows now, in one transaction. */
  #flushPending(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0) return;
    const ops = this.#pending;
    this.#pending = [];
    this.#transaction(`record ${ops.length} rows`, () => {
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
   * @throws {VdirsyncerError} `LOCKED` when another process holds the file longer than the busy timeout
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
    });
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

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_NOTADB = 26;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

function wrapSqliteError(err: unknown, path: string, what: string): unknown {
  if (err instanceof VdirsyncerError) return err;
  const code = (err as { errcode?: number }).errcode;
  if (code === undefined) return err;
  // Extended result codes: the low byte is the primary code.
  const primary = code & 0xff;
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
    return new VdirsyncerError("LOCKED", `The status file ${path} is locked by another process.`, {
      cause: err,
      hint: "Another vdirsyncer is probably syncing the same collection; wait for it to finish and try again.",
      context: { location: path },
    });
  }
  if (primary === SQLITE_NOTADB) {
    return new UserError(`The status file ${path} is not an SQLite database.`, {
      cause: err,
      hint: "Move the file away to start this collection's status afresh (items are then matched by content).",
    });
  }
  return new UserError(`Cannot ${what} in the status file ${path}: ${(err as Error).message}`, {
    cause: err,
  });
}

/** Opens `path` with our settings; `create` makes a new empty file with mode 0600 first. */
function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  if (!existsSync(path)) {
    // SQLite would create the file with 0644; a status lists the user's hrefs, so it stays private. SQLite gives
    // its journal the same mode as the database.
    closeSync(openSync(path, "wx", STATUS_FILE_MODE));
  }
  try {
    return new DatabaseSync(path, { timeout: busyTimeoutMs });
  } catch (err) {
    throw wrapSqliteError(err, path, "open");
  }
}

/** vdirsyncer's `_update_schema`: use the file if `meta` says version 1, else create the tables. */
function ensureSchema(db: DatabaseSync, path: string): void {
  try {
    const ok = db.prepare("SELECT version FROM meta WHERE version = ?").get(SCHEMA_VERSION);
    if (ok !== undefined) return;
  } catch (err) {
    const code = (err as { errcode?: number }).errcode;
    if (code === undefined || (code & 0xff) !== 1 /* SQLITE_ERROR: no such table */) {
      throw wrapSqliteError(err, path, "read the schema version");
    }
  }
  try {
    db.exec("BEGIN EXCLUSIVE");
    try {
      for (const sql of SCHEMA) db.exec(sql);
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
  } catch (err) {
    const code = (err as { errcode?: number }).errcode;
    if (code !== undefined && (code & 0xff) === 1) {
      // vdirsyncer has no migration either: an existing meta table of another version makes CREATE fail.
      throw new UserError(`The status file ${path} has a schema this version does not know.`, {
        cause: err,
        hint: "It was probably written by a newer vdirsyncer; use that, or move the file away to start afresh.",
      });
    }
    throw wrapSqliteError(err, path, "create the tables");
  }
}

/** The first byte of the file, or undefined when it cannot be read. */
function firstByte(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(1);
    return readSync(fd, buf, 0, 1, 0) === 1 ? buf[0] : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces a JSON status with an SQLite one holding the same rows, without ever leaving the user with
 * neither: the database is built in a temporary file and renamed over the JSON file.
 */
function migrateLegacyJson(path: string, busyTimeoutMs: number, log: Logger | undefined): void {
  let legacy: unknown;
  try {
    legacy = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    // vdirsyncer then opens the JSON file as SQLite and fails; we say why instead.
    throw new UserError(`The status file ${path} starts with "{" but is neither JSON nor SQLite.`, {
      hint: "Move the file away to start this collection's status afresh (items are then matched by content).",
    });
  }
  const rows = fromLegacyStatus(legacy, `The legacy status file ${path}`);
  log?.warn("Migrating legacy status to sqlite");
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.migrating`);
  try {
    const db = openDatabase(tmp, busyTimeoutMs);
    try {
      ensureSchema(db, tmp);
      const status = new SqliteCollectionStatus(tmp, db);
      status.commit(rows);
    } finally {
      db.close();
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (err) {
    for (const f of [tmp, `${tmp}-journal`]) if (existsSync(f)) unlinkSync(f);
    throw err;
  }
}

/**
 * Opens the status of one (pair, collection): `<statusPath>/<pair>.items` for the `null` collection, else
 * `<statusPath>/<pair>/<collection>.items`, with vdirsyncer's exact schema, creating it (mode 0600, directories
 * 0700) when absent.
 *
 * Performs vdirsyncer's legacy migrations first: an extension-less status file is renamed to `.items`
 * (warning `Migrating statuses: Renaming X to X.items`), and a JSON status (first byte `{`) is converted to
 * SQLite (warning `Migrating legacy status to sqlite`) through a temporary file, so a crash keeps the JSON.
 * The caller MUST call `close()` when done.
 *
 * @throws {UserError} the file is not a status database, has an unknown schema, or the names leave `statusPath`
 * @throws {VdirsyncerError} `LOCKED` when another process holds the file longer than the busy timeout
 */
export function openCollectionStatus(
  statusPath: string,
  pair: string,
  collection: string | null,
  opts: OpenStatusOptions = {},
): SqliteCollectionStatus {
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  const path = statusFilePath(statusPath, pair, collection, "items");
  const legacyPath = path.slice(0, -".items".length);
  if (isFile(legacyPath)) {
    opts.log?.warn(`Migrating statuses: Renaming ${legacyPath} to ${path}`);
    renameSync(legacyPath, path);
  }
  prepareStatusPath(path);
  if (firstByte(path) === 0x7b /* "{" */) migrateLegacyJson(path, busyTimeoutMs, opts.log);
  const db = openDatabase(path, busyTimeoutMs);
  try {
    ensureSchema(db, path);
    return new SqliteCollectionStatus(path, db);
  } catch (err) {
    db.close();
    throw err;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
