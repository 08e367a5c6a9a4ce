import { describe, expect, it } from "vitest";
import {
  type CollectionRef,
  createStorage,
  defineMemoryStorage,
  defineStorage,
  type HostedCollection,
  hostStorage,
  Item,
  isVdirsyncerError,
  MemoryStorage,
  NotFoundError,
  type PluginError,
  type StatCounter,
  type Storage,
  VdirsyncerError,
  type WritableCollection,
} from "./all.ts";

const event = (uid: string) =>
  new Item(`BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);

const tick = () => new Promise((r) => setTimeout(r, 2));

/** A memory storage whose uploads take a moment and count how many run at once. */
function slowStorage(): { storage: MemoryStorage & Partial<Storage>; peak: () => number } {
  const storage = new MemoryStorage({ fileext: ".ics" }) as MemoryStorage & { concurrency?: number };
  let running = 0;
  let peak = 0;
  const open = storage.open.bind(storage);
  storage.open = (ref: CollectionRef | null) => {
    const col = open(ref);
    const upload = col.upload.bind(col);
    col.upload = async (item) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      return upload(item);
    };
    return col;
  };
  return { storage, peak: () => peak };
}

async function uploadMany(cols: HostedCollection[], n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) => (cols[i % cols.length] as WritableCollection).upload(event(`u${i}`))),
  );
}

describe("hostStorage: concurrency", () => {
  it("gives a storage that declares nothing one call at a time, over all its collections", async () => {
    const { storage, peak } = slowStorage();
    const hosted = hostStorage(defineMemoryStorage({ concurrency: undefined }), storage, { instance: "s" });
    await storage.createCollection?.("one");
    await storage.createCollection?.("two");
    const one = await hosted.open({ id: "one", config: {} });
    const two = await hosted.open({ id: "two", config: {} });
    await uploadMany([one, two], 20);
    expect(peak()).toBe(1);
  });

  it("runs up to the declared number at once", async () => {
    const { storage, peak } = slowStorage();
    const hosted = hostStorage(defineMemoryStorage({ concurrency: 3 }), storage, { instance: "s" });
    await uploadMany([await hosted.open(null)], 20);
    expect(peak()).toBe(3);
  });

  it("follows a storage that lowers its limit at run time, never above the declared one", async () => {
    const { storage, peak } = slowStorage();
    const hosted = hostStorage(defineMemoryStorage({ concurrency: 3 }), storage, { instance: "s" });
    (storage as { concurrency?: number }).concurrency = 2;
    await uploadMany([await hosted.open(null)], 20);
    expect(peak()).toBe(2);
    const raised = slowStorage();
    (raised.storage as { concurrency?: number }).concurrency = 50;
    const capped = hostStorage(defineMemoryStorage({ concurrency: 3 }), raised.storage, { instance: "s" });
    await uploadMany([await capped.open(null)], 20);
    expect(raised.peak()).toBe(3);
  });

  it("holds one slot for a whole iteration, and gives it back when the consumer stops early", async () => {
    const storage = new MemoryStorage({ fileext: ".ics" });
    const hosted = hostStorage(defineMemoryStorage({ concurrency: undefined }), storage, { instance: "s" });
    const col = (await hosted.open(null)) as WritableCollection;
    for (let i = 0; i < 3; i++) await col.upload(event(`i${i}`));
    const order: string[] = [];
    const listing = (async () => {
      for await (const ref of col.list()) {
        order.push(`list ${ref.href}`);
        await tick();
      }
    })();
    await tick();
    const upload = col.upload(event("late")).then(() => order.push("upload"));
    await Promise.all([listing, upload]);
    expect(order.at(-1)).toBe("upload");
    for await (const _ of col.list()) break;
    await col.upload(event("after-break"));
  });

  it("makes a waiting call throw StoppedError when the collection's signal aborts", async () => {
    const { storage } = slowStorage();
    const hosted = hostStorage(defineMemoryStorage({ concurrency: undefined }), storage, { instance: "s" });
    const controller = new AbortController();
    const col = (await hosted.open(null, { signal: controller.signal })) as WritableCollection;
    const first = col.upload(event("first"));
    const second = col.upload(event("second")).catch((e) => e);
    controller.abort();
    await first;
    expect(await second).toMatchObject({ code: "STOPPED" });
  });
});

describe("hostStorage: errors name their source", () => {
  const broken = defineStorage({
    type: "broken",
    summary: "Fails on purpose.",
    itemKinds: ["calendar"],
    capabilities: {
      readOnly: false,
      discover: false,
      createCollection: false,
      metadata: [],
      ctag: false,
      syncToken: false,
      batchGet: false,
      watch: false,
    },
    options: { "~standard": { version: 1, vendor: "test", validate: (v: unknown) => ({ value: v }) } },
    create: () => ({
      open: () => ({
        list: async function* () {},
        get: async (href: string) => {
          throw new NotFoundError(href);
        },
        upload: async () => {
          const x = undefined as unknown as { y: number };
          return { href: String(x.y), etag: "" };
        },
        update: async () => {
          throw Object.assign(new Error("no space left on device, write"), { code: "ENOSPC" });
        },
        delete: async () => {
          throw new TypeError("fetch failed", {
            cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
          });
        },
      }),
    }),
  });
  const source = {
    package: "vdirsyncer-storage-broken",
    version: "1.2.3",
    bugs: "https://example.org/broken/issues",
  };

  it("turns a TypeError in upload() into a PluginError naming type, package, version and bugs URL", async () => {
    const hosted = await createStorage(broken, {}, { instance: "cal", log: console, source });
    const col = (await hosted.open(null)) as WritableCollection;
    const err = (await col.upload(event("x")).catch((e) => e)) as PluginError;
    expect(isVdirsyncerError(err, "PLUGIN")).toBe(true);
    expect(isVdirsyncerError(err, "USER")).toBe(false);
    expect(err.message).toContain("broken storage (vdirsyncer-storage-broken 1.2.3)");
    expect(err.message).toContain("upload()");
    expect(err.message).toContain("TypeError");
    expect(err.hint).toContain("bug in vdirsyncer-storage-broken");
    expect(err.hint).toContain("https://example.org/broken/issues");
    expect(err.hint).not.toMatch(/config file/i);
    expect(err.context.storage).toBe("cal");
  });

  it("turns ENOSPC and a refused connection into EnvironmentError, not a bug", async () => {
    const hosted = await createStorage(broken, {}, { instance: "cal", log: console, source });
    const col = (await hosted.open(null)) as WritableCollection;
    const full = await col.update("h", event("x"), "e").catch((e) => e);
    expect(isVdirsyncerError(full, "ENVIRONMENT")).toBe(true);
    expect(full.systemCode).toBe("ENOSPC");
    expect(full.hint).toMatch(/disk is full/);
    const refused = await col.delete("h", "e").catch((e) => e);
    expect(isVdirsyncerError(refused, "ENVIRONMENT")).toBe(true);
    expect(refused.systemCode).toBe("ECONNREFUSED");
  });

  it("lets the contract's own errors through with the storage and operation added", async () => {
    const hosted = await createStorage(broken, {}, { instance: "cal", log: console, source });
    const col = await hosted.open(null);
    const err = await col.get("missing.ics").catch((e) => e);
    expect(isVdirsyncerError(err, "NOT_FOUND")).toBe(true);
    expect(err.context).toMatchObject({ storage: "cal", operation: "get", href: "missing.ics" });
  });

  it("names the plugin when create() itself throws", async () => {
    const throwing = { ...broken, create: () => JSON.parse("{") } as unknown as typeof broken;
    const err = await createStorage(throwing, {}, { instance: "cal", log: console, source }).catch((e) => e);
    expect(isVdirsyncerError(err, "PLUGIN")).toBe(true);
    expect(err.message).toContain("create()");
  });

  it("keeps a plugin's own namespaced code", () => {
    const err = new VdirsyncerError("vdirsyncer-storage-broken/QUOTA", "Over quota.");
    expect(isVdirsyncerError(err, "vdirsyncer-storage-broken/QUOTA")).toBe(true);
    expect(isVdirsyncerError(new Error("plain"))).toBe(false);
  });
});

describe("hostStorage: stats and close", () => {
  it("counts items read, written and deleted per collection", async () => {
    const counts: Partial<Record<StatCounter, number>> = {};
    const stats = {
      add: (c: StatCounter, n = 1) => {
        counts[c] = (counts[c] ?? 0) + n;
      },
    };
    const hosted = hostStorage(defineMemoryStorage(), new MemoryStorage(), { instance: "s" });
    const col = (await hosted.open(null, { stats })) as WritableCollection;
    const a = await col.upload(event("a"));
    const b = await col.upload(event("b"));
    await col.get(a.href);
    for await (const _ of col.getMany?.([a.href, b.href]) ?? []) void _;
    await col.delete(b.href, b.etag as string);
    expect(counts).toEqual({ itemsWritten: 2, itemsRead: 3, itemsDeleted: 1 });
  });

  it("closes the plugin's storage once however often close() is called", async () => {
    let closed = 0;
    const storage = Object.assign(new MemoryStorage(), { close: async () => void closed++ });
    const hosted = hostStorage(defineMemoryStorage(), storage, { instance: "s" });
    await Promise.all([hosted.close(), hosted.close()]);
    await hosted.close();
    expect(closed).toBe(1);
  });

  it("has discover() yield nothing and createCollection() throw UnsupportedError when the storage cannot", async () => {
    const definition = defineMemoryStorage({ discover: false, createCollection: false });
    const hosted = hostStorage(definition, new MemoryStorage({ capabilities: definition.capabilities }), {
      instance: "s",
    });
    const found = [];
    for await (const c of hosted.discover()) found.push(c);
    expect(found).toEqual([]);
    await expect(hosted.createCollection("x")).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});
