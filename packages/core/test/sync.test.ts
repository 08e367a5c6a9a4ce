// Ports of vdirsyncer's tests/unit/sync/test_sync.py (spec/tests-to-port.md), on memory storages.
import { describe, expect, it } from "vitest";
import {
  createMemoryStatus,
  createMemoryTrash,
  defineMemoryStorage,
  hashItem,
  hostStorage,
  Item,
  isVdirsyncerError,
  type MemoryStatus,
  type WritableCollection,
  WrongEtagError,
} from "./all.ts";
import { counted, event, memorySide, raws, row, statusOf, sync } from "./sync-helpers.ts";

/** vdirsyncer's memory storage: no ctag, no sync token, so tests may edit data behind its back. */
const PLAIN = { capabilities: { ctag: false, syncToken: false } };
const plain = (fileext = "") => memorySide(fileext, PLAIN);

function rowsOf(status: MemoryStatus) {
  return [...status.data.values()];
}

describe("sync: status handling", () => {
  it("drops a status for items absent on both sides and creates nothing (test_irrelevant_status)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus([row("1", ["1.a", "x", "h"], ["1.b", "y", "h"])]);
    await sync(a.collection, b.collection, status, { forceDelete: true });
    expect(status.data.size).toBe(0);
    expect(a.data.items.size + b.data.items.size).toBe(0);
  });

  it("records one row and writes nothing for the same item on both sides (test_missing_status)", async () => {
    const a = plain();
    const b = plain();
    const item = event("1");
    await a.collection.upload(item);
    await b.collection.upload(item);
    const cb = counted(b.collection);
    const ca = counted(a.collection);
    await sync(ca.collection, cb.collection, createMemoryStatus());
    const status = createMemoryStatus();
    const report = await sync(a.collection, b.collection, status);
    expect(report.errors).toEqual([]);
    expect(status.data.size).toBe(1);
    expect(ca.calls.upload ?? 0).toBe(0);
    expect(cb.calls.update ?? 0).toBe(0);
  });

  it("reports a conflict for different items with one UID and no status, then 'a wins' (test_missing_status_and_different_items)", async () => {
    const a = plain();
    const b = plain();
    const itemA = event("1", "a");
    const itemB = event("1", "b");
    await a.collection.upload(itemA);
    await b.collection.upload(itemB);
    const status = createMemoryStatus();
    const first = await sync(a.collection, b.collection, status);
    expect(first.reported.map((e) => e.code)).toEqual(["SYNC_CONFLICT"]);
    expect(status.data.size).toBe(0);
    await sync(a.collection, b.collection, status, { conflictResolution: { kind: "a wins" } });
    expect(await raws(a.collection)).toEqual([itemA.raw]);
    expect(await raws(b.collection)).toEqual([itemA.raw]);
  });

  it("gives a status without hashes its hashes back (test_insert_hash)", async () => {
    const a = plain();
    const b = plain();
    const { href } = await a.collection.upload(event("1"));
    const status = createMemoryStatus();
    await sync(a.collection, b.collection, status);
    const r = status.data.get("1")!;
    r.a.hash = "UNDEFINED";
    r.b.hash = "UNDEFINED";
    const changed = event("1", "new");
    a.data.items.set(href, { etag: "newetag", item: changed });
    await sync(a.collection, b.collection, status);
    expect(status.data.get("1")!.a.hash).toBe(changed.hash);
    expect(status.data.get("1")!.b.hash).toBe(changed.hash);
  });

  it("writes nothing when the status matches both sides (test_already_synced)", async () => {
    const a = plain();
    const b = plain();
    const item = event("1");
    const wa = await a.collection.upload(item);
    const wb = await b.collection.upload(item);
    const status = createMemoryStatus([
      row("1", [wa.href, wa.etag!, item.hash], [wb.href, wb.etag!, item.hash]),
    ]);
    const before = statusOf(status);
    const ca = counted(a.collection);
    const cb = counted(b.collection);
    await sync(ca.collection, cb.collection, status);
    for (const c of [ca, cb]) {
      expect(c.calls.upload ?? 0).toBe(0);
      expect(c.calls.update ?? 0).toBe(0);
      expect(c.calls.delete ?? 0).toBe(0);
      expect(c.calls.getMany ?? 0).toBe(0);
    }
    expect(statusOf(status)).toEqual(before);
  });

  it("takes the real etags for bogus status etags when the content is the same (test_conflict_resolution_new_etags_without_changes)", async () => {
    const a = plain();
    const b = plain();
    const item = event("1");
    const wa = await a.collection.upload(item);
    const wb = await b.collection.upload(item);
    const status = createMemoryStatus([
      row("1", [wa.href, "BOGUS", item.hash], [wb.href, "BOGUS", item.hash]),
    ]);
    const report = await sync(a.collection, b.collection, status);
    expect(report.errors).toEqual([]);
    expect(report.plan.actions).toEqual([]);
    expect(status.data.get("1")!.a.etag).toBe(wa.etag);
    expect(status.data.get("1")!.b.etag).toBe(wb.etag);
  });
});

