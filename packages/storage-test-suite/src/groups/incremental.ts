/** The sync tokens and collection tag groups, when declared: what incremental listing relies on. */
import { expect } from "vitest";
import { type AnyCollection, collect, etagOf, expectError, flush, sortRefs } from "../expect.ts";
import type { Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

export function incrementalGroups<O>(suite: Suite<O>): void {
  const { caps, test, firstType } = suite;
  const setup = () => suite.setup();
  const group = suite.group;
  if (caps.syncToken) {
    group("sync tokens", () => {
      /**
       * `changes()` may throw UnsupportedError for a whole collection (a server whose tokens are not worth it,
       * a filtered listing): the engine then lists in full. Such a collection must say so consistently.
       */
      const initial = async (col: AnyCollection) => {
        try {
          return await col.changes!(undefined);
        } catch (error) {
          await expectError(Promise.reject(error), "UNSUPPORTED", "changes(undefined)");
          await expectError(
            col.changes!("any-token"),
            "UNSUPPORTED",
            "changes(token) after UnsupportedError",
          );
          return undefined;
        }
      };

      test("changes(undefined) reports every item and a token (or UnsupportedError throughout)", async () => {
        const { col } = await setup();
        for (let i = 0; i < 3; i++) await col.upload!(makeItem(firstType));
        await flush(col);
        const set = await initial(col);
        if (set === undefined) return;
        expect(typeof set.token).toBe("string");
        expect(set.removed).toEqual([]);
        expect(sortRefs(set.changed)).toEqual(sortRefs(await collect(col.list())));
      });

      test("changes(token) reports nothing when nothing changed", async () => {
        const { col } = await setup();
        await col.upload!(makeItem(firstType));
        await flush(col);
        const first = await initial(col);
        if (first === undefined) return;
        const second = await col.changes!(first.token);
        expect(second.changed).toEqual([]);
        expect(second.removed).toEqual([]);
      });

      test("changes(token) reports uploads, updates and deletions since the token", async () => {
        const { col } = await setup();
        const stay = await col.upload!(makeItem(firstType));
        const edit = makeItem(firstType);
        const edited = await col.upload!(edit);
        const gone = await col.upload!(makeItem(firstType));
        await flush(col);
        const first = await initial(col);
        if (first === undefined) return;
        const { token } = first;
        const added = await col.upload!(makeItem(firstType));
        await col.update!(
          edited.href,
          makeItem(firstType, edit.uid),
          await etagOf(col, edited.href, edited.etag),
        );
        await col.delete!(gone.href, await etagOf(col, gone.href, gone.etag));
        await flush(col);
        const set = await col.changes!(token);
        const listed = new Map((await collect(col.list())).map((r) => [r.href, r.etag]));
        expect(set.changed.map((r) => r.href).sort()).toEqual([added.href, edited.href].sort());
        for (const r of set.changed) expect(r.etag).toBe(listed.get(r.href));
        expect(set.removed).toEqual([gone.href]);
        expect(set.changed.map((r) => r.href)).not.toContain(stay.href);
      });

      test("changes() with an unknown token throws SyncTokenExpiredError", async () => {
        const { col } = await setup();
        if ((await initial(col)) === undefined) return;
        await expectError(col.changes!("bogus-token"), "SYNC_TOKEN_EXPIRED");
      });
    });
  }

  if (caps.ctag) {
    group("collection tag", () => {
      test("collectionTag() is stable while nothing changes", async () => {
        const { col } = await setup();
        await col.upload!(makeItem(firstType));
        await flush(col);
        expect(await col.collectionTag!()).toBe(await col.collectionTag!());
      });

      test("collectionTag() changes after upload(), update() and delete()", async () => {
        const { col } = await setup();
        const seen = [await col.collectionTag!()];
        const item = makeItem(firstType);
        const w = await col.upload!(item);
        await flush(col);
        seen.push(await col.collectionTag!());
        const u = await col.update!(w.href, makeItem(firstType, item.uid), await etagOf(col, w.href, w.etag));
        await flush(col);
        seen.push(await col.collectionTag!());
        await col.delete!(w.href, await etagOf(col, w.href, u.etag));
        await flush(col);
        seen.push(await col.collectionTag!());
        for (let i = 1; i < seen.length; i++) {
          expect(seen[i], `tag after write ${i}`).toBeDefined();
          expect(seen[i], `tag after write ${i}`).not.toBe(seen[i - 1]);
        }
      });
    });
  }
}
