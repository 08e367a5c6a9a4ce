/** One group per item type: upload, get, update and delete of single items, their errors, and odd UIDs. */
import { randomUUID } from "node:crypto";
import type { Item, ItemRef } from "@vdirsyncer/core";
import { expect } from "vitest";
import {
  collect,
  etagOf,
  expectError,
  expectSameItem,
  expectUniqueHrefs,
  fetchedOnly,
  flush,
  sortRefs,
} from "../expect.ts";
import type { Suite } from "../harness.ts";
import { type ItemType, makeItem, makeRecurringEvent } from "../items.ts";

const ODD_UIDS: [string, string | null][] = [
  ["that is absent (the ident is the hash)", null],
  ["with special characters", "test @ foo ät bar град сатану"],
  ["with an encoded newline", "20210609T084907Z-@synaps-web-54fddfdf7-7kcfm%0A.ics"],
  ["../x", "../x"],
  ["a/b", "a/b"],
  [".", "."],
  ["of blanks only", "   "],
  ["of 300 characters", `${"long-uid-".repeat(33)}end`],
  ["with emoji and CJK", "😀 ünïcødé 日本語 ✓"],
];

export function itemGroups<O>(suite: Suite<O>): void {
  for (const type of suite.types) itemGroup(suite, type);
}