describe("sync: propagation", () => {
  it("propagates creates and updates both ways (test_upload_and_update)", async () => {
    const a = plain(".a");
    const b = plain(".b");
    const status = createMemoryStatus();
    const item = event("1");
    const wa = await a.collection.upload(item);
    await sync(a.collection, b.collection, status);
    expect([...b.data.items.keys()]).toEqual(["1.b"]);
    expect(b.data.items.get("1.b")!.item.raw).toBe(item.raw);

    const updated = event("1", "updated");
    await a.collection.update(wa.href, updated, a.data.items.get(wa.href)!.etag);
    await sync(a.collection, b.collection, status);
    expect(b.data.items.get("1.b")!.item.raw).toBe(updated.raw);

    const item2 = event("2");
    const wb2 = await b.collection.upload(item2);
    await sync(a.collection, b.collection, status);
    expect(a.data.items.get("2.a")!.item.raw).toBe(item2.raw);

    const updated2 = event("2", "updated");
    await b.collection.update(wb2.href, updated2, b.data.items.get(wb2.href)!.etag);
    await sync(a.collection, b.collection, status);
    expect(a.data.items.get("2.a")!.item.raw).toBe(updated2.raw);
  });

  it("propagates deletions both ways and allows re-adding (test_deletion)", async () => {
    const a = plain(".a");
    const b = plain(".b");
    const status = createMemoryStatus();
    const item = event("1");
    const item2 = event("2");
    const w1 = await a.collection.upload(item);
    await a.collection.upload(item2);
    await sync(a.collection, b.collection, status);
    await b.collection.delete("1.b", b.data.items.get("1.b")!.etag);
    await sync(a.collection, b.collection, status);
    expect(a.data.items.has(w1.href)).toBe(false);
    expect(status.data.has("1")).toBe(false);

    await a.collection.upload(item);
    await sync(a.collection, b.collection, status);
    expect(b.data.items.has("1.b")).toBe(true);
    await a.collection.delete("1.a", a.data.items.get("1.a")!.etag);
    await sync(a.collection, b.collection, status);
    expect(b.data.items.has("1.b")).toBe(false);
    expect([...status.data.keys()]).toEqual(["2"]);
  });

  it("uploads an item deleted on b but updated on a again (test_updated_and_deleted)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    await b.collection.delete("1", b.data.items.get("1")!.etag);
    const updated = event("1", "updated");
    await a.collection.update(w.href, updated, a.data.items.get(w.href)!.etag);
    await sync(a.collection, b.collection, status, { forceDelete: true });
    expect(await raws(b.collection)).toEqual([updated.raw]);
  });

  it("fetches a new item with one getMany and never get (test_uses_get_multi)", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("1"));
    const ca = counted(a.collection);
    await sync(ca.collection, b.collection, createMemoryStatus());
    expect(ca.calls.getMany).toBe(1);
    expect(ca.args.getMany![0]).toEqual([["1"]]);
    expect(ca.calls.get ?? 0).toBe(0);
  });

  it("copies UID-less items across, identified by their hash (test_no_uids)", async () => {
    const a = plain();
    const b = plain();
    const itemA = event("", "a");
    const itemB = event("", "b");
    await a.collection.upload(itemA);
    await b.collection.upload(itemB);
    const status = createMemoryStatus();
    const report = await sync(a.collection, b.collection, status);
    expect(report.errors).toEqual([]);
    expect(await raws(a.collection)).toEqual([itemA.raw, itemB.raw].sort());
    expect(await raws(b.collection)).toEqual([itemA.raw, itemB.raw].sort());
    expect([...status.data.keys()].sort()).toEqual([itemA.hash, itemB.hash].sort());
  });

  it("syncs an item whose UID changed on a (test_changed_uids)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("A1"));
    await sync(a.collection, b.collection, status);
    await a.collection.update(w.href, event("A2"), a.data.items.get(w.href)!.etag);
    const report = await sync(a.collection, b.collection, status);
    expect(report.errors).toEqual([]);
    expect(await raws(b.collection)).toEqual([event("A2").raw]);
    expect([...status.data.keys()]).toEqual(["A2"]);
  });

  it("syncs a unicode UID (test_unicode_hrefs)", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("äää"));
    const report = await sync(a.collection, b.collection, createMemoryStatus());
    expect(report.errors).toEqual([]);
    expect(await raws(b.collection)).toEqual([event("äää").raw]);
  });

  it("absorbs a renamed href without transfers, and prefetches nothing next time (test_moved_href)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("haha"));
    await sync(a.collection, b.collection, status);
    const entry = b.data.items.get("haha")!;
    b.data.items.delete("haha");
    b.data.items.set("lol", entry);
    const ca = counted(a.collection);
    const cb = counted(b.collection);
    const report = await sync(ca.collection, cb.collection, status);
    expect(report.plan.actions).toEqual([]);
    expect(ca.calls.getMany ?? 0).toBe(0);
    for (const c of [ca, cb])
      expect((c.calls.upload ?? 0) + (c.calls.update ?? 0) + (c.calls.delete ?? 0)).toBe(0);
    expect(status.data.get("haha")!.b.href).toBe("lol");
    const again = await sync(ca.collection, cb.collection, status);
    expect(again.listing.a.fetched + again.listing.b.fetched).toBe(0);
  });

  it("lets b's content win when both etags changed but only b's content did, without writing b (test_bogus_etag_change)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const item = event("ASDASD");
    await a.collection.upload(item);
    await sync(a.collection, b.collection, status);
    a.data.items.set("ASDASD", { etag: "A2", item });
    const changed = event("ASDASD", "b-changed");
    b.data.items.set("ASDASD", { etag: "B2", item: changed });
    const cb = counted(b.collection);
    const report = await sync(a.collection, cb.collection, status);
    expect(report.errors).toEqual([]);
    expect((cb.calls.upload ?? 0) + (cb.calls.update ?? 0)).toBe(0);
    expect(await raws(a.collection)).toEqual([changed.raw]);
  });
});

