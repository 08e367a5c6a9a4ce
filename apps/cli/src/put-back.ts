/**
 * Putting kept versions back through the storage, on the side they were taken from: what `trash restore` and
 * `undo` share.
 */
import { existsSync } from "node:fs";
import {
  Item,
  isVdirsyncerError,
  type Side,
  type StatusRow,
  UserError,
  type WritableCollection,
} from "@vdirsyncer/core/engine";
import {
  type JournalAction,
  lockPair,
  openCollectionStatus,
  type PairLock,
  type RunRecorder,
  readTrashItem,
  statusFilePath,
  type TrashListing,
} from "@vdirsyncer/status";
import { cachedCollections, resolvePair } from "./collections.ts";
import type { AppContext } from "./context.ts";
import { reportError } from "./errors.ts";
import { takePairLocks } from "./pair-locks.ts";
import { confirm } from "./prompt.ts";
import { type OpenedCollection, openCollection } from "./storages.ts";
import { statusNameOf } from "./targets.ts";

/** One version to put back, and the version the caller expects to replace (`absent`, a hash, or unknown). */
export interface PutBack {
  entry: TrashListing;
  /** `null`: nothing should be there (a deletion); a hash: what the run wrote; `undefined`: not known. */
  expect: string | null | undefined;
}

/** The current version of an item on one side. */
interface Current {
  href: string;
  etag: string;
  item: Item;
}

interface PlannedPutBack extends PutBack {
  collection: OpenedCollection;
  current: Current | null;
  /** Already there: the current version has the kept content. */
  already: boolean;
  /** What is there is newer than what the run left: the user must agree. */
  newer: string | null;
}

/** The rows of a collection's status, read without writing anything. */
function statusRows(root: string, pair: string, collection: string | null): Map<string, StatusRow> {
  const rows = new Map<string, StatusRow>();
  if (!existsSync(statusFilePath(root, pair, collection, "items"))) return rows;
  const status = openCollectionStatus(root, pair, collection);
  try {
    for (const row of status.rows() as Iterable<StatusRow>) rows.set(row.ident, row);
  } finally {
    status.close();
  }
  return rows;
}

async function readCurrent(
  collection: OpenedCollection,
  ident: string,
  hrefs: readonly (string | null | undefined)[],
): Promise<Current | null> {
  const tried = new Set<string>();
  for (const href of hrefs) {
    if (!href || tried.has(href)) continue;
    tried.add(href);
    try {
      const got = await collection.collection.get(href);
      if (got.item.ident === ident) return { href, etag: got.etag, item: got.item };
    } catch (err) {
      if (!isVdirsyncerError(err, "NOT_FOUND")) throw err;
    }
  }
  return null;
}

/** One collection's put-backs, prepared: storages opened, current versions read, nothing written yet. */
export interface PutBackGroup {
  pair: string;
  collection: string | null;
  items: PlannedPutBack[];
}

/**
 * Opens the sides the entries were taken from (from the discovery cache, as `sync` does) and reads what each
 * item is now.
 * @throws {UserError} the pair is gone from the config, the collection from the cache, or a side is read-only
 */
export async function preparePutBack(
  ctx: AppContext,
  root: string,
  pair: string,
  collection: string | null,
  wanted: readonly PutBack[],
): Promise<PutBackGroup> {
  const config = await ctx.config();
  if (!config.pairs.has(pair)) {
    const storage = wanted[0]?.entry.storage ?? pair;
    throw new UserError(
      `The kept versions of ${statusNameOf(pair, collection)} belong to no configured pair (kept by \`vdirsyncer repair\` of ${storage}, or the pair was removed).`,
      { hint: "Copy it back by hand: `vdirsyncer trash show ID > file`." },
    );
  }
  const resolved = await resolvePair(ctx, pair);
  const found = (await cachedCollections(ctx, resolved)).find((c) => c.name === collection);
  if (!found) {
    throw new UserError(
      `Pair ${pair}: the collection ${JSON.stringify(collection)} is not configured any more.`,
      {
        hint: `Run \`vdirsyncer discover ${pair}\` if it should be, or copy the version back by hand with \`vdirsyncer trash show\`.`,
      },
    );
  }
  const rows = statusRows(root, pair, collection);
  const opened = new Map<Side, Promise<OpenedCollection>>();
  const side = (s: Side) => {
    let pending = opened.get(s);
    if (!pending) {
      pending = (async () => {
        const storage = await ctx.storages.section(resolved[s]);
        const o = await openCollection(ctx, storage, found[s], { create: false, signal: ctx.halt.signal });
        if (o.readOnly || !("upload" in o.collection)) {
          throw new UserError(`Storage ${o.instance} is read-only: nothing can be put back there.`, {
            hint: "Remove `read_only = true` from its section to restore into it.",
          });
        }
        return o;
      })();
      opened.set(s, pending);
    }
    return pending;
  };
  const items: PlannedPutBack[] = [];
  for (const w of wanted) {
    const { entry } = w;
    const c = await side(entry.side);
    const row = rows.get(entry.ident);
    const current = await readCurrent(c, entry.ident, [row?.[entry.side].href, entry.href]);
    const kept = entry.hash ?? new Item(readTrashItem(entry)).hash;
    const already = current !== null && current.item.hash === kept;
    let newer: string | null = null;
    if (!already) {
      if (w.expect === null && current !== null) newer = "it exists again";
      else if (w.expect !== null && current === null) newer = "it was deleted since";
      else if (current !== null && current.item.hash !== w.expect) newer = "it was changed since";
    }
    items.push({ ...w, collection: c, current, already, newer });
  }
  return { pair, collection, items };
}

