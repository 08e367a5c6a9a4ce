/** The persistence group: a new instance with the same options (another process) sees what was written. */
import { expect } from "vitest";
import {
  type AnyCollection,
  collect,
  etagOf,
  expectCode,
  expectSameItem,
  flush,
  sortRefs,
} from "../expect.ts";
import type { Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

export function persistenceGroup<O>(suite: Suite<O>): void {
  const { firstType, test } = suite;
  suite.group("persistence", () => {
    if (!suite.persistent) {
      // Declared with `persistent: false`: the declaration itself is what gets checked.
      test("not persistent (declared)", async () => {
        const fx = await suite.setup();
        const written = await fx.col.upload!(makeItem(firstType));
        await flush(fx.col);
        const location = await suite.validate(fx.location.raw as O);
        const other = await suite.instance(location);
        let again: AnyCollection;
        try {
          again = await suite.open(other, location, fx.ref);
        } catch (error) {
          // The collection itself is gone with the first instance: that is "nothing kept" too.
          expectCode(error, "COLLECTION_NOT_FOUND", "open() in a new instance");
          return;
        }
        const hrefs = (await collect(again.list())).map((r) => r.href);
        expect(hrefs, "declared not persistent, yet a new instance sees the write").not.toContain(
          written.href,
        );
      });
      return;
    }

    test("a new create() with the same options sees the writes (after flush())", async () => {
      const fx = await suite.setup();
      const { col } = fx;
      const keep = makeItem(firstType);
      const change = makeItem(firstType);
      const drop = makeItem(firstType);
      const kept = await col.upload!(keep);
      const changed = await col.upload!(change);
      const dropped = await col.upload!(drop);
      await flush(col);
      const replacement = makeItem(firstType, change.uid);
      const newEtag = (
        await col.update!(changed.href, replacement, await etagOf(col, changed.href, changed.etag))
      ).etag;
      await col.delete!(dropped.href, await etagOf(col, dropped.href, dropped.etag));
      await flush(col);
      const listedBefore = sortRefs(await collect(col.list()));

      const again = await suite.reopen(fx);
      const listed = sortRefs(await collect(again.list()));
      expect(listed).toEqual(listedBefore);
      expect(listed.map((r) => r.href).sort()).toEqual([kept.href, changed.href].sort());
      expectSameItem((await again.get(kept.href)).item, keep);
      const got = await again.get(changed.href);
      expectSameItem(got.item, replacement);
      if (newEtag !== undefined) expect(got.etag).toBe(newEtag);
    });
  });
}