describe("sync: conflicts", () => {
  async function bothModified() {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    const ia = event("1", "A");
    const ib = event("1", "B");
    await a.collection.update(w.href, ia, a.data.items.get(w.href)!.etag);
    await b.collection.update("1", ib, b.data.items.get("1")!.etag);
    return { a, b, status, ia, ib };
  }

  it("reports a conflict when both sides changed and keeps the old status row (test_conflict_resolution_both_etags_new)", async () => {
    const { a, b, status } = await bothModified();
    const before = statusOf(status);
    const report = await sync(a.collection, b.collection, status);
    expect(report.reported).toHaveLength(1);
    const error = report.reported[0]!;
    expect(isVdirsyncerError(error, "SYNC_CONFLICT")).toBe(true);
    expect(error.message).toContain("One item changed on both sides.");
    expect(statusOf(status)).toEqual(before);
  });

  it.each([
    ["a wins", "ia"],
    ["b wins", "ib"],
  ] as const)("resolves a conflict with %s", async (mode, winner) => {
    const ctx = await bothModified();
    const report = await sync(ctx.a.collection, ctx.b.collection, ctx.status, {
      conflictResolution: { kind: mode },
    });
    expect(report.errors).toEqual([]);
    expect(await raws(ctx.a.collection)).toEqual([ctx[winner].raw]);
    expect(await raws(ctx.b.collection)).toEqual([ctx[winner].raw]);
    const r = ctx.status.data.get("1")!;
    expect(r.a.hash).toBe(ctx[winner].hash);
    expect(r.b.hash).toBe(ctx[winner].hash);
  });

  it("rejects an invalid conflict resolution (test_conflict_resolution_invalid_mode)", async () => {
    const { a, b, status } = await bothModified();
    for (const wrong of ["yolo", "a wins", ["command", "cp"], { kind: "command", argv: [] }]) {
      await expect(
        sync(a.collection, b.collection, status, { conflictResolution: wrong as never }),
      ).rejects.toMatchObject({
        code: "USER",
        message: expect.stringMatching(/^Invalid conflict resolution: /),
      });
    }
  });

  it("resolves with the command cp like a wins", async () => {
    const ctx = await bothModified();
    const report = await sync(ctx.a.collection, ctx.b.collection, ctx.status, {
      conflictResolution: { kind: "command", argv: ["cp"] },
    });
    expect(report.errors).toEqual([]);
    expect(await raws(ctx.b.collection)).toEqual([ctx.ia.raw]);
  });

  it("reports a command that leaves two different files", async () => {
    const ctx = await bothModified();
    const report = await sync(ctx.a.collection, ctx.b.collection, ctx.status, {
      conflictResolution: { kind: "command", argv: ["true"] },
    });
    expect(report.reported.map((e) => e.message)).toEqual(["The two files are not completely equal."]);
    expect(await raws(ctx.b.collection)).toEqual([ctx.ib.raw]);
  });
});

