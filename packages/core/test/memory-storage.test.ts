import { describe, expect, it } from "vitest";
import {
  createMemoryStorage,
  DEFAULT_MEMORY_COLLECTION,
  defineMemoryStorage,
  Item,
  isVdirsyncerError,
  MemoryStore,
  memory,
  type WritableCollection,
} from "./all.ts";

const event = (uid: string | null, summary = "Fête") =>
  new Item(
    [
      "BEGIN:VCALENDAR",
      "BEGIN:VEVENT",
      `SUMMARY:${summary}`,
      ...(uid === null ? [] : [`UID:${uid}`]),
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isVdirsyncerError(err) ? err.code : `not ours: ${String(err)}`;
  }
  return "resolved";
}

describe("memory storage hrefs and etags", () => {
  it("names an item by its UID plus fileext, like vdirsyncer", async () => {
    const col = createMemoryStorage({ fileext: ".ics" }).open(null);
    expect((await col.upload(event("abc"))).href).toBe("abc.ics");
  });

  it("names a UID-less item by its content hash", async () => {
    const item = event(null);
    const col = createMemoryStorage().open(null);
    expect((await col.upload(item)).href).toBe(item.hash);
  });

  it('makes etags in vdirsyncer\'s "%.9f" random-float shape, new on every update', async () => {
    const col = createMemoryStorage().open(null);
    const { href, etag } = await col.upload(event("a"));
    expect(etag).toMatch(/^0\.\d{9}$|^1\.0{9}$/);
    const { etag: next } = await col.update(href, event("a", "other"), etag!);
    expect(next).toMatch(/^0\.\d{9}$|^1\.0{9}$/);
    expect(next).not.toBe(etag);
  });

  it("keeps the Item it was given and exposes it through collections", async () => {
    const storage = createMemoryStorage();
    const item = event("x");
    const { href } = await storage.open(null).upload(item);
    expect(storage.collections.get(DEFAULT_MEMORY_COLLECTION)?.items.get(href)?.item).toBe(item);
  });
});

describe("memory storage errors", () => {
  it("says NOT_FOUND for get, update and delete of a missing href, and WRONG_ETAG for a stale etag", async () => {
    const col = createMemoryStorage().open(null);
    expect(await codeOf(col.get("nope"))).toBe("NOT_FOUND");
    expect(await codeOf(col.update("nope", event("n"), "1"))).toBe("NOT_FOUND");
    expect(await codeOf(col.delete("nope", "1"))).toBe("NOT_FOUND");
    const { href } = await col.upload(event("n"));
    expect(await codeOf(col.update(href, event("n"), "stale"))).toBe("WRONG_ETAG");
    expect(await codeOf(col.delete(href, "stale"))).toBe("WRONG_ETAG");
    expect(await codeOf(col.upload(event("n")))).toBe("ALREADY_EXISTS");
  });

  it("getMany() checks every href before yielding any", async () => {
    const col = createMemoryStorage().open(null);
    const { href } = await col.upload(event("present"));
    const yielded: string[] = [];
    const run = async () => {
      for await (const r of col.getMany!([href, "missing"])) yielded.push(r.href);
    };
    expect(await codeOf(run())).toBe("NOT_FOUND");
    expect(yielded).toEqual([]);
  });

  it("a read-only variant refuses every write with READ_ONLY and stores nothing", async () => {
    const store = new MemoryStore();
    const col = createMemoryStorage({ store, capabilities: { readOnly: true } }).open(null);
    expect(await codeOf(col.upload(event("r")))).toBe("READ_ONLY");
    expect(await codeOf(col.update("r", event("r"), "1"))).toBe("READ_ONLY");
    expect(await codeOf(col.delete("r", "1"))).toBe("READ_ONLY");
    expect(await codeOf(col.setMeta!("color", "#fff"))).toBe("READ_ONLY");
    expect(await collect(col.list())).toEqual([]);
  });
});

