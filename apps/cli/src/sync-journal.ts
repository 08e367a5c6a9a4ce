/**
 * The journal of a `sync` run, one recorder per collection sharing the run id, and the trash retention after it.
 */
import { applyRetention, DEFAULT_RETENTION, RunRecorder } from "@vdirsyncer/status";
import type { AppContext } from "./context.ts";
import { formatBytes } from "./durations-and-sizes.ts";

const runIds = new WeakMap<AppContext, string>();

/** The run id of this command: every collection a `sync` touches shares it. */
function runIdOf(ctx: AppContext): string | undefined {
  return runIds.get(ctx);
}

/**
 * Starts the journal of one collection's sync: hand `trash` to the engine, `observe` both collections, feed it
 * the events and errors, and `finish()` it when the collection is done.
 */
export function syncJournal(
  ctx: AppContext,
  root: string,
  pair: string,
  collection: string | null,
): RunRecorder {
  const recorder = new RunRecorder(root, { run: runIdOf(ctx), kind: "sync", pair, collection });
  if (!runIds.has(ctx)) runIds.set(ctx, recorder.run);
  return recorder;
}

/**
 * The trash retention after a sync: {@link DEFAULT_RETENTION} over the whole status folder, never the last run
 * of a collection. A failure is a warning: the sync itself went fine.
 */
export function retainAfterSync(ctx: AppContext, root: string): void {
  try {
    const result = applyRetention(root, DEFAULT_RETENTION);
    if (result.removed.length > 0) {
      ctx.out.debug(
        `Trash: removed ${result.removed.length} old versions (${formatBytes(result.removedBytes)}); ${result.kept} kept (${formatBytes(result.keptBytes)}).`,
      );
    }
  } catch (err) {
    ctx.out.warn(`Pruning the trash failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
