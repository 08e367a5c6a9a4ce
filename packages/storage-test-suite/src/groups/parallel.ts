/**
 * The parallel writes group: the host runs as many calls at once on one instance as `capabilities.concurrency`
 * declares (one when undeclared), so the suite writes at three times that level, at least 12 calls at once,
 * and checks that no write is lost. A storage that reads, changes and rewrites one file per write is only safe
 * at the default of one call at a time; declaring more must fail here.
 */
import type { Item } from "@vdirsyncer/core";
import type { HostedCollection } from "@vdirsyncer/core/engine";
import { expect } from "vitest";
import { collect, etagOf, expectSameItem, expectUniqueHrefs, flush } from "../expect.ts";
import { randomCollectionId, type Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

/** How many writes the suite starts at once for a storage that allows `concurrency` calls at once. */
export function parallelWrites(concurrency: number): number {
  return Math.max(12, 3 * concurrency);
}

export function parallelGroup<O>(suite: Suite<O>): void {
  const { caps, firstType, test } = suite;
  const n = parallelWrites(suite.concurrency);
  suite.group("parallel writes", () => {
    test(`${n} parallel upload(), then update(), then delete() calls through the host lose no write`, async () => {
      const { col } = await suite.setup();
      const items = Array.from({ length: n }, () => makeItem(firstType));
      const uploaded = await Promise.all(items.map((item) => col.upload!(item)));
      await flush(col);
      const current = new Map<string, { etag: string; item: Item }>();
      for (const [i, w] of uploaded.entries()) {
        current.set(w.href, { etag: await etagOf(col, w.href, w.etag), item: items[i]! });
      }
      await expectListing(col, current, `after ${n} parallel uploads`);

      const replaced = await Promise.all(
        [...current].map(async ([href, { etag, item }]) => {
          const next = makeItem(firstType, item.uid);
          const written = await col.update!(href, next, etag);
          return [href, next, written.etag] as const;
        }),
      );
      await flush(col);
      for (const [href, item, etag] of replaced) {
        current.set(href, { etag: await etagOf(col, href, etag), item });
      }
      await expectListing(col, current, `after ${n} parallel updates`);

      await Promise.all([...current].map(([href, { etag }]) => col.delete!(href, etag)));
      await flush(col);
      expect(await collect(col.list()), `after ${n} parallel deletes`).toEqual([]);
    });

    if (caps.createCollection) {
      test(`two collections of one instance written in parallel (${n} uploads) keep their items apart`, async () => {
        const fx = await suite.setup();
        const info = await fx.hosted.createCollection(randomCollectionId("other"));
        const other = await suite.open(fx, fx.location, info);
        const cols = [fx.col, other];
        const items = cols.map(() => Array.from({ length: Math.ceil(n / 2) }, () => makeItem(firstType)));
        // Interleaved: each collection's uploads alternate with the other's.
        const written = await Promise.all(
          items[0]!.flatMap((_, i) =>
            cols.map(async (col, c) => ({
              c,
              item: items[c]![i]!,
              written: await col.upload!(items[c]![i]!),
            })),
          ),
        );
        await Promise.all(cols.map((col) => flush(col)));
        for (const [c, col] of cols.entries()) {
          const mine = new Map<string, { etag: string; item: Item }>();
          for (const w of written.filter((x) => x.c === c)) {
            mine.set(w.written.href, {
              etag: await etagOf(col, w.written.href, w.written.etag),
              item: w.item,
            });
          }
          await expectListing(col, mine, `collection ${c + 1} of 2`);
        }
      });
    }
  });
}

/** The collection lists exactly `want` (href → etag) and `get()` returns each item. */
async function expectListing(
  col: HostedCollection,
  want: ReadonlyMap<string, { etag: string; item: Item }>,
  when: string,
): Promise<void> {
  const listed = await collect(col.list());
  expectUniqueHrefs(listed);
  const missing = [...want.keys()].filter((href) => !listed.some((r) => r.href === href));
  expect(missing, `${when}: ${missing.length} of ${want.size} written items are not listed`).toEqual([]);
  expect(listed.length, `${when}: items listed`).toBe(want.size);
  for (const ref of listed) expect(ref.etag, `${when}: etag of ${ref.href}`).toBe(want.get(ref.href)!.etag);
  const got = await Promise.all(listed.map((r) => col.get(r.href)));
  for (const g of got) expectSameItem(g.item, want.get(g.href)!.item, `${when}: ${g.href}`);
}
