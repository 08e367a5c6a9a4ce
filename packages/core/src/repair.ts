import { randomUUID } from "node:crypto";
import { VdirsyncerError } from "./errors.ts";
import type { Item } from "./item/item.ts";
import type { Trash } from "./status.ts";
import type { Logger, WritableCollection } from "./storage/contract.ts";
import { ensureHosted } from "./storage/host.ts";

const SAFE_UID = /^[A-Za-z0-9_.+-]+$/;

/** True when a UID or file name uses only `[A-Za-z0-9_.+-]` (vdirsyncer's `href_safe`). */
export function isSafeUid(value: string): boolean {
  return SAFE_UID.test(value) && value !== "." && value !== "..";
}

/** An item `repair` cannot fix: it does not parse, or has no component that can carry a UID. */
export class IrreparableItemError extends VdirsyncerError {
  constructor(href: string) {
    super(
      "ITEM_INVALID",
      `Item '${href}' is malformed beyond repair. The PRODID property may indicate which software created this item.`,
      { hint: "Fix or remove the file by hand; repair left it as it is.", context: { href } },
    );
  }
}

function basename(href: string): string {
  const slash = href.lastIndexOf("/");
  return slash === -1 ? href : href.slice(slash + 1);
}

/**
 * Repairs one item as vdirsyncer's `repair_item` does: a random UID for an item without one, for a UID already
 * seen, and (only with `repairUnsafeUid`) for a UID or file name outside `[A-Za-z0-9_.+-]`.
 * Returns the same object when nothing needs to change.
 * @throws {IrreparableItemError} the item does not parse, or has no VEVENT/VTODO/VJOURNAL/VCARD to carry a UID
 */
export function repairItem(
  href: string,
  item: Item,
  seenUids: ReadonlySet<string>,
  repairUnsafeUid: boolean,
  log?: Logger,
): Item {
  if (item.parsed === undefined) throw new IrreparableItemError(href);
  let repaired = item;
  const uid = item.uid;
  if (!uid) {
    log?.warn("No UID, assigning random UID.");
    repaired = item.withUid(randomUUID());
  } else if (seenUids.has(uid)) {
    log?.warn("Duplicate UID, assigning random UID.");
    repaired = item.withUid(randomUUID());
  } else if (!isSafeUid(uid) || !isSafeUid(basename(href))) {
    if (repairUnsafeUid) {
      log?.warn("UID or href is unsafe, assigning random UID.");
      repaired = item.withUid(randomUUID());
    } else {
      log?.warn("UID may cause problems, add --repair-unsafe-uid to repair.");
    }
  }
  if (!repaired.uid) throw new IrreparableItemError(href);
  return repaired;
}

/** What {@link repairCollection} did. */
export interface RepairReport {
  processed: number;
  repaired: number;
  irreparable: string[];
}

/**
 * Repairs every item of a collection (vdirsyncer's `repair_storage`): items whose UID changes are uploaded anew
 * and the old href deleted; others are updated in place. Before anything is overwritten or deleted, the old
 * version goes to `trash` when one is given. The sync status is not touched: the next sync sees a deletion and a
 * creation.
 */
export async function repairCollection(
  collection: WritableCollection,
  options: { repairUnsafeUid: boolean; log?: Logger; trash?: Trash; name?: string },
): Promise<RepairReport> {
  const { log, trash } = options;
  collection = ensureHosted(collection, options.name ?? "storage") as WritableCollection;
  const hrefs: { href: string; etag: string }[] = [];
  for await (const ref of collection.list()) hrefs.push(ref);
  const seen = new Set<string>();
  const report: RepairReport = { processed: 0, repaired: 0, irreparable: [] };
  for (const [i, { href }] of hrefs.entries()) {
    const { item, etag } = await collection.get(href);
    // vdirsyncer quirk, kept: the counter starts at 0.
    log?.info(`[${i}/${hrefs.length}] Processing ${href}`);
    report.processed++;
    let repaired: Item;
    try {
      repaired = repairItem(href, item, seen, options.repairUnsafeUid, log);
    } catch (err) {
      if (!(err instanceof IrreparableItemError)) throw err;
      log?.error(err.message);
      log?.error(`Item content: ${JSON.stringify(item.raw)}`);
      report.irreparable.push(href);
      continue;
    }
    seen.add(repaired.uid as string);
    if (repaired.raw === item.raw) continue;
    await trash?.keep([
      {
        storage: options.name ?? "",
        side: "a",
        ident: item.ident,
        href,
        etag,
        raw: item.raw,
        reason: repaired.uid === item.uid ? "update" : "delete",
      },
    ]);
    if (repaired.uid !== item.uid) {
      await collection.upload(repaired);
      await collection.delete(href, etag);
    } else {
      await collection.update(href, repaired, etag);
    }
    report.repaired++;
  }
  await collection.flush?.();
  return report;
}
