/** Assertion helpers shared by the suite's groups. */
import {
  type CollectionRef,
  type ErrorCode,
  type FetchedItem,
  type Item,
  type ItemFailure,
  type ItemRef,
  isVdirsyncerError,
  type JsonValue,
  type ReadableCollection,
  type WritableCollection,
} from "@vdirsyncer/core";
import { expect } from "vitest";
import { normalizeForCompare } from "./normalize.ts";

/** A collection as the suite sees it: the read methods, and the write methods when the storage has them. */
export type AnyCollection = ReadableCollection & Partial<WritableCollection>;

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** Makes buffered writes durable when the collection buffers (singlefile). */
export async function flush(col: AnyCollection): Promise<void> {
  await col.flush?.();
}

/** The etag a write returned, or the current one when the backend did not say. */
export async function etagOf(col: AnyCollection, href: string, etag: string | undefined): Promise<string> {
  if (etag !== undefined) {
    expect(typeof etag).toBe("string");
    return etag;
  }
  return (await col.get(href)).etag;
}

export function fetchedOnly(results: (FetchedItem | ItemFailure)[]): FetchedItem[] {
  return results.map((r) => {
    if ("error" in r) throw new Error(`getMany() could not read ${r.href}: ${r.error.message}`);
    return r;
  });
}

export function sortRefs(refs: readonly ItemRef[]): ItemRef[] {
  return [...refs]
    .map((r) => ({ href: r.href, etag: r.etag }))
    .sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
}

export function expectUnique(values: readonly string[], message: string): void {
  const dupes = values.filter((v, i) => values.indexOf(v) !== i);
  expect(dupes, message).toEqual([]);
}

export function expectUniqueHrefs(refs: readonly ItemRef[]): void {
  expectUnique(
    refs.map((r) => r.href),
    "list() yielded an href twice",
  );
}

/** Equal after vdirsyncer's normalisation (the `Item.hash`); on failure, shows a readable diff. */
export function expectSameItem(got: Item, want: Item, what = "the stored item"): void {
  if (got.hash !== want.hash) {
    expect(normalizeForCompare(got), `${what} differs from the uploaded one`).toBe(normalizeForCompare(want));
    expect(got.hash, `${what}'s hash differs from the uploaded one`).toBe(want.hash);
  }
}

/** Describes what was thrown, for assertion messages: the code and message of our errors, else the value. */
function describeThrown(error: unknown): string {
  if (isVdirsyncerError(error)) return `${error.code} (${error.message})`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Checks that `error` is a vdirsyncer error of `code`, naming what was thrown instead. */
export function expectCode(error: unknown, code: ErrorCode, what?: string): void {
  const label = what === undefined ? "" : `${what}: `;
  const actual = isVdirsyncerError(error) ? error.code : describeThrown(error);
  expect(actual, `${label}expected an error with code ${code}, got ${describeThrown(error)}`).toBe(code);
}

/** Awaits `promise` and checks that it rejected with a vdirsyncer error of `code`. */
export async function expectError(promise: Promise<unknown>, code: ErrorCode, what?: string): Promise<void> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const label = what === undefined ? "" : `${what}: `;
  if (outcome.ok) expect.fail(`${label}expected an error with code ${code}, but the call succeeded`);
  expectCode(outcome.error, code, what);
}

/**
 * Checks the one rule for a missing collection: `open()` throws CollectionNotFoundError, or, when the storage
 * cannot tell cheaply, the first call (`list()`) does. Reading a missing collection as empty fails.
 */
export async function expectMissing(open: () => Promise<AnyCollection>, what: string): Promise<void> {
  let col: AnyCollection;
  try {
    col = await open();
  } catch (error) {
    expectCode(error, "COLLECTION_NOT_FOUND", `${what}: open()`);
    return;
  }
  let listed: ItemRef[];
  try {
    listed = await collect(col.list());
  } catch (error) {
    expectCode(error, "COLLECTION_NOT_FOUND", `${what}: list() after open()`);
    return;
  }
  expect.fail(
    `${what}: open() succeeded and list() yielded ${listed.length} item(s). A collection that does not exist must ` +
      "throw CollectionNotFoundError from open() (or from the first call when the storage cannot tell cheaply); " +
      "it must never read as empty, and open() must never create it.",
  );
}

/**
 * The form in which the command keeps a ref between runs: only `{id, config}`, after a JSON round trip, with
 * every config key whose value equals the configured option's left out (vdirsyncer's discovery cache).
 */
export function cachedRef(ref: CollectionRef, options: Readonly<Record<string, unknown>>): CollectionRef {
  const config: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(ref.config ?? {})) {
    if (key in options && sameJson(options[key], value)) continue;
    config[key] = value;
  }
  return JSON.parse(JSON.stringify({ id: ref.id, config })) as CollectionRef;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Resolves when `promise` does, or fails the test after `ms` with `message`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
