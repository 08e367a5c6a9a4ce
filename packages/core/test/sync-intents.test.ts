// A run killed between a write and its status row: the intent journal lets the next run recognise the write.
import { describe, expect, it } from "vitest";
import { createMemoryStatus, Item, type MemoryStatus, type WritableCollection } from "./all.ts";
import { event, memorySide, sync } from "./sync-helpers.ts";

const PLAIN = { capabilities: { ctag: false, syncToken: false } };
const plain = () => memorySide("", PLAIN);

/** What a server like Radicale does: stores a changed copy (here: one extra property). */
function rewrite(item: Item): Item {
  return new Item(item.raw.replace("END:VEVENT", "X-SERVER-ADDED:1\nEND:VEVENT"));
}

async function listAll(c: WritableCollection) {
  const refs = [];
  for await (const ref of c.list()) refs.push(ref);
  return refs;
}

const never = () => new Promise<never>(() => {});

/**
 * A destination that stores every write (rewritten) and then never answers after the first `answered` writes: the
 * process is "killed" while the write is on the server but before the engine heard of it.
 */
function killedAfterWrite(target: WritableCollection, answered: number): WritableCollection {
  let writes = 0;
  const dest: WritableCollection = Object.create(target);
  dest.upload = async (item) => {
    const written = await target.upload(rewrite(item));
    return ++writes <= answered ? written : never();
  };
  dest.update = async (href, item, etag) => {
    const written = await target.update(href, rewrite(item), etag);
    return ++writes <= answered ? written : never();
  };
  return dest;
}

/** Starts a sync and abandons it once it stalls: what a SIGKILL leaves of the status. */
async function syncAndKill(
  a: WritableCollection,
  b: WritableCollection,
  status: MemoryStatus,
): Promise<void> {
  void sync(a, b, status, { concurrency: 1 });
  await new Promise((r) => setTimeout(r, 20));
}

describe("sync: writes of a killed run", () => {
  it("recognises an upload the server rewrote before the kill: no conflict, nothing sent again", async () => {
    const a = plain();
    const b = plain();
    for (let i = 0; i < 3; i++) await a.collection.upload(event(`u${i}`, i));
    const status = createMemoryStatus();
    await syncAndKill(a.collection, killedAfterWrite(b.collection, 2), status);
    expect(b.data.items.size).toBe(3);
    expect(status.pending.map((i) => i.ident)).toContain("u2");

    const next = await sync(a.collection, b.collection, status);
    expect(next.reported).toEqual([]);
    expect(next.plan.actions).toEqual([]);
    expect(status.data.size).toBe(3);
    expect(status.pending).toEqual([]);
    const again = await sync(a.collection, b.collection, status);
    expect(again.plan.actions).toEqual([]);
  });

  it("without the intents the same state is a conflict that needs a person (what the journal prevents)", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("x", 1));
    await b.collection.upload(rewrite(event("x", 1)));
    const report = await sync(a.collection, b.collection, createMemoryStatus());
    expect(report.plan.actions).toMatchObject([{ kind: "conflict", ident: "x", sameContent: false }]);
  });

  it("recognises an update the server rewrote before the kill", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("u", 1));
    const status = createMemoryStatus();
    await sync(a.collection, b.collection, status);
    const [ref] = await listAll(a.collection);
    await a.collection.update(ref!.href, event("u", 2), ref!.etag);
    await syncAndKill(a.collection, killedAfterWrite(b.collection, 0), status);
    expect([...b.data.items.values()][0]?.item.raw).toContain("X-SOMETHING:2");

    const next = await sync(a.collection, b.collection, status);
    expect(next.reported).toEqual([]);
    expect(next.plan.actions).toEqual([]);
  });

  it("still sends a write whose intent was recorded but that never reached the server", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("lost", 1));
    const status = createMemoryStatus();
    const stalled: WritableCollection = Object.create(b.collection);
    stalled.upload = never;
    await syncAndKill(a.collection, stalled, status);
    expect(status.pending).toHaveLength(1);
    expect(b.data.items.size).toBe(0);

    const next = await sync(a.collection, b.collection, status);
    expect(next.plan.actions).toMatchObject([{ kind: "upload", side: "b", ident: "lost" }]);
    expect(b.data.items.size).toBe(1);
    expect(status.pending).toEqual([]);
  });

  it("a change made to the source after the kill still reaches the other side", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("e", 1));
    const status = createMemoryStatus();
    await syncAndKill(a.collection, killedAfterWrite(b.collection, 0), status);
    const [ref] = await listAll(a.collection);
    await a.collection.update(ref!.href, event("e", 9), ref!.etag);

    const next = await sync(a.collection, b.collection, status);
    expect(next.plan.actions).toMatchObject([{ kind: "update", side: "b", ident: "e" }]);
    expect([...b.data.items.values()][0]?.item.raw).toContain("X-SOMETHING:9");
  });

  it("writes nothing when the intents cannot be recorded", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("i", 1));
    const status = createMemoryStatus();
    status.intend = () => {
      throw new Error("database is locked");
    };
    await expect(sync(a.collection, b.collection, status)).rejects.toThrow(/locked/);
    expect(b.data.items.size).toBe(0);
  });

  it("records each batch's intents before its first write and drops them after its last", async () => {
    const a = plain();
    const b = plain();
    for (let i = 0; i < 5; i++) await a.collection.upload(event(`b${i}`, i));
    const status = createMemoryStatus();
    const seen: number[] = [];
    const watching: WritableCollection = Object.create(b.collection);
    watching.upload = async (item) => {
      seen.push(status.pending.length);
      return b.collection.upload(item);
    };
    await sync(a.collection, watching, status);
    expect(seen).toEqual([5, 5, 5, 5, 5]);
    expect(status.pending).toEqual([]);
  });
});
