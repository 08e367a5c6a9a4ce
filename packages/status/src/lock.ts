/**
 * One lock file per pair, so that two of our syncs of the same pair never run at once.
 *
 * vdirsyncer itself has no lock file (it relies on the SQLite lock it holds for a whole sync); ours writes
 * the status row by row, so it needs its own. Python vdirsyncer ignores the file.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@vdirsyncer/core";
import { lockedError } from "./errors.ts";
import { prepareStatusPath, STATUS_FILE_MODE, statusFilePath } from "./files.ts";

/**
 * How often a holder touches its lock file (its modification time) while it holds it, so that another machine
 * sharing the status folder can tell a running sync from a lock its holder left behind.
 */
export const LOCK_REFRESH_MS = 10 * 60_000;

/**
 * A lock written on another host whose file was not touched for this long is taken over: its holder refreshes
 * it every {@link LOCK_REFRESH_MS}, so it is gone (crashed, or the machine is off). Pids of another host mean
 * nothing here, so age is the only sign.
 */
export const FOREIGN_LOCK_EXPIRY_MS = 2 * 60 * 60_000;

/** Options of {@link lockPair}. */
export interface LockOptions {
  /** How long to wait for another sync to finish before giving up. @default 5000 */
  waitMs?: number;
  /** Overrides {@link FOREIGN_LOCK_EXPIRY_MS}. */
  foreignExpiryMs?: number;
  /** Overrides {@link LOCK_REFRESH_MS}. */
  refreshMs?: number;
  /** How often to look again while waiting. @default 100 */
  pollMs?: number;
  /** Receives the warning when a stale lock is taken over. */
  log?: Logger;
}

/** A held pair lock. */
export interface PairLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Who holds a lock, as its lock file says. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** When the lock was taken, ISO 8601. */
  started: string;
}

/** What a lock file holds. */
interface LockInfo {
  pid: number;
  /** When the lock was taken, ISO 8601. */
  started: string;
  hostname: string;
  /** The holder's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), to tell a reused pid. */
  procStart?: string;
  /** Random; tells our lock from a successor's at release. */
  token: string;
}

/** Field 22 of `/proc/<pid>/stat`, or undefined off Linux or for a dead pid. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; the fields after it start after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function readLock(path: string): { info: LockInfo | undefined; text: string; mtimeMs: number } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === "number") return { info, text, mtimeMs };
  } catch {
    // Empty or torn (the holder died between create and write): judged by age below.
  }
  return { info: undefined, text, mtimeMs };
}

/**
 * Who holds the lock `name` (a pair, or another lock name) in `statusPath`, when a live process of this host or
 * any process of another host does; undefined when nobody does, or its holder on this host is gone.
 */
export function lockHolder(statusPath: string, name: string): LockHolder | undefined {
  const current = readLock(statusFilePath(statusPath, name, null, "lock"));
  const info = current?.info;
  if (info === undefined || isStale(info)) return undefined;
  return { pid: info.pid, hostname: info.hostname, started: info.started };
}

/** "3 h 5 min", "12 min", "40 s". */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** True when the process that wrote `info` is certainly gone. */
function isStale(info: LockInfo): boolean {
  // Another machine sharing the status directory: its pids mean nothing here.
  if (info.hostname !== hostname()) return false;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return true;
    // EPERM: alive, owned by another user.
    return false;
  }
  const now = procStart(info.pid);
  return info.procStart !== undefined && now !== undefined && now !== info.procStart;
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", STATUS_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock out of the way without ever deleting a live one: the rename is atomic, and if the file
 * renamed is not the one judged stale (a successor took it over meanwhile) it is linked back.
 */
function removeStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    if (readFileSync(aside, "utf8") !== staleText) {
      try {
        linkSync(aside, path);
      } catch {
        // Someone created a lock meanwhile; theirs stands.
      }
    }
  } finally {
    unlinkSync(aside);
  }
}

const held = new Set<string>();
let exitHookInstalled = false;