describe("sync: safety", () => {
  it("refuses to sync when one side was emptied, in both directions (test_empty_storage_dataloss)", async () => {
    for (const emptied of ["a", "b"] as const) {
      const a = plain();
      const b = plain();
      const status = createMemoryStatus();
      await a.collection.upload(event("1"));
      await a.collection.upload(event("2"));
      await sync(a.collection, b.collection, status);
      const side = emptied === "a" ? a : b;
      side.data.items.clear();
      await expect(sync(a.collection, b.collection, status)).rejects.toMatchObject({
        code: "STORAGE_EMPTY",
        message: `Storage "${emptied}" was completely emptied.`,
      });
      expect(status.data.size).toBe(2);
      const other = emptied === "a" ? b : a;
      expect(other.data.items.size).toBe(2);
    }
  });

  it("deletes everything on the other side with forceDelete", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    a.data.items.clear();
    await sync(a.collection, b.collection, status, { forceDelete: true });
    expect(b.data.items.size).toBe(0);
    expect(status.data.size).toBe(0);
  });

  it("throws BothReadOnlyError when both sides are read-only (test_both_readonly)", async () => {
    const a = plain();
    const b = plain();
    await expect(
      sync(a.collection, b.collection, createMemoryStatus(), { readOnlyA: true, readOnlyB: true }),
    ).rejects.toMatchObject({ code: "BOTH_READ_ONLY" });
  });

  it("throws IdentConflictError when two items on a share a UID (test_ident_conflict)", async () => {
    for (const syncInBetween of [false, true]) {
      const a = plain();
      const b = plain();
      const status = createMemoryStatus();
      const w1 = await a.collection.upload(event("1"));
      const w2 = await a.collection.upload(event("2"));
      if (syncInBetween) await sync(a.collection, b.collection, status);
      await a.collection.update(w1.href, event("xxx"), a.data.items.get(w1.href)!.etag);
      await a.collection.update(w2.href, event("xxx", 2), a.data.items.get(w2.href)!.etag);
      const before = statusOf(status);
      const error = await sync(a.collection, b.collection, status).catch((e) => e);
      expect(error.code).toBe("IDENT_CONFLICT");
      expect(error.hrefs.slice().sort()).toEqual(["1", "2"]);
      expect(error.message).toContain("vdirsyncer repair a");
      expect(statusOf(status)).toEqual(before);
    }
  });

  it("fails cleanly when a storage lists the same href more than once (test_duplicate_hrefs)", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("1"));
    const dup: WritableCollection = Object.create(a.collection);
    dup.list = async function* () {
      for (let i = 0; i < 3; i++) yield { href: "1", etag: a.data.items.get("1")!.etag };
    };
    const status = createMemoryStatus();
    await expect(sync(dup, b.collection, status)).rejects.toMatchObject({ code: "DUPLICATE_HREF" });
    expect(b.data.items.size).toBe(0);
  });

  it("reports failing writes once each and keeps only consistent rows (test_rollback)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    await a.collection.upload(event("2"));
    const failing: WritableCollection = Object.create(b.collection);
    failing.upload = async () => {
      throw new Error("nope");
    };
    const report = await sync(a.collection, failing, status);
    expect(report.reported).toHaveLength(1);
    expect(report.reported[0]!.context.operation).toBe("upload");
    expect([...status.data.keys()]).toEqual(["1"]);
    // Without an error callback the first error propagates.
    await expect(sync(a.collection, failing, status, { collect: false })).rejects.toThrow("nope");
  });

  it("keeps writes that succeeded before a failure in the status at once (a killed run resumes cleanly)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    for (let i = 0; i < 6; i++) await a.collection.upload(event(`u${i}`));
    let uploads = 0;
    const flaky: WritableCollection = Object.create(b.collection);
    flaky.upload = async (item) => {
      if (++uploads === 4) throw new Error("connection lost");
      return b.collection.upload(item);
    };
    await expect(sync(a.collection, flaky, status, { collect: false, concurrency: 1 })).rejects.toThrow(
      "connection lost",
    );
    expect(status.data.size).toBe(3);
    const cb = counted(b.collection);
    const report = await sync(a.collection, cb.collection, status);
    expect(report.errors).toEqual([]);
    expect(cb.calls.upload).toBe(3);
    expect(b.data.items.size).toBe(6);
  });

  it("never deletes the other side's copy of an item it cannot read, and syncs the rest", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("good"));
    await a.collection.upload(event("bad"));
    await sync(a.collection, b.collection, status);
    // "bad" now changes into something that is not an item; "new" appears.
    a.data.items.set("bad", { etag: "E2", item: new Item("\u0000\u0001garbage") });
    await a.collection.upload(event("new"));
    const report = await sync(a.collection, b.collection, status);
    expect(report.reported).toHaveLength(1);
    expect(report.reported[0]!.code).toBe("ITEM_INVALID");
    expect(report.reported[0]!.message).toContain("bad");
    expect(report.reported[0]!.message).toContain("in a");
    expect([...b.data.items.keys()].sort()).toEqual(["bad", "good", "new"]);
    expect(b.data.items.get("bad")!.item.raw).toBe(event("bad").raw);
  });

  it("refuses malformed new items with an error naming them, and syncs the others", async () => {
    const a = plain();
    const b = plain();
    a.data.items.set("broken.ics", {
      etag: "1",
      item: new Item("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nEND:VCALENDAR"),
    });
    a.data.items.set("junk.ics", { etag: "1", item: new Item("\u00ff\u00fe binary") });
    await a.collection.upload(event("fine"));
    const report = await sync(a.collection, b.collection, createMemoryStatus());
    expect(report.reported.map((e) => e.context.href).sort()).toEqual(["broken.ics", "junk.ics"]);
    expect(report.reported.every((e) => e.message.includes("is malformed"))).toBe(true);
    expect([...b.data.items.keys()]).toEqual(["fine"]);
  });
});

