/**
 * The SQLite side of the `.items` file: vdirsyncer's schema (`sync/status.py` `SqliteStatus`, version 1), opening
 * a database with our settings, and SQLite's errors turned into ones that name the file.
 */
import { closeSync, existsSync, openSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { UserError, VdirsyncerError } from "@vdirsyncer/core";
import { lockedError } from "./errors.ts";
import { STATUS_FILE_MODE } from "./files.ts";

/** vdirsyncer's `SqliteStatus.SCHEMA_VERSION`. */
export const SCHEMA_VERSION = 1;

/** Our own table; vdirsyncer never reads it, and an extra table does not disturb it. */
export const STATE_TABLE = "vdirsyncer_ts_state";
/** Our table of write intents (see `CollectionStatus.intend`); vdirsyncer never reads it either. */
export const INTENT_TABLE = "vdirsyncer_ts_intents";

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

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_NOTADB = 26;
export const SQLITE_CONSTRAINT_UNIQUE = 2067;

export function wrapSqliteError(err: unknown, path: string, what: string): unknown {
  if (err instanceof VdirsyncerError) return err;
  const code = (err as { errcode?: number }).errcode;
  if (code === undefined) return err;
  // Extended result codes: the low byte is the primary code.
  const primary = code & 0xff;
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
    return lockedError(`The status file ${path} is locked by another process.`, path, {
      cause: err,
      hint: "Another vdirsyncer is probably syncing the same collection; wait for it to finish and try again.",
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
export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
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
export function ensureSchema(db: DatabaseSync, path: string): void {
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