describe("memory storage collections", () => {
  it("open() of a collection never created throws COLLECTION_NOT_FOUND", () => {
    const storage = createMemoryStorage();
    let code = "none";
    try {
      storage.open({ id: "ghost", config: {} });
    } catch (err) {
      code = isVdirsyncerError(err) ? err.code : "other";
    }
    expect(code).toBe("COLLECTION_NOT_FOUND");
  });

  it("createCollection() is idempotent, refuses an empty id, and null means the default collection", async () => {
    const storage = createMemoryStorage();
    const a = await storage.createCollection!("work");
    await storage.open(a).upload(event("w"));
    const again = await storage.createCollection!("work");
    expect(await collect(storage.open(again).list())).toHaveLength(1);
    expect(await codeOf(storage.createCollection!(""))).toBe("USER");
    expect(await storage.createCollection!(null)).toEqual({ id: "", href: "", config: {} });
  });

  it("discover() yields created collections but not the default one", async () => {
    const storage = createMemoryStorage();
    storage.open(null);
    await storage.createCollection!("b");
    await storage.createCollection!("a");
    expect((await collect(storage.discover!())).map((c) => c.id).sort()).toEqual(["a", "b"]);
  });

  it("two storages on one store see the same data; separate stores do not", async () => {
    const store = new MemoryStore();
    await createMemoryStorage({ store }).open(null).upload(event("shared"));
    expect(await collect(createMemoryStorage({ store }).open(null).list())).toHaveLength(1);
    expect(await collect(createMemoryStorage().open(null).list())).toHaveLength(0);
  });

  it("variants leave out the methods whose capability is off", () => {
    const storage = createMemoryStorage({
      capabilities: { batchGet: false, syncToken: false, ctag: false, metadata: [], discover: false },
    });
    const col = storage.open(null);
    expect([col.getMany, col.changes, col.collectionTag, col.getMeta, col.setMeta, storage.discover]).toEqual(
      [undefined, undefined, undefined, undefined, undefined, undefined],
    );
    expect(typeof storage.createCollection).toBe("function");
  });
});

describe("memory storage metadata", () => {
  it('strips values and reads "None" and undefined as absent, like normalize_meta_value', async () => {
    const col = createMemoryStorage().open(null);
    await col.setMeta!("displayname", "  Work  ");
    expect(await col.getMeta!("displayname")).toBe("Work");
    await col.setMeta!("displayname", "None");
    expect(await col.getMeta!("displayname")).toBeUndefined();
    await col.setMeta!("color", "");
    expect(await col.getMeta!("color")).toBe("");
  });

  it("refuses keys outside the declared metadata with UNSUPPORTED", async () => {
    const col = createMemoryStorage({ capabilities: { metadata: ["color"] } }).open(null);
    expect(await codeOf(col.getMeta!("displayname"))).toBe("UNSUPPORTED");
    expect(await codeOf(col.setMeta!("order", "1"))).toBe("UNSUPPORTED");
  });
});

describe("memory storage sync tokens and ctag", () => {
  it("reports an item created and deleted after the token as removed", async () => {
    const col = createMemoryStorage().open(null);
    const { token } = await col.changes!(undefined);
    const { href, etag } = await col.upload(event("brief"));
    await col.delete(href, etag!);
    expect(await col.changes!(token)).toMatchObject({ changed: [], removed: [href] });
  });

  it("refuses a token of another collection and a token from the future", async () => {
    const storage = createMemoryStorage();
    const one = storage.open(await storage.createCollection!("one"));
    const two = storage.open(await storage.createCollection!("two"));
    const { token } = await one.changes!(undefined);
    expect(await codeOf(two.changes!(token))).toBe("SYNC_TOKEN_EXPIRED");
    const future = token.replace(/\d+$/, "999");
    expect(await codeOf(one.changes!(future))).toBe("SYNC_TOKEN_EXPIRED");
    expect(await codeOf(one.changes!(`${token}x`))).toBe("SYNC_TOKEN_EXPIRED");
  });

  it("moves the token and the ctag forward on metadata writes too", async () => {
    const col = createMemoryStorage().open(null);
    const tag = await col.collectionTag!();
    await col.setMeta!("color", "#000000");
    expect(await col.collectionTag!()).not.toBe(tag);
  });
});

describe("memory storage definitions", () => {
  it("declares type memory with every capability on by default", () => {
    expect(memory.type).toBe("memory");
    expect(memory.apiVersion).toBe(2);
    expect(memory.capabilities).toMatchObject({
      batchGet: true,
      ctag: true,
      syncToken: true,
      readOnly: false,
    });
    expect(memory.capabilities.metadata).toEqual(["displayname", "color", "description", "order"]);
    expect(defineMemoryStorage({ readOnly: true }).capabilities.readOnly).toBe(true);
  });

  it("validates options: fileext defaults to empty, wrong types and unknown keys are named", async () => {
    const validate = memory.options["~standard"].validate;
    expect(await validate({})).toEqual({ value: { fileext: "" } });
    const bad = await validate({ fileext: 3, colour: "x" });
    expect(bad.issues?.map((i) => i.path)).toEqual([["fileext"], ["colour"]]);
  });

  it("create() builds a storage that honours fileext", async () => {
    const ctx = {
      instance: "t",
      log: console,
      stats: { add() {} },
      signal: new AbortController().signal,
    };
    const storage = await memory.create({ fileext: ".vcf" }, ctx);
    const opened = (await storage.open(null, { signal: ctx.signal, stats: ctx.stats })) as WritableCollection;
    expect((await opened.upload(event("c"))).href).toBe("c.vcf");
  });
});
