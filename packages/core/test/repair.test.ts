// Ports of vdirsyncer's tests/unit/test_repair.py (spec/tests-to-port.md).
import { describe, expect, it } from "vitest";
import {
  createMemoryStorage,
  createMemoryTrash,
  IrreparableItemError,
  Item,
  isSafeUid,
  repairCollection,
  repairItem,
  type WritableCollection,
} from "./all.ts";
import { event } from "./sync-helpers.ts";

function collection(): WritableCollection {
  return createMemoryStorage({ capabilities: { ctag: false, syncToken: false } }).open(
    null,
  ) as WritableCollection;
}

async function uids(c: WritableCollection): Promise<string[]> {
  const out: string[] = [];
  for await (const ref of c.list()) out.push((await c.get(ref.href)).item.uid ?? "");
  return out.sort();
}

describe("repair", () => {
  it("makes duplicate UIDs unique", async () => {
    const a = event("dup", "a");
    const b = event("dup", "b");
    // The memory storage names items by ident, so plant the second copy under its own href.
    const store = createMemoryStorage({ capabilities: { ctag: false, syncToken: false } });
    const col = store.open(null) as WritableCollection;
    await col.upload(a);
    store.collections.get("")!.items.set("other", { etag: "1", item: b });
    const report = await repairCollection(col, { repairUnsafeUid: false });
    expect(report.repaired).toBe(1);
    const result = await uids(col);
    expect(new Set(result).size).toBe(2);
    expect(result).toContain("dup");
  });

  it("replaces unsafe UIDs only with repairUnsafeUid, keeping the old version in the trash", async () => {
    const c = collection();
    await c.upload(event("!!!!!"));
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    await repairCollection(c, { repairUnsafeUid: false, log });
    expect(await uids(c)).toEqual(["!!!!!"]);
    expect(warnings).toEqual(["UID may cause problems, add --repair-unsafe-uid to repair."]);
    const trash = createMemoryTrash();
    await repairCollection(c, { repairUnsafeUid: true, trash });
    const [uid] = await uids(c);
    expect(isSafeUid(uid!)).toBe(true);
    expect(trash.entries.map((e) => e.raw)).toEqual([event("!!!!!").raw]);
  });

  it.each([
    ["as UID", "b@dh0mbr3", "fine.ics"],
    ["as href", "fine", "b@dh0mbr3.ics"],
  ])("gives a new safe UID when b@dh0mbr3 is used %s", (_how, uid, href) => {
    const repaired = repairItem(href, event(uid), new Set(), true);
    expect(repaired.uid).not.toBe(uid);
    expect(isSafeUid(repaired.uid!)).toBe(true);
  });

  it("returns a fine item unchanged (the same object)", () => {
    const item = event("fine");
    expect(repairItem("fine.ics", item, new Set(), true)).toBe(item);
  });

  it("assigns a UID to an item without one", () => {
    const warnings: string[] = [];
    const repaired = repairItem("x.ics", event(""), new Set(), false, {
      debug() {},
      info() {},
      warn: (m) => warnings.push(m),
      error() {},
    });
    expect(repaired.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(warnings).toEqual(["No UID, assigning random UID."]);
  });

  it.each(["AYYY", "", "@@@@", "BEGIN:VCARD", "BEGIN:FOO\nEND:FOO"])("cannot repair %j", (raw) => {
    expect(() => repairItem("toobroken.txt", new Item(raw), new Set(), true)).toThrow(IrreparableItemError);
    expect(() => repairItem("toobroken.txt", new Item(raw), new Set(), true)).toThrow(
      "Item 'toobroken.txt' is malformed beyond repair.",
    );
  });

  it("skips an irreparable item in a collection and repairs the rest", async () => {
    const store = createMemoryStorage({ capabilities: { ctag: false, syncToken: false } });
    const c = store.open(null) as WritableCollection;
    store.collections.get("")!.items.set("toobroken.txt", { etag: "1", item: new Item("AYYY") });
    await c.upload(event(""));
    const errors: string[] = [];
    const report = await repairCollection(c, {
      repairUnsafeUid: false,
      log: { debug() {}, info() {}, warn() {}, error: (m) => errors.push(m) },
    });
    expect(report.irreparable).toEqual(["toobroken.txt"]);
    expect(report.repaired).toBe(1);
    expect(errors[0]).toContain("'toobroken.txt' is malformed beyond repair");
    expect(errors[1]).toBe('Item content: "AYYY"');
  });
});
