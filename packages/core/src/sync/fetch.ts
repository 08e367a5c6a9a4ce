import { InvalidItemError, isVdirsyncerError, type VdirsyncerError } from "../errors.ts";
import type { FetchedItem, ItemFailure, ReadableCollection } from "../storage/contract.ts";
import { runPool } from "./pool.ts";

/** Items read from a collection, and the hrefs that could not be read. */
export interface FetchResult {
  items: FetchedItem[];
  failures: ItemFailure[];
}

function toError(err: unknown, href: string): VdirsyncerError {
  if (isVdirsyncerError(err)) return err;
  return new InvalidItemError(
    `Could not read item ${href}: ${err instanceof Error ? err.message : String(err)}`,
    {
      href,
      cause: err,
    },
  );
}

/**
 * Reads `hrefs` from a collection: one `getMany` when the storage has it, else `get` per href, a few at a time.
 *
 * Never throws for one item: a missing or unreadable href becomes a failure, so that one bad item does not hide
 * the others. When `getMany` itself fails, the hrefs it did not deliver are read one by one.
 */
export async function fetchItems(
  collection: ReadableCollection,
  hrefs: readonly string[],
  _name: string,
  concurrency = 16,
): Promise<FetchResult> {
  const result: FetchResult = { items: [], failures: [] };
  if (hrefs.length === 0) return result;
  const pending = new Set(hrefs);
  if (collection.getMany) {
    try {
      for await (const got of collection.getMany([...pending])) {
        if (!pending.delete(got.href)) continue;
        if ("error" in got) result.failures.push(got);
        else result.items.push(got);
      }
    } catch (err) {
      // Fall through: read what is left one by one, so the failing href is named precisely.
      if (pending.size === 0) throw err;
    }
    if (pending.size === 0) return result;
  }
  await runPool([...pending], concurrency, async (href) => {
    try {
      result.items.push(await collection.get(href));
    } catch (err) {
      result.failures.push({ href, error: toError(err, href) });
    }
  });
  return result;
}