/** A process that exits normally (or through process.exit) removes its locks; a crash leaves a stale one. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const p of held) {
      try {
        unlinkSync(p);
      } catch {
        // Already gone.
      }
    }
  });
}

/**
 * Takes the lock of `pair`: creates `<statusPath>/<pair>.lock` exclusively, holding our pid and start time.
 *
 * If another live process (or this one) holds it, polls until it is released, at most `waitMs`. A lock whose
 * process is dead is stale and taken over with a warning; so is a lock from another host that its holder has not
 * refreshed for {@link FOREIGN_LOCK_EXPIRY_MS} (the warning names host, pid and age). The holder touches the file
 * every {@link LOCK_REFRESH_MS} while it holds it. The caller MUST call `release()` when the sync
 * ends; the lock is also removed when the process exits normally.
 * @throws {VdirsyncerError} `status/LOCKED` when the lock is still held after `waitMs`; its `holder` field
 *   ({@link LockHolder}) names who holds it, when the file says so
 */
export async function lockPair(statusPath: string, pair: string, opts: LockOptions = {}): Promise<PairLock> {
  const waitMs = opts.waitMs ?? 5000;
  const foreignExpiryMs = opts.foreignExpiryMs ?? FOREIGN_LOCK_EXPIRY_MS;
  const pollMs = opts.pollMs ?? 100;
  const path = statusFilePath(statusPath, pair, null, "lock");
  prepareStatusPath(path);
  const info: LockInfo = {
    pid: process.pid,
    started: new Date().toISOString(),
    hostname: hostname(),
    token: randomBytes(8).toString("hex"),
  };
  const ps = procStart(process.pid);
  if (ps !== undefined) info.procStart = ps;
  const deadline = Date.now() + waitMs;
  let holder: LockInfo | undefined;
  let unreadableSince: number | undefined;
  for (;;) {
    if (tryCreate(path, info)) break;
    const current = readLock(path);
    if (current === undefined) continue; // released between our two calls
    holder = current.info;
    if (holder !== undefined && isStale(holder)) {
      opts.log?.warn(
        `Taking over the lock of pair ${pair} from process ${holder.pid}, which is no longer running (${path}).`,
      );
      removeStale(path, current.text);
      continue;
    }
    if (holder !== undefined && holder.hostname !== hostname()) {
      const untouched = Date.now() - current.mtimeMs;
      if (untouched > foreignExpiryMs) {
        opts.log?.warn(
          `Taking over the lock of pair ${pair} from process ${holder.pid} on host ${holder.hostname}: it was taken ${holder.started} and not refreshed for ${age(untouched)}, so that sync is gone (${path}).`,
        );
        removeStale(path, current.text);
        continue;
      }
    }
    if (holder === undefined) {
      // A lock file we cannot parse is being written right now, or its writer died mid-write: give it one
      // poll interval to appear, then treat it as stale.
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > Math.max(pollMs, 1000)) {
        opts.log?.warn(`Taking over the unreadable lock of pair ${pair} (${path}).`);
        removeStale(path, current.text);
        unreadableSince = undefined;
        continue;
      }
    }
    if (Date.now() >= deadline) {
      const who = holder === undefined ? "another process" : `process ${holder.pid}`;
      const since = holder === undefined ? "" : ` since ${holder.started}`;
      const err = lockedError(`Pair ${pair} is being synced by ${who}${since} (lock file ${path}).`, path, {
        hint:
          holder === undefined || holder.hostname === hostname()
            ? `Wait for that sync to finish; if no vdirsyncer is running, delete ${path}.`
            : `Wait for the sync on ${holder.hostname} to finish; if none is running there, delete ${path} (it is taken over once nobody refreshed it for ${age(foreignExpiryMs)}).`,
      });
      if (holder !== undefined) {
        (err as { holder?: LockHolder }).holder = {
          pid: holder.pid,
          hostname: holder.hostname,
          started: holder.started,
        };
      }
      throw err;
    }
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
  held.add(path);
  installExitHook();
  let released = false;
  // Touched while held, so that another host sees a live lock (see FOREIGN_LOCK_EXPIRY_MS).
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      if (readLock(path)?.info?.token === info.token) utimesSync(path, now, now);
    } catch {
      // A lock we cannot touch is merely judged older elsewhere.
    }
  }, opts.refreshMs ?? LOCK_REFRESH_MS);
  refresh.unref();
  return {
    path,
    release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      held.delete(path);
      const current = readLock(path);
      if (current?.info?.token === info.token) {
        try {
          unlinkSync(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        }
      }
    },
  };
}