/** Asks before replacing newer versions, or refuses without a terminal. */
export async function agreeToReplace(
  ctx: AppContext,
  groups: readonly PutBackGroup[],
  force: boolean,
): Promise<boolean> {
  const newer = groups.flatMap((g) => g.items.filter((i) => i.newer !== null));
  if (newer.length === 0 || force) return true;
  for (const i of newer) {
    const name = i.entry.name === null ? "" : ` (${JSON.stringify(i.entry.name)})`;
    ctx.out.warn(`Item ${i.entry.ident}${name} on ${i.collection.instance}: ${i.newer}.`);
  }
  const question = `Replace ${newer.length === 1 ? "it" : `these ${newer.length} items`} with the kept version? What is there now goes to the trash.`;
  if ((ctx.io.stdin as { isTTY?: boolean }).isTTY === true) return confirm(ctx.out, ctx.reader, question);
  throw new UserError(
    `Not putting anything back: ${newer.length} item${newer.length === 1 ? " was" : "s were"} changed after the run, and there is no terminal to ask.`,
    {
      hint: "Run it again on a terminal, or add --force to replace them anyway (what is there goes to the trash).",
    },
  );
}

/**
 * Writes the kept versions back through the storage, each on the side it was taken from; what they replace goes
 * to the trash of this run first. The status is left alone, so the next sync carries them to the other side.
 * @returns how many failed
 */
export async function applyPutBack(
  ctx: AppContext,
  group: PutBackGroup,
  recorder: RunRecorder,
): Promise<number> {
  let failed = 0;
  const touched = new Set<OpenedCollection>();
  for (const p of group.items) {
    const { entry } = p;
    const name = entry.name === null ? "" : ` (${JSON.stringify(entry.name)})`;
    if (p.already) {
      ctx.out.info(`Item ${entry.ident}${name} on ${p.collection.instance} is already the kept version.`);
      continue;
    }
    const collection = p.collection.collection as WritableCollection;
    const item = new Item(readTrashItem(entry));
    const action: JournalAction = {
      kind: "restore",
      side: entry.side,
      ident: entry.ident,
      href: p.current?.href ?? null,
      name: entry.name,
      uid: entry.uid,
      hash: item.hash,
      result: "done",
      trash: [],
      restored: entry.id,
    };
    try {
      touched.add(p.collection);
      if (p.current) {
        await recorder.trash.keep([
          {
            storage: p.collection.instance,
            side: entry.side,
            ident: entry.ident,
            href: p.current.href,
            etag: p.current.etag,
            raw: p.current.item.raw,
            reason: "update",
          },
        ]);
        action.trash = recorder.keptFor(entry.side, entry.ident).map((e) => e.id);
        ctx.out.info(
          `Restoring item ${entry.ident}${name} over the current version in ${p.collection.instance}`,
        );
        await collection.update(p.current.href, item, p.current.etag);
      } else {
        ctx.out.info(`Restoring item ${entry.ident}${name} to ${p.collection.instance}`);
        action.href = (await collection.upload(item)).href;
      }
    } catch (err) {
      failed++;
      action.result = "failed";
      action.error = err instanceof Error ? err.message : String(err);
      recorder.error(err);
      reportError(ctx.out, err, statusNameOf(group.pair, group.collection));
    }
    recorder.add(action);
  }
  for (const c of touched) {
    try {
      await c.collection.flush?.();
    } catch (err) {
      failed++;
      recorder.error(err);
      reportError(ctx.out, err, statusNameOf(group.pair, group.collection));
    }
  }
  return failed;
}

/** Takes the locks of `pairs` (sorted, all or none) with lockPair's own short wait, not a sync's long one. */
export function lockPairs(ctx: AppContext, root: string, pairs: Iterable<string>): Promise<PairLock[]> {
  return takePairLocks(ctx, root, pairs, (pair) => lockPair(root, pair, { log: ctx.out }));
}
