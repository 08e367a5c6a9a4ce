/**
 * Building http storages in tests the way a host does: raw options through the definition's schema, then
 * `create()` with a context whose log lines are kept.
 */
import type { CollectionRef, ItemRef, Logger, StorageContext } from "@vdirsyncer/core";
import { createHttpStorage, type HttpCollection, HttpOptions } from "../src/index.ts";

/** A logger that keeps what it is told, per level. */
export function recordingLog(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** The problems the options schema reports for `raw`, as plain messages; `[]` when it accepts them. */
export async function optionProblems(raw: Record<string, unknown>): Promise<string[]> {
  const result = await HttpOptions["~standard"].validate(raw);
  return result.issues ? result.issues.map((i) => i.message) : [];
}

/** An opened feed collection from raw config options, with retries made instant (Retry-After is still honoured). */
export async function openFeed(
  raw: Record<string, unknown>,
  log: Logger = recordingLog(),
  collection: CollectionRef | null = null,
): Promise<{ col: HttpCollection; close: () => Promise<void>; ctx: StorageContext }> {
  const result = await HttpOptions["~standard"].validate(raw);
  if (result.issues) throw new Error(result.issues.map((i) => i.message).join("; "));
  const ctx: StorageContext = {
    instance: "feed",
    log,
    stats: { add() {} },
    signal: new AbortController().signal,
  };
  const storage = createHttpStorage(result.value, ctx, { retryBaseMs: 1 });
  const col = storage.open(collection, { signal: new AbortController().signal, stats: { add() {} } });
  return { col, close: async () => storage.close(), ctx };
}

/** Drains an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The hrefs of a listing, sorted. */
export function hrefsOf(refs: readonly ItemRef[]): string[] {
  return refs.map((r) => r.href).sort();
}
