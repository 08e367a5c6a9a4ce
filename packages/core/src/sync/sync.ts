import { InvalidItemError, type VdirsyncerError } from "../errors.ts";
import { Component } from "../item/component.ts";
import type { Item } from "../item/item.ts";
import type { Side, StatusRow, WriteIntent } from "../status.ts";
import type { Logger, ReadableCollection, WritableCollection } from "../storage/contract.ts";
import { ensureHosted } from "../storage/host.ts";
import { toConflictResolver } from "./conflict.ts";
import { BothReadOnlyError, IdentConflictError, StorageEmptyError } from "./errors.ts";
import { asVdirsyncerError, type ExecutionState, executePlan } from "./execute.ts";
import { fetchItems } from "./fetch.ts";
import { type Listing, listSide, sideDigest, stateKey } from "./listing.ts";
import { planSync, type SideEntry } from "./plan.ts";
import type { SyncOptions, SyncReport } from "./types.ts";

const SIDES: readonly Side[] = ["a", "b"];

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function isWritable(collection: ReadableCollection): collection is WritableCollection {
  return typeof (collection as Partial<WritableCollection>).upload === "function";
}

/**
 * Why an item cannot be synced, or `undefined` when it can. An item must parse as exactly one component
 * (VCALENDAR or VCARD); vdirsyncer copies anything, which spreads broken files to servers and to khal.
 */
