/**
 * Opening a collection's `.items` file: vdirsyncer's legacy migrations (extension-less name, JSON content), then
 * the SQLite database with vdirsyncer's schema.
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
import type { DatabaseSync } from "node:sqlite";
import { type Logger, UserError } from "@vdirsyncer/core";
import { fsyncDir, prepareStatusPath, statusFilePath } from "./files.ts";
import { fromLegacyStatus } from "./legacy-status.ts";
import { ensureSchema, openDatabase, wrapSqliteError } from "./sqlite-db.ts";
import { SqliteCollectionStatus } from "./sqlite-status.ts";

/** Options of {@link openCollectionStatus}. */
export interface OpenStatusOptions {
  /** Receives the migration warnings. */
  log?: Logger;
  /**
   * How long to wait for a lock another process holds on the file (a Python vdirsyncer sync holds one for its
   * whole run) before throwing a `status/LOCKED` error.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Holds the file exclusively until `close()` (SQLite's exclusive locking mode, which keeps the lock across
   * commits, each still durable): what a sync does, so that a Python vdirsyncer started on the same pair meanwhile
   * fails at its start ("database is locked") instead of racing ours, and ours fails at its start while Python holds
   * it. Readers (a dry run, `status`, `trash`) leave it off.
   * @default false
   */
  exclusive?: boolean;
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
 * @throws {VdirsyncerError} `status/LOCKED` when another process holds the file longer than the busy timeout
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
    if (opts.exclusive) holdExclusively(db, path);
    return new SqliteCollectionStatus(path, db);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Takes the write lock now and keeps it for the connection's life. */
function holdExclusively(db: DatabaseSync, path: string): void {
  try {
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw wrapSqliteError(err, path, "lock");
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