describe("sync: read_only and partial_sync", () => {
  it("reverts additions on a when read-only b is empty, over two syncs (test_read_only_and_prefetch)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await a.collection.upload(event("2"));
    await sync(a.collection, b.collection, status, { readOnlyB: true, forceDelete: true });
    await sync(a.collection, b.collection, status, { readOnlyB: true, forceDelete: true });
    expect(a.data.items.size).toBe(0);
    expect(b.data.items.size).toBe(0);
  });

  it("reports PartialSyncError for an upload to read-only b with partial_sync = error (test_partial_sync_error)", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event("0"));
    const report = await sync(a.collection, b.collection, createMemoryStatus(), {
      readOnlyB: true,
      partialSync: "error",
    });
    expect(report.reported.map((e) => e.code)).toEqual(["PARTIAL_SYNC"]);
    expect(report.reported[0]!.message).toContain("Attempted change on b, which is read-only.");
  });

  it("leaves read-only b alone and keeps a's item with partial_sync = ignore (test_partial_sync_ignore)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("0"));
    for (let i = 0; i < 2; i++) {
      const report = await sync(a.collection, b.collection, status, {
        readOnlyB: true,
        partialSync: "ignore",
      });
      expect(report.errors).toEqual([]);
      expect(a.data.items.size).toBe(1);
      expect(b.data.items.size).toBe(0);
    }
  });

  it("copies read-only a's item to b, keeps b cleared, and propagates a's update (test_partial_sync_ignore2)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("0"));
    const opts = { readOnlyA: true, partialSync: "ignore" as const, forceDelete: true };
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(b.collection)).toEqual([event("0").raw]);
    b.data.items.clear();
    await sync(a.collection, b.collection, status, opts);
    await sync(a.collection, b.collection, status, opts);
    expect(b.data.items.size).toBe(0);
    expect(a.data.items.size).toBe(1);
    a.data.items.set(w.href, { etag: "changed", item: event("0", "updated") });
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(b.collection)).toEqual([event("0", "updated").raw]);
  });

  it("reverts a new item, an update and a deletion on a against read-only b, each in two syncs (test_partial_sync_revert)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const opts = { readOnlyB: true, forceDelete: true };
    await b.collection.upload(event("1"));
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(a.collection)).toEqual([event("1").raw]);

    await a.collection.upload(event("2"));
    await sync(a.collection, b.collection, status, opts);
    expect(a.data.items.size).toBe(2);
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(a.collection)).toEqual([event("1").raw]);
    expect(b.data.items.size).toBe(1);

    await a.collection.update("1", event("1", "local edit"), a.data.items.get("1")!.etag);
    await sync(a.collection, b.collection, status, opts);
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(a.collection)).toEqual([event("1").raw]);

    await a.collection.delete("1", a.data.items.get("1")!.etag);
    await sync(a.collection, b.collection, status, opts);
    await sync(a.collection, b.collection, status, opts);
    expect(await raws(a.collection)).toEqual([event("1").raw]);
    expect(await raws(b.collection)).toEqual([event("1").raw]);
  });

  it("still writes a merged result to b when read-only a is ignored (partial_sync = ignore)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    a.data.items.set(w.href, { etag: "A2", item: event("1", "A") });
    await b.collection.update("1", event("1", "B"), b.data.items.get("1")!.etag);
    const merged = event("1", "A+B");
    const report = await sync(a.collection, b.collection, status, {
      readOnlyA: true,
      partialSync: "ignore",
      conflictResolution: { kind: "custom", resolve: () => merged },
    });
    expect(report.errors).toEqual([]);
    expect(await raws(b.collection)).toEqual([merged.raw]);
    expect(await raws(a.collection)).toEqual([event("1", "A").raw]);
  });

  it("skips deletions on a no_delete side, which brings the item back next time", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status, { noDeleteB: true });
    await a.collection.delete("1", a.data.items.get("1")!.etag);
    const cb = counted(b.collection);
    await sync(a.collection, cb.collection, status, { noDeleteB: true, forceDelete: true });
    expect(cb.calls.delete ?? 0).toBe(0);
    expect(b.data.items.size).toBe(1);
    expect(status.data.size).toBe(0);
    await sync(a.collection, b.collection, status, { noDeleteB: true });
    expect(await raws(a.collection)).toEqual([event("1").raw]);
  });
});

