// Incremental listing: the ctag gate and sync-token deltas, and when they must not be trusted.
import { describe, expect, it } from "vitest";
import {
  createMemoryStatus,
  SyncTokenExpiredError,
  UnsupportedError,
  type WritableCollection,
} from "./all.ts";
import { counted, event, memorySide, raws, sync } from "./sync-helpers.ts";

describe("sync: incremental listing", () => {
  it("lists in full first, then uses the ctag, then a delta, and stays correct", async () => {
    const a = memorySide("", { capabilities: { syncToken: false } }); // ctag only
    const b = memorySide(); // ctag and sync token
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    const first = await sync(a.collection, b.collection, status);
    expect([first.listing.a.method, first.listing.b.method]).toEqual(["full", "full"]);

    // Our own writes changed b's ctag: the second sync lists b by delta, a by ctag.
    const ca = counted(a.collection);
    const second = await sync(ca.collection, b.collection, status);
    expect(second.listing.a.method).toBe("ctag");
    expect(ca.calls.list ?? 0).toBe(0);
    expect(second.plan.actions).toEqual([]);

    await b.collection.upload(event("2"));
    const third = await sync(a.collection, b.collection, status);
    expect(third.listing.b.method).toBe("delta");
    expect(third.listing.b.fetched).toBe(1);
    expect(await raws(a.collection)).toEqual([event("1").raw, event("2").raw].sort());

    await b.collection.delete("1", b.data.items.get("1")!.etag);
    await sync(a.collection, b.collection, status);
    expect(await raws(a.collection)).toEqual([event("2").raw]);
  });

  it("lists in full when the status was changed by another tool since the last sync", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    await sync(a.collection, b.collection, status);
    // Python vdirsyncer rewrote the status (a new etag for a's row): the shortcuts would be wrong now.
    status.data.get("1")!.a.etag = "other";
    const report = await sync(a.collection, b.collection, status);
    expect(report.listing.a.method).toBe("full");
    // b's rows are untouched, so b's shortcut still holds.
    expect(report.listing.b.method).toBe("ctag");
    expect(report.plan.actions).toEqual([]);
  });

  it("lists in full when the token expired", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    const expiring: WritableCollection = Object.create(b.collection);
    let calls = 0;
    expiring.changes = async (token) => {
      calls++;
      if (token !== undefined) throw new SyncTokenExpiredError();
      return b.collection.changes!(undefined);
    };
    expiring.collectionTag = async () => "changed";
    const report = await sync(a.collection, expiring, status);
    expect(calls).toBe(2);
    expect(report.listing.b.method).toBe("full");
    expect(report.plan.actions).toEqual([]);
  });

  it("lists in full again once the full-listing interval passed", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    const report = await sync(a.collection, b.collection, status, { fullListingIntervalMs: 0 });
    expect([report.listing.a.method, report.listing.b.method]).toEqual(["full", "full"]);
  });

  it("does not trust the shortcuts after a sync with errors", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    const w = await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    await a.collection.update(w.href, event("1", "A"), a.data.items.get(w.href)!.etag);
    await b.collection.update("1", event("1", "B"), b.data.items.get("1")!.etag);
    const conflicted = await sync(a.collection, b.collection, status);
    expect(conflicted.reported.map((e) => e.code)).toEqual(["SYNC_CONFLICT"]);
    const again = await sync(a.collection, b.collection, status);
    expect(again.reported.map((e) => e.code)).toEqual(["SYNC_CONFLICT"]);
    expect([again.listing.a.method, again.listing.b.method]).toEqual(["full", "full"]);
  });
});

describe("sync: a storage that cannot report changes", () => {
  it("falls back to list() when changes() throws UnsupportedError, and forgets the token", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    await sync(a.collection, b.collection, status);
    expect(status.state.get("b.syncToken")).toBeDefined();
    const noDelta: WritableCollection = Object.create(b.collection);
    noDelta.changes = async () => {
      throw new UnsupportedError("sync-collection is not supported by this server");
    };
    noDelta.collectionTag = async () => "different";
    await b.collection.upload(event("2"));
    const report = await sync(a.collection, noDelta, status);
    expect(report.listing.b.method).toBe("full");
    expect(await raws(a.collection)).toEqual([event("1").raw, event("2").raw].sort());
    expect(status.state.has("b.syncToken")).toBe(false);
  });
});

describe("sync: collectionTag(previous)", () => {
  it("hands the stored tag to collectionTag() as a validator, only while the status is trusted", async () => {
    const a = memorySide();
    const b = memorySide();
    const status = createMemoryStatus();
    await a.collection.upload(event("1"));
    const seen: (string | undefined)[] = [];
    const validating: WritableCollection = Object.create(a.collection);
    validating.collectionTag = async (previous) => {
      seen.push(previous);
      return a.collection.collectionTag!();
    };
    await sync(validating, b.collection, status);
    await sync(validating, b.collection, status);
    status.data.get("1")!.a.etag = "changed by another tool";
    await sync(validating, b.collection, status);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toBe(await a.collection.collectionTag!());
    expect(seen[2]).toBeUndefined();
  });
});
