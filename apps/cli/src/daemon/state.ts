/**
 * The daemon's own files in the status folder, which vdirsyncer never reads: `.daemon.lock` (one daemon per status
 * folder) and `.daemon.json`, a small state file that `vdirsyncer status` reads (when each collection runs next,
 * how many failures in a row, the last error). Written atomically (temp file, fsync, rename).
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isVdirsyncerError, UserError } from "@vdirsyncer/core/engine";
import { lockPair, type PairLock, STATUS_FILE_MODE, STATUS_LOCKED } from "@vdirsyncer/status";

/** The format of the state file; readers ignore others. */
export const DAEMON_STATE_FORMAT = 1;

/** The lock name: a dot makes it impossible as a pair name (vdirsyncer allows letters, digits and `_`). */
export const DAEMON_LOCK_NAME = ".daemon";

/** One collection as the daemon sees it. */
export interface DaemonCollectionState {
  /** When the daemon syncs it next (ISO 8601). */
  nextRun: string | null;
  /** When the daemon last finished syncing it. */
  lastRun: string | null;
  /** Failures in a row (0 after a success). */
  failures: number;
  /** The last failure's message while it keeps failing. */
  lastError: string | null;
  /** True while the server could not be reached. */
  offline: boolean;
}

/** What `.daemon.json` holds. */
export interface DaemonState {
  format: number;
  pid: number;
  started: string;
  updated: string;
  /** Set when the daemon stopped (it is not running then). */
  stopped: string | null;
  /** `pair` or `pair/collection` → its state. */
  collections: Record<string, DaemonCollectionState>;
  /** New or removed server collections the daemon noticed, for `status` to repeat. */
  notices: string[];
}

/** The state file's path. */
export function daemonStatePath(statusPath: string): string {
  return join(statusPath, ".daemon.json");
}

/** Reads the state file; undefined when there is none or it is unreadable. */
export function readDaemonState(statusPath: string): DaemonState | undefined {
  try {
    const v = JSON.parse(readFileSync(daemonStatePath(statusPath), "utf8")) as DaemonState;
    return v.format === DAEMON_STATE_FORMAT && typeof v.collections === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state file atomically. */
export function writeDaemonState(statusPath: string, state: DaemonState): void {
  const path = daemonStatePath(statusPath);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, "w", STATUS_FILE_MODE);
    try {
      // No fsync: the file only informs `status`; the rename keeps it whole.
      writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** True when the process that wrote `state` is still running (on this machine). */
export function daemonRunning(state: DaemonState | undefined): boolean {
  if (state === undefined || state.stopped !== null) return false;
  try {
    process.kill(state.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the daemon lock of a status folder, without waiting.
 * @throws {UserError} another daemon holds it (names its pid and what to do)
 */
export async function lockDaemon(statusPath: string): Promise<PairLock> {
  try {
    return await lockPair(statusPath, DAEMON_LOCK_NAME, { waitMs: 0 });
  } catch (err) {
    if (!isVdirsyncerError(err, STATUS_LOCKED)) throw err;
    let holder = "another process";
    try {
      const info = JSON.parse(readFileSync(join(statusPath, `${DAEMON_LOCK_NAME}.lock`), "utf8")) as {
        pid?: number;
      };
      if (typeof info.pid === "number") holder = `process ${info.pid}`;
    } catch {
      // Unreadable: named generically.
    }
    throw new UserError(
      `A vdirsyncer daemon (${holder}) is already running for the status folder ${statusPath}.`,
      {
        hint: "Stop that daemon first (`systemctl --user stop vdirsyncer` or kill its process); one daemon serves all pairs.",
      },
    );
  }
}
