import {
  type CollectionStatus,
  createMemoryStatus,
  createMemoryStorage,
  Item,
  type MemoryStatus,
  type PartialSyncMode,
  type StatusRow,
  type SyncOptions,
  type SyncReport,
  syncCollection,
  type VdirsyncerError,
  type WritableCollection,
} from "./all.ts";

/** vdirsyncer's EVENT_TEMPLATE with `X-SOMETHING:{r}` and `UID:{uid}`. */
export function event(uid: string, r: string | number = 1): Item {
  return new Item(
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//hacksw/handcal//NONSGML v1.0//EN",
      "BEGIN:VEVENT",
      "DTSTART:19970714T170000Z",
      "DTEND:19970715T035959Z",
      "SUMMARY:Bastille Day Party",
      `X-SOMETHING:${r}`,
      ...(uid === "" ? [] : [`UID:${uid}`]),
      "END:VEVENT",
      "END:VCALENDAR",
    ].join("\n"),
  );
}

/** Counts calls per method of a collection, passing them through. */
export interface Counted<C> {
  collection: C;
  calls: Record<string, number>;
  args: Record<string, unknown[][]>;
}

export function counted<C extends object>(collection: C): Counted<C> {
  const calls: Record<string, number> = {};
  const args: Record<string, unknown[][]> = {};
  const proxy = new Proxy(collection, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...a: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        args[prop] = [...(args[prop] ?? []), a];
        return value.apply(target, a);
      };
    },
  });
  return { collection: proxy, calls, args };
}

/** A fresh memory collection; `caps` turns memory features off (e.g. `{ syncToken: false }`). */
export function memoryCollection(
  fileext = "",
  caps: Parameters<typeof createMemoryStorage>[0] = {},
): WritableCollection {
  return createMemoryStorage({ fileext, ...caps }).open(null) as WritableCollection;
}

/** Lists a collection into a map href → raw. */
export async function contents(c: WritableCollection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const ref of c.list()) out.set(ref.href, (await c.get(ref.href)).item.raw);
  return out;
}

/** The raw texts of a collection, sorted. */
export async function raws(c: WritableCollection): Promise<string[]> {
  return [...(await contents(c)).values()].sort();
}

export interface RunOptions extends Partial<Omit<SyncOptions, "a" | "b" | "status">> {
  readOnlyA?: boolean;
  readOnlyB?: boolean;
  noDeleteA?: boolean;
  noDeleteB?: boolean;
  partialSync?: PartialSyncMode;
  /** Collect item errors instead of throwing on the first (vdirsyncer's CLI error callback). */
  collect?: boolean;
}

/** Runs one sync of two collections with vdirsyncer's defaults; item errors are collected. */
export async function sync(
  a: WritableCollection,
  b: WritableCollection,
  status: CollectionStatus,
  options: RunOptions = {},
): Promise<SyncReport & { reported: VdirsyncerError[] }> {
  const reported: VdirsyncerError[] = [];
  const { readOnlyA, readOnlyB, noDeleteA, noDeleteB, collect, ...rest } = options;
  const report = await syncCollection({
    a: { name: "a", collection: a, readOnly: readOnlyA, noDelete: noDeleteA },
    b: { name: "b", collection: b, readOnly: readOnlyB, noDelete: noDeleteB },
    status,
    onError: collect === false ? undefined : (e) => reported.push(e),
    ...rest,
  });
  return { ...report, reported };
}

/** A status row the way vdirsyncer's tests write them. */
export function row(ident: string, a: [string, string, string], b: [string, string, string]): StatusRow {
  return { ident, a: { href: a[0], etag: a[1], hash: a[2] }, b: { href: b[0], etag: b[1], hash: b[2] } };
}

export function statusOf(status: MemoryStatus): Record<string, StatusRow> {
  return Object.fromEntries([...status.data.entries()].sort(([x], [y]) => (x < y ? -1 : 1)));
}

export { createMemoryStatus };

/** A memory collection together with its raw data, for tests that plant etags or edit items behind its back. */
export function memorySide(fileext = "", caps: Parameters<typeof createMemoryStorage>[0] = {}) {
  const storage = createMemoryStorage({ fileext, ...caps });
  const collection = storage.open(null) as WritableCollection;
  const data = storage.collections.get("");
  if (!data) throw new Error("memory storage has no default collection");
  return { storage, collection, data };
}
