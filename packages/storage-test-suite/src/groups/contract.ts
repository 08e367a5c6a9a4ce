/** The contract group: the definition's stamp, methods present exactly when declared, basic error codes. */
import { randomUUID } from "node:crypto";
import { API_VERSION, type Item, isVdirsyncerError, type WritableCollection } from "@vdirsyncer/core";
import { expect } from "vitest";
import {
  type AnyCollection,
  collect,
  expectError,
  expectUniqueHrefs,
  fetchedOnly,
  sortRefs,
} from "../expect.ts";
import type { Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

const READ_ONLY_WRITES = ["upload", "update", "delete", "setMeta"] as const;

export function contractGroup<O>(suite: Suite<O>): void {
  const { caps, definition, test } = suite;
  suite.group("contract", () => {
    test(`the definition is stamped with apiVersion ${API_VERSION} and frozen`, async () => {
      expect(definition.apiVersion).toBe(API_VERSION);
      expect(definition.type).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(definition.itemKinds.length).toBeGreaterThan(0);
      expect(Object.isFrozen(definition)).toBe(true);
      expect(Object.isFrozen(definition.capabilities)).toBe(true);
      expect(typeof caps.watch, "capabilities.watch is written out").toBe("boolean");
      if (caps.concurrency !== undefined) {
        expect(Number.isInteger(caps.concurrency) && caps.concurrency >= 1, "concurrency").toBe(true);
      }
    });

    test("the storage has discover() and createCollection() exactly when declared", async () => {
      const { storage } = await suite.setup();
      expect(typeof storage.open).toBe("function");
      expect(typeof storage.discover === "function", "discover() present").toBe(caps.discover);
      expect(typeof storage.createCollection === "function", "createCollection() present").toBe(
        caps.createCollection,
      );
    });

    test("the collection has getMany(), changes(), collectionTag(), getMeta() and watch() exactly when declared", async () => {
      const { col } = await suite.setup();
      expect(typeof col.list).toBe("function");
      expect(typeof col.get).toBe("function");
      expect(typeof col.getMany === "function", "getMany() present").toBe(caps.batchGet);
      expect(typeof col.changes === "function", "changes() present").toBe(caps.syncToken);
      expect(typeof col.collectionTag === "function", "collectionTag() present").toBe(caps.ctag);
      expect(typeof col.getMeta === "function", "getMeta() present").toBe(caps.metadata.length > 0);
      expect(typeof col.watch === "function", "watch() present").toBe(caps.watch);
    });

    if (!caps.readOnly) {
      test("the collection has upload(), update(), delete(), and setMeta() exactly with metadata", async () => {
        const { col } = await suite.setup();
        expect(typeof col.upload).toBe("function");
        expect(typeof col.update).toBe("function");
        expect(typeof col.delete).toBe("function");
        expect(typeof col.setMeta === "function", "setMeta() present").toBe(caps.metadata.length > 0);
      });

      test("list() of a fresh collection yields nothing", async () => {
        const { col } = await suite.setup();
        expect(await collect(col.list())).toEqual([]);
      });
    }

    test("get() of an unknown href throws NotFoundError", async () => {
      const { col } = await suite.setup();
      await expectError(col.get(`nonexisting-${randomUUID()}`), "NOT_FOUND");
    });

    if (caps.batchGet) {
      test("getMany([]) yields nothing", async () => {
        const { col } = await suite.setup();
        expect(await collect(col.getMany!([]))).toEqual([]);
      });

      test("getMany() of an unknown href throws NotFoundError or reports it as a NOT_FOUND failure", async () => {
        const { col } = await suite.setup();
        const href = `nonexisting-${randomUUID()}`;
        let yielded: unknown[];
        try {
          yielded = await collect(col.getMany!([href]));
        } catch (error) {
          await expectError(Promise.reject(error), "NOT_FOUND");
          return;
        }
        // Reported per href instead of thrown: exactly one failure for it, and no item.
        expect(yielded).toHaveLength(1);
        const failure = yielded[0] as { href?: string; error?: unknown; item?: unknown };
        expect(failure.item).toBeUndefined();
        expect(failure.href).toBe(href);
        expect(isVdirsyncerError(failure.error, "NOT_FOUND")).toBe(true);
      });
    }

    if (caps.readOnly) readOnlyTests(suite);
  });
}

function readOnlyTests<O>(suite: Suite<O>): void {
  const { caps, test, firstType } = suite;
  test("write methods, when present, throw ReadOnlyError", async () => {
    const { col } = await suite.setup();
    const loose = col as Partial<WritableCollection>;
    const item = makeItem(firstType);
    const calls: Record<(typeof READ_ONLY_WRITES)[number], () => Promise<unknown>> = {
      upload: () => loose.upload!(item),
      update: () => loose.update!("x", item, "etag"),
      delete: () => loose.delete!("x", "etag"),
      setMeta: () => loose.setMeta!(caps.metadata[0] ?? "displayname", "x"),
    };
    for (const name of READ_ONLY_WRITES) {
      if (typeof loose[name] === "function") await expectError(calls[name](), "READ_ONLY", name);
    }
  });

  const seed = suite.config.seed;
  if (seed === undefined) return;
  const seeded = async (): Promise<{ col: AnyCollection; items: Item[] }> => {
    const items = [makeItem(firstType), makeItem(firstType), makeItem(firstType)];
    const location = await suite.validate(await seed(items));
    const col = await suite.open(await suite.instance(location), location, null);
    return { col, items };
  };

  test("list() and get() return the seeded items", async () => {
    const { col, items } = await seeded();
    const refs = await collect(col.list());
    expectUniqueHrefs(refs);
    const got = await Promise.all(refs.map((r) => col.get(r.href)));
    expect(got.map((g) => g.item.hash).sort()).toEqual(items.map((i) => i.hash).sort());
    for (const [i, g] of got.entries()) expect(g.etag).toBe(refs[i]!.etag);
  });

  if (caps.batchGet) {
    test("getMany() returns the seeded items", async () => {
      const { col, items } = await seeded();
      const refs = await collect(col.list());
      const got = fetchedOnly(await collect(col.getMany!(refs.map((r) => r.href))));
      expect(got.map((g) => g.item.hash).sort()).toEqual(items.map((i) => i.hash).sort());
    });
  }

  if (caps.syncToken) {
    test("changes(undefined) reports every seeded item", async () => {
      const { col } = await seeded();
      const set = await col.changes!(undefined);
      expect(sortRefs(set.changed)).toEqual(sortRefs(await collect(col.list())));
    });
  }
}
