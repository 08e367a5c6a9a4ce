/**
 * Pair locks as the commands take them: waiting a while for another of our syncs, several in name order, and
 * telling when the holder is our own running daemon.
 */
import { isVdirsyncerError } from "@vdirsyncer/core/engine";
import { type LockHolder, lockHolder, lockPair, type PairLock, STATUS_LOCKED } from "@vdirsyncer/status";
import type { AppContext } from "./context.ts";
import { DAEMON_LOCK_NAME } from "./daemon/state.ts";

/** How long a command waits for a pair lock that another of our syncs (or the daemon) holds. */
export const PAIR_LOCK = { waitMs: 60_000 };

/** Takes the lock of `pair`, waiting up to {@link PAIR_LOCK}`.waitMs` for another of our syncs to finish. */
export function takePairLock(ctx: AppContext, root: string, pair: string): Promise<PairLock> {
  return lockPair(root, pair, { log: ctx.out, waitMs: PAIR_LOCK.waitMs });
}

/**
 * Takes the locks of `pairs` in name order (so two commands never wait for each other); all or none. `take` takes
 * one lock. @default {@link takePairLock}
 */
export async function takePairLocks(
  ctx: AppContext,
  root: string,
  pairs: Iterable<string>,
  take: (pair: string) => Promise<PairLock> = (pair) => takePairLock(ctx, root, pair),
): Promise<PairLock[]> {
  const locks: PairLock[] = [];
  try {
    for (const p of [...new Set(pairs)].sort()) locks.push(await take(p));
  } catch (err) {
    for (const l of locks) l.release();
    throw err;
  }
  return locks;
}

/** Who holds the pair when `err` says the pair is locked by our own running daemon; else undefined. */
export function heldByDaemon(root: string, err: unknown): LockHolder | undefined {
  if (!isVdirsyncerError(err, STATUS_LOCKED)) return undefined;
  const holder = (err as { holder?: LockHolder }).holder;
  const daemon = lockHolder(root, DAEMON_LOCK_NAME);
  if (holder === undefined || daemon === undefined) return undefined;
  return holder.pid === daemon.pid && holder.hostname === daemon.hostname ? holder : undefined;
}
