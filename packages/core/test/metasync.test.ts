// Ports of vdirsyncer's tests/unit/test_metasync.py (spec/tests-to-port.md), on memory storages.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createMemoryMetaStatus,
  createMemoryStorage,
  type MetaKey,
  metasyncCollection,
  normalizeMetaValue,
  type WritableCollection,
} from "./all.ts";

function side(name: string, readOnly = false) {
  const collection = createMemoryStorage().open(null) as WritableCollection;
  return { name, collection, readOnly };
}

async function meta(c: WritableCollection, key: MetaKey) {
  return c.getMeta!(key);
}

describe("metasync", () => {
  it("drops status keys that are not synced (irrelevant status)", async () => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus({ foo: "bar" });
    await metasyncCollection({ a, b, keys: [], status });
    expect(status.values).toEqual({});
  });

  it("copies a new value, then its change, then its deletion (basic)", async () => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus();
    await a.collection.setMeta!("displayname", "foo");
    await metasyncCollection({ a, b, keys: ["displayname"], status });
    expect(await meta(b.collection, "displayname")).toBe("foo");
    expect(status.values).toEqual({ displayname: "foo" });

    await b.collection.setMeta!("displayname", "bar");
    await metasyncCollection({ a, b, keys: ["displayname"], status });
    expect(await meta(a.collection, "displayname")).toBe("bar");

    await a.collection.setMeta!("displayname", undefined);
    await metasyncCollection({ a, b, keys: ["displayname"], status });
    expect(await meta(b.collection, "displayname")).toBeUndefined();
    expect(status.values).toEqual({});
  });

  it("raises a conflict when both differ, and keeps the status of the other keys (fixed)", async () => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus();
    await a.collection.setMeta!("displayname", "A");
    await b.collection.setMeta!("displayname", "B");
    await a.collection.setMeta!("color", "#ff0000");
    await expect(metasyncCollection({ a, b, keys: ["displayname", "color"], status })).rejects.toMatchObject({
      code: "METASYNC_CONFLICT",
      message: "displayname",
    });
    expect(await meta(b.collection, "color")).toBe("#ff0000");
    expect(status.values).toEqual({ color: "#ff0000" });
  });

  it("rejects an invalid resolution setting", async () => {
    const a = side("a");
    const b = side("b");
    await a.collection.setMeta!("color", "#000000");
    await b.collection.setMeta!("color", "#ffffff");
    await expect(
      metasyncCollection({
        a,
        b,
        keys: ["color"],
        status: createMemoryMetaStatus(),
        conflictResolution: "yolo" as never,
      }),
    ).rejects.toMatchObject({ code: "USER", message: 'Invalid conflict resolution: "yolo".' });
  });

  it("warns that commands do not work, then reports the conflict", async () => {
    const a = side("a");
    const b = side("b");
    await a.collection.setMeta!("color", "#000000");
    await b.collection.setMeta!("color", "#ffffff");
    const warnings: string[] = [];
    await expect(
      metasyncCollection({
        a,
        b,
        keys: ["color"],
        status: createMemoryMetaStatus(),
        conflictResolution: { kind: "command", argv: ["cp"] },
        log: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
      }),
    ).rejects.toMatchObject({ code: "METASYNC_CONFLICT" });
    expect(warnings).toEqual(["Custom commands don't work on metasync."]);
  });

  it("sets the status when both sides already agree", async () => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus();
    await a.collection.setMeta!("color", "#123456");
    await b.collection.setMeta!("color", "#123456");
    await metasyncCollection({ a, b, keys: ["color"], status });
    expect(status.values).toEqual({ color: "#123456" });
  });

  it.each([
    ["a wins", "A"],
    ["b wins", "B"],
  ] as const)("resolves with %s", async (mode, winner) => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus();
    await a.collection.setMeta!("displayname", "A");
    await b.collection.setMeta!("displayname", "B");
    await metasyncCollection({ a, b, keys: ["displayname"], status, conflictResolution: { kind: mode } });
    expect(await meta(a.collection, "displayname")).toBe(winner);
    expect(await meta(b.collection, "displayname")).toBe(winner);
    expect(status.values).toEqual({ displayname: winner });
  });

  it("treats the string None as absent and strips values", async () => {
    const a = side("a");
    const b = side("b");
    const status = createMemoryMetaStatus({ displayname: "None" });
    await a.collection.setMeta!("displayname", "  x  ");
    await metasyncCollection({ a, b, keys: ["displayname"], status });
    expect(await meta(b.collection, "displayname")).toBe("x");
  });

  it("converges from any starting values with a resolution (fuzz)", async () => {
    const value = fc.option(fc.constantFrom("red", "blue", " blue ", "None", "中国"), { nil: undefined });
    const kind = fc.constantFrom("a wins" as const, "b wins" as const);
    await fc.assert(
      fc.asyncProperty(value, value, value, kind, async (va, vb, vs, mode) => {
        const a = side("a");
        const b = side("b");
        await a.collection.setMeta!("color", va);
        await b.collection.setMeta!("color", vb);
        const status = createMemoryMetaStatus(vs === undefined ? {} : { color: vs });
        await metasyncCollection({ a, b, keys: ["color"], status, conflictResolution: { kind: mode } });
        const ra = await meta(a.collection, "color");
        expect(await meta(b.collection, "color")).toBe(ra);
        // vdirsyncer keeps an unnormalised status value when both sides agree with it after normalising.
        expect(normalizeMetaValue(status.values.color)).toBe(ra);
      }),
      { numRuns: 200 },
    );
  });
});
