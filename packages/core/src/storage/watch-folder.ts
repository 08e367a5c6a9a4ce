/**
 * Watching a folder for changes made by other programs, for storages that keep collections in files and implement
 * `watch()`: one `fs.watch` on the folder (no recursion: a vdir is flat, a single file filters by its name),
 * debounced, plus one on its parent that notices the folder itself being replaced or removed.
 */
import { type FSWatcher, statSync, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

/** How {@link watchFolder} groups events. */
export interface WatchTiming {
  /** Quiet time after the last event before `onChange` runs. @default 50 */
  debounceMs?: number;
  /** Longest delay of `onChange` under a steady stream of events. @default 500 */
  maxDelayMs?: number;
}

/**
 * Calls `onChange` (debounced) whenever an entry of `dir` for which `relevant(name)` holds is created, written,
 * renamed or removed, until `signal` aborts. When `dir` is replaced (another folder renamed over it, or removed and
 * created again) the watch follows the new folder and calls `onChange`. When it cannot go on (the parent folder is
 * gone, the system refuses a watcher), it calls `onChange` once more and stops. Never throws after returning.
 * @throws {Error} the `fs` error when the folder or its parent cannot be watched now (`ENOENT`: it does not exist)
 */
export function watchFolder(
  dir: string,
  relevant: (name: string) => boolean,
  onChange: () => void,
  signal: AbortSignal,
  timing: WatchTiming = {},
): void {
  if (signal.aborted) return;
  const debounceMs = timing.debounceMs ?? 50;
  const maxDelayMs = timing.maxDelayMs ?? 500;
  const name = basename(dir);
  let inner: FSWatcher | undefined;
  let outer: FSWatcher | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstPending: number | undefined;
  let identity: string | undefined;
  let stopped = false;

  const deliver = () => {
    timer = undefined;
    firstPending = undefined;
    if (stopped) return;
    try {
      onChange();
    } catch {
      // The host's callback failing is the host's business; the watch goes on.
    }
  };
  const changed = () => {
    if (stopped) return;
    const now = Date.now();
    firstPending ??= now;
    if (timer !== undefined) clearTimeout(timer);
    const wait = Math.max(0, Math.min(debounceMs, firstPending + maxDelayMs - now));
    timer = setTimeout(deliver, wait);
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    signal.removeEventListener("abort", stop);
    if (timer !== undefined) clearTimeout(timer);
    inner?.close();
    outer?.close();
    inner = undefined;
    outer = undefined;
  };
  /** A broken watch says so once more, then ends. */
  const fail = () => {
    if (stopped) return;
    stop();
    try {
      onChange();
    } catch {
      // As in deliver().
    }
  };

  /** Watches the folder; `strict` rethrows a refusal, else a folder that is not there (yet) waits for the parent. */
  const armInner = (strict = false): void => {
    inner?.close();
    inner = undefined;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true });
    } catch (err) {
      if (strict) throw err;
      return;
    }
    inner = w;
    w.on("change", (_event, file) => {
      if (file === null || relevant(String(file))) changed();
    });
    w.on("error", () => {
      // The folder went away under the watcher; the parent's watcher decides what follows.
      if (inner === w) {
        w.close();
        inner = undefined;
        void recheck();
      }
    });
  };

  /** Looks at the folder after its name changed in the parent: re-arms on a new folder, and reports the change. */
  const recheck = async (): Promise<void> => {
    const now = await stat(dir, { bigint: true }).then(
      (s) => (s.isDirectory() ? `${s.dev}:${s.ino}` : undefined),
      () => undefined,
    );
    if (stopped) return;
    if (now !== identity || inner === undefined) {
      identity = now;
      if (now === undefined) {
        inner?.close();
        inner = undefined;
      } else armInner();
      changed();
    }
  };

  // The identity the folder has now, so that a replacement is told from a touch.
  const initial = statSync(dir, { bigint: true, throwIfNoEntry: false });
  identity = initial?.isDirectory() ? `${initial.dev}:${initial.ino}` : undefined;
  armInner(true);
  try {
    outer = watch(dirname(dir), { persistent: true });
  } catch (err) {
    inner?.close();
    throw err;
  }
  outer.on("change", (_event, file) => {
    if (file === null || String(file) === name) void recheck();
  });
  outer.on("error", fail);
  signal.addEventListener("abort", stop, { once: true });
}