export function checkItem(item: Item): string | undefined {
  if (item.parsed !== undefined) return undefined;
  try {
    Component.parse(item.raw);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return "it is not an iCalendar or vCard object";
}

/**
 * Resolves the intents a killed run left: a write that happened (the item is on the written side with no row after
 * an upload, or its etag moved after an update) gets the row that run would have recorded, built from what the
 * written side holds now and the source version the intent names, so the next plan neither re-sends it nor reads a
 * server's rewrite of it as a change on both sides. A write that did not happen is left to the plan. Deletions need
 * nothing (gone on both sides is a plain row drop), nor do idents written on both sides (a resolved conflict,
 * resolved again).
 * @returns the rows adopted (also set in `old`)
 */
export function resolveIntents(
  intents: readonly WriteIntent[],
  old: Map<string, StatusRow>,
  entries: Record<Side, ReadonlyMap<string, SideEntry>>,
): StatusRow[] {
  const sides = new Map<string, Set<Side>>();
  for (const i of intents) sides.set(i.ident, (sides.get(i.ident) ?? new Set()).add(i.side));
  const adopted: StatusRow[] = [];
  for (const intent of intents) {
    if (intent.kind === "delete" || intent.source === null) continue;
    if ((sides.get(intent.ident)?.size ?? 0) > 1) continue;
    const now = entries[intent.side].get(intent.ident);
    if (now === undefined) continue;
    const row = old.get(intent.ident);
    const happened =
      intent.kind === "upload" ? row === undefined : row !== undefined && now.etag !== intent.target?.etag;
    if (!happened) continue;
    const written = { ...now };
    const source = { ...intent.source };
    const next: StatusRow =
      intent.side === "a"
        ? { ident: intent.ident, a: written, b: source }
        : { ident: intent.ident, a: source, b: written };
    old.set(intent.ident, next);
    adopted.push(next);
  }
  return adopted;
}

/**
 * Syncs one collection pair: vdirsyncer's algorithm (spec/sync.md) with a separate plan, bounded concurrency,
 * a status written as actions complete, and a trash for what gets overwritten or deleted.
 *
 * Item-level problems (a conflict, an unreadable file, a failed write) are reported through `onError` and the
 * other items go on; collection-level ones are thrown and change nothing.
 * @throws {BothReadOnlyError} both sides are read-only
 * @throws {StorageEmptyError} one side is empty while the status is not (unless `forceDelete`)
 * @throws {IdentConflictError} one side holds two items with the same ident
 * @throws {DuplicateHrefError} a side listed an href twice
 * @throws {UserError} `conflictResolution` is invalid
 */
export async function syncCollection(options: SyncOptions): Promise<SyncReport> {
  const log = options.log ?? silent;
  const readOnly = {
    a: options.a.readOnly === true || !isWritable(options.a.collection),
    b: options.b.readOnly === true || !isWritable(options.b.collection),
  };
  if (readOnly.a && readOnly.b) throw new BothReadOnlyError();
  // One call at a time for a collection that does not come from a hosted storage: the contract's default.
  const collections = {
    a: ensureHosted(options.a.collection, options.a.name),
    b: ensureHosted(options.b.collection, options.b.name),
  };
  const resolver = toConflictResolver(options.conflictResolution ?? null);
  const errors: VdirsyncerError[] = [];
  const report = (err: VdirsyncerError) => {
    errors.push(err);
    options.onError?.(err);
  };

  const old = new Map<string, StatusRow>();
  for (const row of await options.status.rows()) old.set(row.ident, row);
  const oldRows = [...old.values()];

  const names = { a: options.a.name, b: options.b.name };
  const items: Record<Side, Map<string, Item>> = { a: new Map(), b: new Map() };
  const entries: Record<Side, Map<string, SideEntry>> = { a: new Map(), b: new Map() };
  const listings = {} as Record<Side, Listing>;
  const fetched = { a: 0, b: 0 };
  const blocked = new Set<string>();

  for (const side of SIDES) {
    const { name } = options[side];
    const collection = collections[side];
    let listing: Listing;
    try {
      listing = await listSide(side, name, collection, oldRows, options.status, {
        fullListingIntervalMs: options.fullListingIntervalMs,
        full: options.fullListing,
      });
    } catch (err) {
      throw asVdirsyncerError(err, { storage: name, operation: "list" });
    }
    listings[side] = listing;
    const byHref = new Map<string, StatusRow>();
    for (const row of oldRows) if (row[side].href !== null) byHref.set(row[side].href as string, row);

    const add = (ident: string, entry: SideEntry) => {
      const existing = entries[side].get(ident);
      if (existing) throw new IdentConflictError(name, [existing.href ?? "", entry.href ?? ""]);
      entries[side].set(ident, entry);
    };
    const toFetch: string[] = [];
    for (const [href, etag] of listing.refs) {
      const row = byHref.get(href);
      // Known href with the same etag: unchanged, no download.
      if (row && row[side].etag === etag) add(row.ident, { ...row[side] });
      else toFetch.push(href);
    }
    options.onEvent?.({
      type: "listed",
      side,
      method: listing.method,
      count: listing.refs.size,
      toFetch: toFetch.length,
    });

    const result = await fetchItems(collection, toFetch, name);
    fetched[side] = result.items.length;
    const unreadable = (href: string, error: VdirsyncerError) => {
      error.withContext({ storage: name, href });
      options.onEvent?.({ type: "item-unreadable", side, href, error });
      report(error);
      // Never read a file we cannot parse as "deleted": keep its last known state and leave it alone.
      const row = byHref.get(href);
      if (row) blocked.add(row.ident);
    };
    for (const failure of result.failures) unreadable(failure.href, failure.error);
    for (const got of result.items) {
      const problem = checkItem(got.item);
      if (problem !== undefined) {
        unreadable(
          got.href,
          new InvalidItemError(`Item ${got.href} in ${name} is malformed and was not synced: ${problem}`, {
            href: got.href,
          }),
        );
        continue;
      }
      if (got.item.uid === undefined) {
        log.warn(
          `Item ${got.href} in ${name} has no UID; it is matched by its content instead. \`vdirsyncer repair ${name}\` can give it one.`,
        );
      }
      const ident = got.item.ident;
      add(ident, { href: got.href, hash: got.item.hash, etag: got.etag });
      items[side].set(ident, got.item);
    }
  }

  // An item that could not be read keeps its old row on both sides: no action touches it this time.
  for (const ident of blocked) {
    const row = old.get(ident);
    if (!row) continue;
    for (const side of SIDES) {
      entries[side].set(ident, { ...row[side] });
      items[side].delete(ident);
    }
  }

  // A killed run may have written without recording it: resolve its intents from what the sides hold now.
  const intents = await options.status.intents();
  if (intents.length > 0) {
    const adopted = resolveIntents(intents, old, entries);
    log.info(
      `Found ${intents.length} write(s) of an interrupted run; ${adopted.length} had happened and are recorded now.`,
    );
    if (!options.dryRun) {
      for (const row of adopted) await options.status.record(row);
      await options.status.settle();
    }
  }

  if (old.size > 0 && !options.forceDelete) {
    const aEmpty = listings.a.refs.size === 0;
    const bEmpty = listings.b.refs.size === 0;
    if (aEmpty && !bEmpty) throw new StorageEmptyError(names.a, "a");
    if (bEmpty && !aEmpty) throw new StorageEmptyError(names.b, "b");
  }

  const plan = planSync(old, entries.a, entries.b);
  options.onEvent?.({ type: "planned", plan });
  const listingReport = {
    a: { method: listings.a.method, count: listings.a.refs.size, fetched: fetched.a },
    b: { method: listings.b.method, count: listings.b.refs.size, fetched: fetched.b },
  };
  if (options.dryRun) return { plan, listing: listingReport, applied: 0, errors, notStarted: 0 };

  const next = new Map<string, Partial<Record<Side, SideEntry>>>();
  for (const side of SIDES) {
    for (const [ident, entry] of entries[side]) {
      const current = next.get(ident) ?? {};
      current[side] = entry;
      next.set(ident, current);
    }
  }
  const state: ExecutionState = {
    names,
    collections,
    readOnly,
    noDelete: { a: options.a.noDelete === true, b: options.b.noDelete === true },
    items,
    old,
    next,
    resolver,
    partialSync: options.partialSync ?? "revert",
    log,
    trash: options.trash,
  };
  const result = await executePlan(plan, state, {
    status: options.status,
    trash: options.trash,
    concurrency: options.concurrency ?? 8,
    onEvent: options.onEvent,
    onError: options.onError ? report : undefined,
    stop: options.stop,
  });
  for (const err of result.errors) if (!errors.includes(err)) errors.push(err);

  // Tokens and ctags describe the storage as listed; they are only safe to reuse when every change was handled.
  if (errors.length === 0 && result.notStarted === 0) {
    const rows = result.rows;
    for (const side of SIDES) {
      for (const [key, value] of Object.entries(listings[side].state))
        await options.status.setState(key, value);
      await options.status.setState(stateKey(side, "digest"), sideDigest(rows, side));
    }
  } else {
    for (const side of SIDES) await options.status.setState(stateKey(side, "digest"), undefined);
  }
  return { plan, listing: listingReport, applied: result.applied, errors, notStarted: result.notStarted };
}