function itemGroup<O>(suite: Suite<O>, type: ItemType): void {
  const { caps, test } = suite;
  const setup = () => suite.setup();
  suite.group(`${type} items`, () => {
    const make = (uid?: string | null) => makeItem(type, uid);

    test("upload() of many items: list() matches the returned hrefs and etags, get() agrees", async () => {
      const { col } = await setup();
      const refs: ItemRef[] = [];
      for (let i = 0; i < 9; i++) {
        const written = await col.upload!(make());
        await flush(col);
        refs.push({ href: written.href, etag: await etagOf(col, written.href, written.etag) });
      }
      const listed = await collect(col.list());
      expectUniqueHrefs(listed);
      expect(sortRefs(listed)).toEqual(sortRefs(refs));
      for (const ref of refs) expect((await col.get(ref.href)).etag).toBe(ref.etag);
    });

    if (caps.batchGet) {
      test("getMany() of the same href twice yields it once", async () => {
        const { col } = await setup();
        const written = await col.upload!(make());
        await flush(col);
        const etag = await etagOf(col, written.href, written.etag);
        const got = fetchedOnly(await collect(col.getMany!([written.href, written.href])));
        expect(got.map((g) => [g.href, g.etag])).toEqual([[written.href, etag]]);
      });
    }

    test("upload() of an item already stored throws AlreadyExistsError", async () => {
      const { col } = await setup();
      const item = make();
      await col.upload!(item);
      await flush(col);
      await expectError(col.upload!(item), "ALREADY_EXISTS");
    });

    test("get() after upload() returns an equal item", async () => {
      const { col } = await setup();
      const item = make();
      const written = await col.upload!(item);
      await flush(col);
      const got = await col.get(written.href);
      expect(got.href).toBe(written.href);
      expectSameItem(got.item, item);
      if (written.etag !== undefined) expect(got.etag).toBe(written.etag);
    });

    test("update() replaces the content and changes the etag", async () => {
      const { col } = await setup();
      const uid = randomUUID();
      const first = make(uid);
      const second = make(uid);
      expect(second.hash).not.toBe(first.hash);
      const written = await col.upload!(first);
      await flush(col);
      const etag = await etagOf(col, written.href, written.etag);
      const updated = await col.update!(written.href, second, etag);
      await flush(col);
      if (updated.etag !== undefined) expect(typeof updated.etag).toBe("string");
      const newEtag = await etagOf(col, written.href, updated.etag);
      expect(newEtag).not.toBe(etag);
      const got = await col.get(written.href);
      expect(got.etag).toBe(newEtag);
      expectSameItem(got.item, second);
    });

    test("update() of an unknown href throws NotFoundError", async () => {
      const { col } = await setup();
      await expectError(col.update!("huehue", make(), '"123"'), "NOT_FOUND");
    });

    test("update() with a stale etag throws WrongEtagError and changes nothing", async () => {
      const { col } = await setup();
      const item = make();
      const written = await col.upload!(item);
      await flush(col);
      const etag = await etagOf(col, written.href, written.etag);
      await expectError(col.update!(written.href, make(item.uid), '"lolnope"'), "WRONG_ETAG");
      const got = await col.get(written.href);
      expect(got.etag).toBe(etag);
      expectSameItem(got.item, item);
    });

    test("delete() with a stale etag throws WrongEtagError and keeps the item", async () => {
      const { col } = await setup();
      const written = await col.upload!(make());
      await flush(col);
      await expectError(col.delete!(written.href, '"lolnope"'), "WRONG_ETAG");
      expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
    });

    test("delete() removes the item from list()", async () => {
      const { col } = await setup();
      const written = await col.upload!(make());
      await flush(col);
      await col.delete!(written.href, await etagOf(col, written.href, written.etag));
      await flush(col);
      expect(await collect(col.list())).toEqual([]);
    });

    test("delete() of an unknown href throws NotFoundError", async () => {
      const { col } = await setup();
      await expectError(col.delete!("1", '"123"'), "NOT_FOUND");
    });

    test("list() is empty at first and then holds exactly the uploaded item", async () => {
      const { col } = await setup();
      expect(await collect(col.list())).toEqual([]);
      const written = await col.upload!(make());
      await flush(col);
      const etag = await etagOf(col, written.href, written.etag);
      expect(await collect(col.list())).toEqual([{ href: written.href, etag }]);
    });

    test("get() finds an item only between its upload() and its delete()", async () => {
      const { col } = await setup();
      const item = make();
      await expectError(col.get(`${item.uid}`), "NOT_FOUND");
      const written = await col.upload!(item);
      await flush(col);
      expectSameItem((await col.get(written.href)).item, item);
      await col.delete!(written.href, await etagOf(col, written.href, written.etag));
      await flush(col);
      await expectError(col.get(written.href), "NOT_FOUND");
    });

    test("update() of one item leaves the others unchanged", async () => {
      const { col } = await setup();
      const items = [make(), make(), make(), make()];
      const refs = new Map<string, { etag: string; item: Item }>();
      for (const item of items) {
        const w = await col.upload!(item);
        await flush(col);
        refs.set(w.href, { etag: await etagOf(col, w.href, w.etag), item });
      }
      const [target, before] = [...refs][0]!;
      const replacement = make(before.item.uid);
      const updated = await col.update!(target, replacement, before.etag);
      await flush(col);
      refs.set(target, { etag: await etagOf(col, target, updated.etag), item: replacement });
      const hrefs = [...refs.keys()];
      const got = caps.batchGet
        ? fetchedOnly(await collect(col.getMany!(hrefs)))
        : await Promise.all(hrefs.map((h) => col.get(h)));
      expect(got).toHaveLength(4);
      for (const g of got) {
        const want = refs.get(g.href);
        expect(want, `getMany() yielded an href it was not asked for: ${g.href}`).toBeDefined();
        expect(g.etag).toBe(want!.etag);
        expectSameItem(g.item, want!.item);
      }
    });

    test("list() never yields the same href twice", async () => {
      const { col } = await setup();
      for (let i = 0; i < 5; i++) {
        const w = await col.upload!(make());
        await flush(col);
        if (i % 2 === 0) {
          const etag = await etagOf(col, w.href, w.etag);
          await col.update!(w.href, make((await col.get(w.href)).item.uid), etag);
          await flush(col);
        }
      }
      const listed = await collect(col.list());
      expect(listed).toHaveLength(5);
      expectUniqueHrefs(listed);
    });

    test("upload() of UIDs differing only in case gives two hrefs", async () => {
      const { col } = await setup();
      const base = `casetest-${randomUUID().slice(0, 8)}`;
      const lower = await col.upload!(make(base.toLowerCase()));
      const upper = await col.upload!(make(base.toUpperCase()));
      await flush(col);
      expect(lower.href).not.toBe(upper.href);
      const listed = (await collect(col.list())).map((r) => r.href).sort();
      expect(listed).toEqual([lower.href, upper.href].sort());
    });

    test("upload() of a UID whose item was deleted succeeds again", async () => {
      const { col } = await setup();
      const uid = randomUUID();
      const first = await col.upload!(make(uid));
      await flush(col);
      await col.delete!(first.href, await etagOf(col, first.href, first.etag));
      await flush(col);
      const again = make(uid);
      const second = await col.upload!(again);
      await flush(col);
      expect((await collect(col.list())).map((r) => r.href)).toEqual([second.href]);
      expectSameItem((await col.get(second.href)).item, again);
    });

    for (const [label, uid] of ODD_UIDS) {
      test(`upload() and get() round-trip a UID ${label}`, async () => {
        const { col } = await setup();
        const item = make(uid);
        const written = await col.upload!(item);
        await flush(col);
        const etag = await etagOf(col, written.href, written.etag);
        const listed = await collect(col.list());
        expect(listed).toEqual([{ href: written.href, etag }]);
        const got = await col.get(written.href);
        expect(got.etag).toBe(etag);
        expect(got.item.uid).toBe(item.uid);
        expectSameItem(got.item, item);
      });
    }

    if (type === "VEVENT") {
      test("upload() keeps a recurring VEVENT and its RECURRENCE-ID override as one item", async () => {
        const { col } = await setup();
        const item = makeRecurringEvent();
        const written = await col.upload!(item);
        await flush(col);
        expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
        const got = await col.get(written.href);
        expectSameItem(got.item, item);
        expect(got.item.raw.match(/^RECURRENCE-ID/gm)).toHaveLength(1);
        expect(got.item.raw.match(/^BEGIN:VEVENT/gm)).toHaveLength(2);
      });
    }
  });
}
