/**
 * When the daemon syncs a collection next: the poll interval with jitter, exponential backoff after failures
 * (never sooner than a server's `Retry-After`), debounced local changes, and the wall-clock jump that says the
 * machine was suspended. Pure functions of their arguments; the clock and the randomness are passed in.
 */
import { isVdirsyncerError } from "@vdirsyncer/core/engine";

/** The daemon's timing settings, in milliseconds (the command takes seconds). */
export interface DaemonTiming {
  /** How often a collection is synced when nothing local happened. */
  intervalMs: number;
  /** Fraction of the interval by which each poll is moved at random (0.1: ±10 %), so that pairs spread out. */
  jitter: number;
  /** How long a local change waits for more changes before the sync starts. */
  debounceMs: number;
  /** The first wait after a failure; doubled after each further failure. */
  retryMs: number;
  /** The longest wait after failures. */
  maxBackoffMs: number;
  /** How often the storages are asked for new or removed collections (0: never). */
  discoverMs: number;
}

/** The defaults: a poll every 5 minutes ±10 %, 2 s debounce, retries from 30 s up to an hour, discovery hourly. */
export const DEFAULT_TIMING: DaemonTiming = {
  intervalMs: 300_000,
  jitter: 0.1,
  debounceMs: 2_000,
  retryMs: 30_000,
  maxBackoffMs: 3_600_000,
  discoverMs: 3_600_000,
};

/** A burst of local changes is synced at the latest this many debounce periods after its first change. */
export const DEBOUNCE_CAP = 5;

/** The wait until the next poll after a successful sync: the interval moved by up to ±`jitter` of itself. */
export function pollDelay(timing: DaemonTiming, random: () => number = Math.random): number {
  const spread = timing.intervalMs * Math.min(Math.max(timing.jitter, 0), 1);
  return Math.max(0, Math.round(timing.intervalMs + (random() * 2 - 1) * spread));
}

/**
 * The wait after the `failures`-th failure in a row (1 for the first): `retryMs` doubled each time, at most
 * `maxBackoffMs` (and never longer than that even when the interval is), with up to 10 % jitter taken off, and
 * never shorter than what the server asked for with `Retry-After`.
 */
export function backoffDelay(
  timing: DaemonTiming,
  failures: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const exp = Math.min(timing.maxBackoffMs, timing.retryMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const jittered = Math.round(exp * (1 - 0.1 * random()));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * When a collection with a pending local change is synced: `debounceMs` after the latest change, but no later
 * than {@link DEBOUNCE_CAP} debounce periods after the first one, so that a program writing all the time
 * still gets synced.
 */
export function debouncedDue(timing: DaemonTiming, firstChange: number, now: number): number {
  return Math.min(now + timing.debounceMs, firstChange + DEBOUNCE_CAP * timing.debounceMs);
}

/**
 * True when the wall clock moved much further than the monotonic clock since the last look: the machine was
 * suspended (the monotonic clock stops meanwhile) or the clock was set forward. Both call for a full check.
 * `slackMs` is what timers may lag on a busy machine.
 */
export function wallClockJumped(monoElapsedMs: number, wallElapsedMs: number, slackMs: number): boolean {
  return wallElapsedMs - monoElapsedMs > slackMs;
}

/**
 * The `Retry-After` a failure carries, in milliseconds: a `retryAfterMs` number on the error, its context or
 * anything in its `cause` chain. Undefined when none says so.
 */
export function retryAfterOf(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const own = (e as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof own === "number" && Number.isFinite(own) && own >= 0) return own;
    const ctx = (e as { context?: { retryAfterMs?: unknown } }).context?.retryAfterMs;
    if (typeof ctx === "number" && Number.isFinite(ctx) && ctx >= 0) return ctx;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Node's codes for "the network or the server cannot be reached right now". */
const OFFLINE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
]);

/**
 * True when a failure says the server could not be reached (no network, name not resolved, connection refused
 * or timed out), as opposed to an answer the server gave: the daemon then stays quiet and tries again later.
 */
export function isOffline(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && typeof e === "object" && e !== null; depth++) {
    const codes = [
      (e as { code?: unknown }).code,
      (e as { systemCode?: unknown }).systemCode,
      (e as { errno?: unknown }).errno,
    ];
    if (codes.some((c) => typeof c === "string" && OFFLINE_CODES.has(c))) return true;
    if ((e as { name?: unknown }).name === "TimeoutError") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A short key that tells one failure from another, so that the same failure is printed once, not every time. */
export function failureKey(err: unknown): string {
  if (isOffline(err)) return "offline";
  const code = isVdirsyncerError(err) ? err.code : "UNKNOWN";
  return `${code}:${err instanceof Error ? err.message : String(err)}`;
}
