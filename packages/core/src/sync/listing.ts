import { createHash } from "node:crypto";
import { isVdirsyncerError } from "../errors.ts";
import type { CollectionStatus, Side, StatusRow } from "../status.ts";
import type { ChangeSet, ReadableCollection } from "../storage/contract.ts";
import { DuplicateHrefError } from "./errors.ts";

/** How a side's listing was obtained: in full, from an unchanged ctag, or as a delta since a sync token. */
export type ListingMethod = "full" | "ctag" | "delta";

/** A side's listing (`href → etag`) and the state to store once the sync succeeded. */
export interface Listing {
  refs: Map<string, string>;
  method: ListingMethod;
  /** State keys to write after a successful sync (ctag, sync token, time of the last full listing). */
  state: Record<string, string | undefined>;
}

/** Options of {@link listSide}. */
export interface ListingOptions {
  /**
   * A full listing still runs when the last one is older than this, because some servers' ctags and sync tokens
   * are not to be trusted.
   * @default 86_400_000 (one day)
   */
  fullListingIntervalMs?: number;
  /** Forces a full listing. */
  full?: boolean;
  now?: number;
}

/**
 * A digest of one side's rows in the status: the ctag and sync-token shortcuts are only trusted while the status is
 * exactly what this engine left behind (another tool, such as Python vdirsyncer, may have synced in between).
 */
export function sideDigest(rows: Iterable<StatusRow>, side: Side): string {
  const lines: string[] = [];
  for (const row of rows) lines.push(`${row[side].href}\u0000${row[side].etag}`);
  lines.sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/** Key of our own per-side state in the status store. */
export function stateKey(side: Side, name: "ctag" | "syncToken" | "digest" | "fullAt"): string {
  return `${side}.${name}`;
}

/**
 * Calls `changes(token)`, starting over from no token when the token expired. `undefined` when the storage cannot
 * report changes for this collection (it threw {@link UnsupportedError}, e.g. a server without sync-collection):
 * the caller then lists in full.
 */
async function listChanges(
  collection: ReadableCollection,
  token: string | undefined,
): Promise<{ changes: ChangeSet; token: string | undefined } | undefined> {
  const call = async (t: string | undefined) => {
    try {
      return await (collection.changes as NonNullable<ReadableCollection["changes"]>)(t);
    } catch (err) {
      if (isVdirsyncerError(err, "UNSUPPORTED")) return undefined;
      throw err;
    }
  };
  try {
    const changes = await call(token);
    return changes && { changes, token };
  } catch (err) {
    if (token === undefined || !isVdirsyncerError(err, "SYNC_TOKEN_EXPIRED")) throw err;
    const changes = await call(undefined);
    return changes && { changes, token: undefined };
  }
}

/**
 * Lists one side: through an unchanged ctag or a sync-token delta where the storage offers them and the stored
 * state can be trusted, else in full.
 * @throws {DuplicateHrefError} a full listing yielded the same href twice
 */
export async function listSide(
  side: Side,
  name: string,
  collection: ReadableCollection,
  oldRows: readonly StatusRow[],
  status: CollectionStatus,
  options: ListingOptions = {},
): Promise<Listing> {
  const now = options.now ?? Date.now();
  const interval = options.fullListingIntervalMs ?? 86_400_000;
  const [storedDigest, fullAt, storedCtag, storedToken] = await Promise.all([
    status.getState(stateKey(side, "digest")),
    status.getState(stateKey(side, "fullAt")),
    status.getState(stateKey(side, "ctag")),
    status.getState(stateKey(side, "syncToken")),
  ]);
  // Rows without href or etag (a read-only revert, a PUT without ETag) cannot be rebuilt from the status alone.
  const complete = oldRows.every((r) => r[side].href !== null && r[side].etag !== null);
  const trusted =
    !options.full &&
    complete &&
    storedDigest === sideDigest(oldRows, side) &&
    fullAt !== undefined &&
    now - Number(fullAt) < interval;
  const fromStatus = () => new Map(oldRows.map((r) => [r[side].href as string, r[side].etag as string]));
  const state: Record<string, string | undefined> = {};

  if (collection.collectionTag) {
    // The stored tag is only a validator when the status it describes is still ours.
    const ctag = await collection.collectionTag(trusted ? storedCtag : undefined);
    state[stateKey(side, "ctag")] = ctag;
    if (trusted && ctag !== undefined && ctag === storedCtag) {
      // Nothing changed since the last sync: keep the token too, it still describes this state.
      return { refs: fromStatus(), method: "ctag", state };
    }
  }

  const delta = collection.changes
    ? await listChanges(collection, trusted ? storedToken : undefined)
    : undefined;
  if (delta) {
    const { changes, token } = delta;
    state[stateKey(side, "syncToken")] = changes.token;
    if (token === undefined) {
      const refs = new Map<string, string>();
      for (const ref of changes.changed) {
        if (refs.has(ref.href)) throw new DuplicateHrefError(name, ref.href);
        refs.set(ref.href, ref.etag);
      }
      state[stateKey(side, "fullAt")] = String(now);
      return { refs, method: "full", state };
    }
    const refs = fromStatus();
    for (const href of changes.removed) refs.delete(href);
    for (const ref of changes.changed) refs.set(ref.href, ref.etag);
    return { refs, method: "delta", state };
  }
  // The storage has no usable token right now (`changes()` threw UnsupportedError): forget any old one.
  if (collection.changes) state[stateKey(side, "syncToken")] = undefined;

  const refs = new Map<string, string>();
  for await (const ref of collection.list()) {
    if (refs.has(ref.href)) throw new DuplicateHrefError(name, ref.href);
    refs.set(ref.href, ref.etag);
  }
  state[stateKey(side, "fullAt")] = String(now);
  return { refs, method: "full", state };
}
