/**
 * One generation of the daemon (one reading of the config and the discovery caches) and the collections it
 * cares for: how it is made from the command's context, how it ends, and what the storages that can discover say
 * about its collections.
 */
import { statSync } from "node:fs";
import { Readable } from "node:stream";
import { discoveryCachePath } from "@vdirsyncer/status";
import type { PairCollection, ResolvedPair } from "../collections.ts";
import { AppContext } from "../context.ts";
import type { DaemonCollectionState } from "./state.ts";

/** One collection under the daemon's care. */
export interface Task {
  key: string;
  pair: string;
  resolved: ResolvedPair;
  c: PairCollection;
  /** Monotonic time of the next sync. */
  due: number;
  failures: number;
  /** {@link failureKey} of the last failure, while failing. */
  lastFailure: string | undefined;
  lastError: string | null;
  offline: boolean;
  lastRun: number | undefined;
  /** Monotonic time of the first local change not synced yet. */
  changedSince: number | undefined;
  running: boolean;
  /** Sides whose watcher is armed. */
  watching: Set<"a" | "b">;
}

/** One reading of the config and caches. */
export interface Generation {
  ctx: AppContext;
  tasks: Map<string, Task>;
  /** Pairs that cannot run in this generation, with why. */
  broken: Map<string, unknown>;
  /** Mtime of each pair's `.collections` file when read. */
  stamps: Map<string, number>;
  /** Aborted when the generation ends: its watchers stop. */
  watchers: AbortController;
}

/** Task state carried from one generation to the next. */
export type Carried = Pick<
  Task,
  "due" | "failures" | "lastFailure" | "lastError" | "offline" | "lastRun" | "changedSince"
>;

export function cacheStamp(root: string, pair: string): number {
  try {
    return statSync(discoveryCachePath(root, pair)).mtimeMs;
  } catch {
    return 0;
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/** A context for one generation: the command's streams, no stdin (never a question), linked stop signals. */
export function childContext(parent: AppContext): AppContext {
  const child = new AppContext(
    { ...parent.io, stdin: Readable.from([]), signals: undefined },
    parent.out,
    parent.configOption,
  );
  const stop = () => child.stop.abort();
  const halt = () => child.halt.abort();
  if (parent.stop.signal.aborted) stop();
  else parent.stop.signal.addEventListener("abort", stop, { once: true });
  if (parent.halt.signal.aborted) halt();
  else parent.halt.signal.addEventListener("abort", halt, { once: true });
  // The listeners go with the child's storages.
  child.halt.signal.addEventListener("abort", () => {
    parent.stop.signal.removeEventListener("abort", stop);
    parent.halt.signal.removeEventListener("abort", halt);
  });
  return child;
}

/** Ends a generation: its watchers stop, its storages close. */
export async function disposeGeneration(gen: Generation): Promise<void> {
  gen.watchers.abort();
  await gen.ctx.storages.closeAll();
  gen.ctx.halt.abort();
}

/** Asks the storages that can discover for their collections; reports new and removed ones once. */
export async function discoverCollections(
  gen: Generation,
  notice: (gen: Generation, text: string) => void,
): Promise<void> {
  const byPair = new Map<string, Task[]>();
  for (const t of gen.tasks.values()) byPair.set(t.pair, [...(byPair.get(t.pair) ?? []), t]);
  for (const [pair, tasks] of byPair) {
    const resolved = (tasks[0] as Task).resolved;
    for (const side of ["a", "b"] as const) {
      try {
        const storage = await gen.ctx.storages.section(resolved[side]);
        if (!storage.definition.capabilities.discover) continue;
        const found = new Set<string>();
        for await (const info of storage.hosted.discover()) found.add(info.id);
        const cached = new Set(
          tasks.map((t) => t.c[side].collection).filter((id): id is string => typeof id === "string"),
        );
        const fromSide = (resolved.pair.collections ?? []).includes(`from ${side}`);
        for (const id of found) {
          if (fromSide && !cached.has(id))
            notice(
              gen,
              `New collection "${id}" on storage ${storage.name}: run \`vdirsyncer discover ${pair}\` to sync it too.`,
            );
        }
        for (const id of cached) {
          if (!found.has(id))
            notice(
              gen,
              `Collection "${id}" of pair ${pair} is gone from storage ${storage.name}: run \`vdirsyncer discover ${pair}\` (the local copy stays until you remove it).`,
            );
        }
      } catch (err) {
        gen.ctx.out.debug(`${pair}: discovering ${side} failed: ${messageOf(err)}`);
      }
    }
  }
}

/** What the state file says of each collection of `gen`; `mono` and `wall` are the same moment on both clocks. */
export function collectionStates(
  gen: Generation | undefined,
  stopped: boolean,
  mono: number,
  wall: number,
): Record<string, DaemonCollectionState> {
  const iso = (m: number) => new Date(wall + (m - mono)).toISOString();
  const collections: Record<string, DaemonCollectionState> = {};
  for (const t of gen?.tasks.values() ?? []) {
    collections[t.key] = {
      nextRun: stopped ? null : iso(t.due),
      lastRun: t.lastRun === undefined ? null : new Date(t.lastRun).toISOString(),
      failures: t.failures,
      lastError: t.lastError,
      offline: t.offline,
    };
  }
  return collections;
}