describe("sync: beyond vdirsyncer", () => {
  it("stores the written item's hash for the destination after an update (vdirsyncer bug fixed)", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    const updated = event("1", "2");
    await a.collection.update(w.href, updated, a.data.items.get(w.href)!.etag);
    await sync(a.collection, b.collection, status);
    expect(status.data.get("1")!.b.hash).toBe(updated.hash);
    expect(status.data.get("1")!.b.etag).toBe(b.data.items.get("1")!.etag);
  });

  it("keeps every overwritten or deleted version in the trash before writing", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const trash = createMemoryTrash();
    const w1 = await a.collection.upload(event("1"));
    await a.collection.upload(event("2"));
    await sync(a.collection, b.collection, status, { trash });
    expect(trash.entries).toEqual([]);
    await a.collection.update(w1.href, event("1", "new"), a.data.items.get(w1.href)!.etag);
    await a.collection.delete("2", a.data.items.get("2")!.etag);
    await sync(a.collection, b.collection, status, { trash });
    expect(trash.entries.map((e) => [e.side, e.ident, e.reason, e.raw])).toEqual([
      ["b", "1", "update", event("1").raw],
      ["b", "2", "delete", event("2").raw],
    ]);
  });

  it.each([
    ["a wins", "b"],
    ["b wins", "a"],
  ] as const)("keeps only the loser of a conflict resolved with %s in the trash", async (kind, loser) => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const trash = createMemoryTrash();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status, { trash });
    await a.collection.update(w.href, event("1", "from a"), a.data.items.get(w.href)!.etag);
    await b.collection.update("1", event("1", "from b"), b.data.items.get("1")!.etag);
    await sync(a.collection, b.collection, status, { trash, conflictResolution: { kind } });
    expect(trash.entries.map((e) => [e.side, e.ident, e.reason, e.raw])).toEqual([
      [loser, "1", "update", event("1", `from ${loser}`).raw],
    ]);
  });

  it("does not touch an item whose old version cannot be kept", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    await a.collection.update(w.href, event("1", "new"), a.data.items.get(w.href)!.etag);
    const unreadable: WritableCollection = Object.create(b.collection);
    unreadable.getMany = async function* (hrefs) {
      for (const href of hrefs) yield { href, error: new WrongEtagError(href) };
    };
    const report = await sync(a.collection, unreadable, status, { trash: createMemoryTrash() });
    expect(report.reported).toHaveLength(1);
    expect(report.reported[0]!.message).toContain("could not be read to keep a copy");
    expect(await raws(b.collection)).toEqual([event("1").raw]);
  });

  it("only plans in a dry run: nothing is written, not even the status", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await b.collection.upload(event("2"));
    const report = await sync(a.collection, b.collection, status, { dryRun: true });
    expect(report.plan.actions).toEqual([
      { kind: "upload", side: "b", ident: "1" },
      { kind: "upload", side: "a", ident: "2" },
    ]);
    expect(a.data.items.size).toBe(1);
    expect(b.data.items.size).toBe(1);
    expect(status.data.size).toBe(0);
  });

  describe.each([
    {
      declared: undefined,
      engine: 4,
      peak: 1,
      how: "a collection that is not hosted gets one call at a time",
    },
    { declared: 8, engine: 4, peak: 4, how: "a hosted storage declaring 8 runs the engine's 4 at once" },
    { declared: 2, engine: 4, peak: 2, how: "a hosted storage declaring 2 never gets more than 2" },
  ])("concurrency: $how", ({ declared, engine, peak: expected }) => {
    it("runs the actions under that limit and ends with the same result", async () => {
      const a = plain();
      const b = plain();
      const status = createMemoryStatus();
      for (let i = 0; i < 50; i++) await a.collection.upload(event(`c${i}`, i));
      let running = 0;
      let peak = 0;
      const slow: WritableCollection = Object.create(b.collection);
      slow.upload = async (item) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return b.collection.upload(item);
      };
      let target: WritableCollection = slow;
      if (declared !== undefined) {
        const definition = defineMemoryStorage({ concurrency: declared });
        const hosted = hostStorage(definition, { open: () => slow }, { instance: "slow" });
        target = (await hosted.open(null)) as WritableCollection;
      }
      await sync(a.collection, target, status, { concurrency: engine });
      expect(peak).toBe(expected);
      expect(b.data.items.size).toBe(50);
      expect(status.data.size).toBe(50);
    });
  });

  it("records nothing before flush() on a buffering storage, and everything after", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    let flushed = false;
    const buffered: WritableCollection = Object.create(b.collection);
    buffered.flush = async () => {
      expect(status.data.size).toBe(0);
      flushed = true;
    };
    await sync(a.collection, buffered, status);
    expect(flushed).toBe(true);
    expect(status.data.size).toBe(1);
  });

  it("warns about an item without UID, naming it", async () => {
    const a = plain();
    const b = plain();
    await a.collection.upload(event(""));
    const warnings: string[] = [];
    await sync(a.collection, b.collection, createMemoryStatus(), {
      log: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Item ${event("").hash} in a has no UID`);
  });

  it("logs vdirsyncer's lines for each action", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    const lines: string[] = [];
    const log = { debug() {}, info: (m: string) => lines.push(m), warn() {}, error() {} };
    const w = await a.collection.upload(event("haha"));
    await sync(a.collection, b.collection, status, { log });
    await a.collection.update(w.href, event("haha", 2), a.data.items.get(w.href)!.etag);
    await sync(a.collection, b.collection, status, { log });
    await a.collection.delete(w.href, a.data.items.get(w.href)!.etag);
    await b.collection.upload(event("x"));
    await a.collection.upload(event("x"));
    await sync(a.collection, b.collection, status, { log });
    expect(lines).toEqual([
      "Copying (uploading) item haha to b",
      "Copying (updating) item haha to b",
      "Deleting item haha from b",
      "Doing conflict resolution for item x...",
      "...same content on both sides.",
    ]);
  });

  it("uses hashItem for the status hash of what it writes", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    await a.collection.upload(event("h"));
    await sync(a.collection, b.collection, status);
    expect(rowsOf(status)[0]!.a.hash).toBe(hashItem(event("h").raw));
  });
});

describe("sync: cost of a no-op", () => {
  it("does not rewrite the status when nothing changed", async () => {
    const a = plain();
    const b = plain();
    const status = createMemoryStatus();
    for (let i = 0; i < 5; i++) await a.collection.upload(event(`n${i}`));
    await sync(a.collection, b.collection, status);
    let commits = 0;
    const counting = {
      ...status,
      commit: (rows: Parameters<typeof status.commit>[0]) => {
        commits++;
        return status.commit(rows);
      },
    };
    await sync(a.collection, b.collection, counting);
    expect(commits).toBe(0);
    await a.collection.upload(event("n5"));
    await sync(a.collection, b.collection, counting);
    expect(commits).toBe(1);
    expect(status.data.size).toBe(6);
  });
});
