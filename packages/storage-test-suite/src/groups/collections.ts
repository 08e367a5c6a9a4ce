/**
 * The collections group, when `createCollection` is declared: what `createCollection()` and `discover()` return,
 * and the path the command takes with it. `discover` (or `createCollection`) in one run, the ref kept in the
 * discovery cache as JSON without the keys equal to the configured options, and `open(ref)` in a later run, in
 * another process: a new storage instance with the same options.
 */
import type { CollectionInfo, CollectionRef, Item, JsonValue } from "@vdirsyncer/core";
import { expect } from "vitest";
import { cachedRef, collect, etagOf, expectCode, expectSameItem, expectUnique, flush } from "../expect.ts";
import { randomCollectionId, type Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

export function collectionsGroup<O>(suite: Suite<O>): void {
  const { caps, firstType, test } = suite;
  suite.group("collections", () => {
    test("createCollection() returns a collection that open() can write and list", async () => {
      const { hosted, location } = await suite.setup();
      const id = randomCollectionId();
      const info = await hosted.createCollection(id);
      expect(info.id).toBe(id);
      const col = await suite.open({ hosted }, location, info);
      const written = await col.upload!(makeItem(firstType));
      await flush(col);
      expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
    });

    test("createCollection() returns a config that is JSON, never names `collection`, and the schema accepts over the options", async () => {
      const { hosted, location } = await suite.setup();
      for (const id of [randomCollectionId(), "test @ foo ät bar"]) {
        const info = await hosted.createCollection(id);
        expect(info.config, `createCollection(${JSON.stringify(id)}).config`).toBeTypeOf("object");
        expect(JSON.parse(JSON.stringify(info.config)), "config after a JSON round trip").toEqual(
          info.config,
        );
        expect(Object.keys(info.config), "config keys").not.toContain("collection");
        expect(typeof info.href, "href (for messages)").toBe("string");
        // Python vdirsyncer reads the cached config as options over the storage section.
        await suite.validate({ ...location.raw, ...(info.config as Record<string, JsonValue>) } as O);
      }
    });

    test("createCollection() of a collection that exists is not an error and keeps its items", async () => {
      const fx = await suite.setup();
      const written = await fx.col.upload!(makeItem(firstType));
      await flush(fx.col);
      const again = await fx.hosted.createCollection(fx.info!.id);
      expect(again.id).toBe(fx.info!.id);
      const col = await suite.open(fx, fx.location, again);
      expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
    });

    test('createCollection() accepts the id "test @ foo ät bar" and its items round-trip', async () => {
      const { col } = await suite.setup("test @ foo ät bar");
      const item = makeItem(firstType, "test @ foo ät bar град сатану");
      const written = await col.upload!(item);
      await flush(col);
      const etag = await etagOf(col, written.href, written.etag);
      expect(await collect(col.list())).toEqual([{ href: written.href, etag }]);
      const got = await col.get(written.href);
      expect(got.etag).toBe(etag);
      expectSameItem(got.item, item);
    });

    test("collections opened by the refs createCollection() returned, in a new instance, keep their items apart", async () => {
      await commandPath(suite, "createCollection");
    });

    if (caps.discover) {
      test("collections opened by the refs discover() returned, in a new instance, keep their items apart", async () => {
        await commandPath(suite, "discover");
      });

      test("discover() yields at least the collections createCollection() made, each once", async () => {
        const { hosted, location } = await suite.setup();
        const made = new Map<string, string>();
        for (const id of ["test1", "test2", "test3", "test4"]) {
          const info = await hosted.createCollection(id);
          const col = await suite.open({ hosted }, location, info);
          const written = await col.upload!(makeItem(firstType));
          await flush(col);
          made.set(id, written.href);
        }
        const found = await collect(hosted.discover());
        expectUnique(
          found.map((f) => f.href),
          "discover() yielded a collection href twice",
        );
        expectUnique(
          found.map((f) => f.id),
          "discover() yielded a collection id twice",
        );
        for (const [id, href] of made) {
          const info = found.find((f) => f.id === id);
          expect(info, `discover() did not yield collection ${id}`).toBeDefined();
          const col = await suite.open({ hosted }, location, info!);
          expect((await collect(col.list())).map((r) => r.href)).toEqual([href]);
        }
      });
    }
  });
}

/**
 * The command's path, step by step: discover a fresh location (nothing of ours there yet), create two
 * collections, take their refs from `source`, keep them as the discovery cache does, open them in a new instance
 * and write items with distinct UIDs (servers such as Cyrus refuse a UID that another calendar of the user holds)
 * into each; every collection then lists its own items and no other, now and in the instance after.
 */
async function commandPath<O>(suite: Suite<O>, source: "createCollection" | "discover"): Promise<void> {
  const { caps, firstType } = suite;
  const location = await suite.location();
  const first = await suite.instance(location);
  const ids = [randomCollectionId("one"), randomCollectionId("two")];
  if (caps.discover) {
    let before: CollectionInfo[] = [];
    try {
      before = await collect(first.hosted.discover());
    } catch (error) {
      expectCode(error, "COLLECTION_NOT_FOUND", "discover() of a fresh location");
    }
    for (const id of ids) expect(before.map((i) => i.id)).not.toContain(id);
  }
  const created: CollectionInfo[] = [];
  for (const id of ids) created.push(await first.hosted.createCollection(id));
  let refs: CollectionRef[] = created;
  if (source === "discover") {
    const found = await collect(first.hosted.discover());
    refs = ids.map((id) => {
      const info = found.find((f) => f.id === id);
      expect(info, `discover() did not yield the collection "${id}" createCollection() made`).toBeDefined();
      return info!;
    });
  }
  const cached = refs.map((ref) => cachedRef(ref, location.raw));

  const later = async () =>
    suite.persistent ? suite.instance(await suite.validate(location.raw as O)) : first;
  const second = await later();
  const cols = await Promise.all(cached.map((ref) => second.hosted.open(ref)));
  const items: Item[][] = ids.map(() => [makeItem(firstType), makeItem(firstType)]);
  const hrefs: string[][] = [];
  for (const [i, col] of cols.entries()) {
    const mine: string[] = [];
    for (const item of items[i]!) mine.push((await col.upload!(item)).href);
    await flush(col);
    hrefs.push(mine.sort());
  }

  const check = async (label: string, open: (i: number) => Promise<(typeof cols)[number]>) => {
    for (const [i, id] of ids.entries()) {
      const col = await open(i);
      const listed = (await collect(col.list())).map((r) => r.href).sort();
      expect(
        listed,
        `${label}: collection "${id}" (opened from ${JSON.stringify(cached[i])}) must list exactly its own items (open() rebuilds a collection from id and config over its own options, never from href)`,
      ).toEqual(hrefs[i]);
      const got = await Promise.all(listed.map((href) => col.get(href)));
      expect(got.map((g) => g.item.hash).sort()).toEqual(items[i]!.map((item) => item.hash).sort());
    }
  };
  await check("in the instance that wrote", async (i) => cols[i]!);
  const third = await later();
  await check("in the next instance", (i) => third.hosted.open(cached[i]!));
}
