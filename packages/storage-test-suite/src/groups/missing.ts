/**
 * The missing collections group, when `createCollection` is declared: one rule for a location that does not
 * exist, for a ref and for `null`. `open()` throws CollectionNotFoundError (or the first call does, when the
 * storage cannot tell cheaply), creates nothing, and `createCollection()` is what makes it exist.
 */
import { randomUUID } from "node:crypto";
import type { CollectionRef, JsonValue } from "@vdirsyncer/core";
import { expect } from "vitest";
import { cachedRef, collect, expectMissing, flush } from "../expect.ts";
import type { Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

/**
 * The default way to build the ref of a collection never created: the created one's ref with its id replaced in
 * every string of the config (a path or URL that names the collection). `undefined` when the config does not
 * name the id, so that a storage which keeps its collections elsewhere passes `neverCreated` instead.
 */
export function replaceCollectionId(created: CollectionRef, id: string): CollectionRef | undefined {
  let replaced = false;
  const swap = (value: JsonValue): JsonValue => {
    if (typeof value === "string" && value.includes(created.id)) {
      replaced = true;
      return value.split(created.id).join(id);
    }
    if (Array.isArray(value)) return value.map(swap);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v)]));
    }
    return value;
  };
  const config = swap(created.config as JsonValue) as Record<string, JsonValue>;
  if (!replaced && Object.keys(created.config).length > 0) return undefined;
  return { id, config };
}

export function missingGroup<O>(suite: Suite<O>): void {
  const { caps, config, firstType, test } = suite;
  suite.group("missing collections", () => {
    test("open() of a collection never created throws CollectionNotFoundError until createCollection() makes it", async () => {
      const location = await suite.location();
      const inst = await suite.instance(location);
      const tag = randomUUID().replaceAll("-", "").slice(0, 12);
      const probe = cachedRef(await inst.hosted.createCollection(`probe${tag}`), location.raw);
      const neverId = `never${tag}`;
      const ref = config.neverCreated
        ? config.neverCreated(probe, neverId)
        : replaceCollectionId(probe, neverId);
      if (ref === undefined) {
        expect.fail(
          `The config of a created collection (${JSON.stringify(probe)}) does not name its id, so the suite cannot ` +
            "build the ref of a collection that was never created: pass `neverCreated` to describeStorage().",
        );
      }
      const what = `open(${JSON.stringify(ref)})`;
      await expectMissing(() => inst.hosted.open(ref), what);
      await expectMissing(() => inst.hosted.open(ref), `${what} a second time (open() must create nothing)`);
      if (caps.discover) {
        const ids = (await collect(inst.hosted.discover())).map((info) => info.id);
        expect(ids, "discover() after open() of a missing collection").not.toContain(neverId);
      }
      const made = await inst.hosted.createCollection(neverId);
      expect(made.id).toBe(neverId);
      const col = await inst.hosted.open(cachedRef(made, location.raw));
      expect(await collect(col.list())).toEqual([]);
    });

    if (config.missingLocation === false) return;
    const missing = config.missingLocation ?? config.options;
    test("open(null) of a location that does not exist throws CollectionNotFoundError until createCollection(null) makes it", async () => {
      const location = await suite.validate(await missing());
      const inst = await suite.instance(location);
      const duty =
        config.missingLocation === undefined
          ? " (With createCollection declared, options() must return a location that does not exist yet.)"
          : "";
      await expectMissing(() => inst.hosted.open(null), `open(null) of a fresh location${duty}`);
      await expectMissing(
        () => inst.hosted.open(null),
        "open(null) a second time (open() must create nothing)",
      );
      await inst.hosted.createCollection(null);
      const col = await inst.hosted.open(null);
      expect(await collect(col.list())).toEqual([]);
      const written = await col.upload!(makeItem(firstType));
      await flush(col);
      expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
      if (suite.persistent) {
        const later = await suite.instance(await suite.validate(location.raw as O));
        const again = await later.hosted.open(null);
        expect((await collect(again.list())).map((r) => r.href)).toEqual([written.href]);
      }
    });
  });
}
