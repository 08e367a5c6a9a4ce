/**
 * The error codes of this package. Codes are namespaced (`status/…`) so that they never collide with core's or
 * another package's.
 */
import { VdirsyncerError } from "@vdirsyncer/core";

/**
 * Another process holds what a sync needs: the pair's lock file (another of our syncs) or the SQLite status file
 * (a Python vdirsyncer sync holds it for its whole run).
 */
export const STATUS_LOCKED = "status/LOCKED" as const;

/** A {@link STATUS_LOCKED} error naming the file that is held. */
export function lockedError(
  message: string,
  location: string,
  options: { cause?: unknown; hint: string },
): VdirsyncerError {
  return new VdirsyncerError(STATUS_LOCKED, message, {
    cause: options.cause,
    hint: options.hint,
    context: { location },
  });
}
