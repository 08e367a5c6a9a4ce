import { randomUUID } from "node:crypto";
import {
  type Capabilities,
  type CollectionInfo,
  type ErrorCode,
  type FetchedItem,
  type Item,
  type ItemFailure,
  type ItemRef,
  isVdirsyncerError,
  META_KEYS,
  type MetaKey,
  type ReadableCollection,
  type Storage,
  type StorageContext,
  type StorageDefinition,
  type WritableCollection,
} from "@vdirsyncer/core";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { removeFreshDirs } from "./fresh-dir.ts";
import { type ItemType, itemTypesFor, makeItem, makeRecurringEvent } from "./items.ts";
import { normalizeForCompare } from "./normalize.ts";

/** How {@link describeStorage} runs a storage. */
export interface DescribeStorageOptions<O> {
  /**
   * Returns the options of a fresh, empty location (a new temp dir, a new server collection…). Called once per
   * test; the result goes through the definition's options schema, so defaults apply as in a config file.
   */
  options: () => Partial<O> | O | Promise<Partial<O> | O>;
  /**
   * Tests this storage is known to fail, by test name (or `"<group> > <test name>"`), with the reason. They still
   * run, as expected failures: when one starts passing, the run fails until it is removed from this list.
   */
  knownFailures?: Readonly<Record<string, string>>;
  /** The item types to test. @default VEVENT and VTODO for calendars, VCARD for address books */
  kinds?: readonly ItemType[];
  /** The name of the top-level `describe` block. @default the definition's `type` */
  name?: string;
  /** Overrides for the {@link StorageContext} handed to `create()`. */
  context?: Partial<StorageContext>;
  /**
   * Read-only storages only: returns the options of a location that already holds `items` (e.g. a feed served
   * from a temp dir). Without it, read-only storages are only checked on an empty location.
   */
  seed?: (items: readonly Item[]) => Partial<O> | O | Promise<Partial<O> | O>;
}

type AnyCollection = ReadableCollection & Partial<WritableCollection>;

/** What each test works on: a storage made from fresh options and one collection in it. */
interface Fixture<O> {
  options: O;
  storage: Storage<AnyCollection>;
  info: CollectionInfo | null;
  col: AnyCollection;
}

const READ_ONLY_WRITES = ["upload", "update", "delete", "setMeta"] as const;

/**
 * Registers the conformance suite for a storage definition as vitest `describe`/`it` blocks.
 *
 * Every test gets a fresh location from `options()`, a storage from `create()`, and a fresh collection
 * (`createCollection()` with a random id when supported, else `open(null)`). Groups are chosen from the
 * definition's `capabilities` and `itemKinds`. Call it at the top level of a test file.
 */
export function describeStorage<O, C extends Capabilities>(
  definition: StorageDefinition<O, C>,
  config: DescribeStorageOptions<O>,
): void {
  const caps: Capabilities = definition.capabilities;
  const types = [...(config.kinds ?? itemTypesFor(definition.itemKinds))];
  const firstType: ItemType = types[0] ?? "VEVENT";
  const known = config.knownFailures ?? {};
  const usedKnown = new Set<string>();
  const groupPath: string[] = [];

  const context: StorageContext = {
    instance: config.name ?? definition.type,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    fetch: globalThis.fetch,
    signal: new AbortController().signal,
    ...config.context,
  };

  /** Registers one test; a known failure runs as `it.fails`. */
  const test = (title: string, fn: () => Promise<void>): void => {
    const full = [...groupPath, title].join(" > ");
    const key = title in known ? title : full in known ? full : undefined;
    if (key !== undefined) {
      usedKnown.add(key);
      it.fails(`${title} [known failure: ${known[key]}]`, fn);
    } else {
      it(title, fn);
    }
  };
  const group = (title: string, fn: () => void): void => {
    describe(title, () => {
      groupPath.push(title);
      try {
        fn();
      } finally {
        groupPath.pop();
      }
    });
  };

  const validate = async (raw: unknown): Promise<O> => {
    const result = await definition.options["~standard"].validate(raw);
    if (result.issues !== undefined) {
      const problems = result.issues.map((i) => `${(i.path ?? []).map(String).join(".")}: ${i.message}`);
      throw new Error(`options() returned options the schema rejects: ${problems.join("; ")}`);
    }
    return result.value;
  };

  const open = async (options: O, collectionId?: string): Promise<Fixture<O>> => {
    const storage = (await definition.create(options, context)) as Storage<AnyCollection>;
    onTestFinished(async () => {
      await storage.close?.();
    });
    let info: CollectionInfo | null = null;
    if (caps.createCollection && storage.createCollection !== undefined) {
      info = await storage.createCollection(collectionId ?? `test-${randomUUID()}`);
    }
    const col = await storage.open(info);
    return { options, storage, info, col };
  };

  /** A fresh location, storage and collection. */
  const setup = async (collectionId?: string): Promise<Fixture<O>> =>
    open(await validate(await config.options()), collectionId);

  /** Re-opens the fixture's collection through a new `create()` with the same options. */
  const reopen = async (fx: Fixture<O>): Promise<AnyCollection> => {
    const storage = (await definition.create(fx.options, context)) as Storage<AnyCollection>;
    onTestFinished(async () => {
      await storage.close?.();
    });
    return storage.open(fx.info);
  };

  describe(config.name ?? `${definition.type} storage conformance`, () => {
    afterAll(removeFreshDirs);

    group("contract", () => {
      test("the definition is stamped with apiVersion 1 and frozen", async () => {
        expect(definition.apiVersion).toBe(1);
        expect(definition.type).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(definition.itemKinds.length).toBeGreaterThan(0);
        expect(Object.isFrozen(definition)).toBe(true);
        expect(Object.isFrozen(definition.capabilities)).toBe(true);
      });

      test("the storage has discover() and createCollection() exactly when declared", async () => {
        const { storage } = await setup();
        expect(typeof storage.open).toBe("function");
        expect(typeof storage.discover === "function", "discover() present").toBe(caps.discover);
        expect(typeof storage.createCollection === "function", "createCollection() present").toBe(
          caps.createCollection,
        );
      });

      test("the collection has getMany(), changes(), collectionTag() and getMeta() exactly when declared", async () => {
        const { col } = await setup();
        expect(typeof col.list).toBe("function");
        expect(typeof col.get).toBe("function");
        expect(typeof col.getMany === "function", "getMany() present").toBe(caps.batchGet);
        expect(typeof col.changes === "function", "changes() present").toBe(caps.syncToken);
        expect(typeof col.collectionTag === "function", "collectionTag() present").toBe(caps.ctag);
        expect(typeof col.getMeta === "function", "getMeta() present").toBe(caps.metadata.length > 0);
      });

      if (!caps.readOnly) {
        test("the collection has upload(), update(), delete(), and setMeta() exactly with metadata", async () => {
          const { col } = await setup();
          expect(typeof col.upload).toBe("function");
          expect(typeof col.update).toBe("function");
          expect(typeof col.delete).toBe("function");
          expect(typeof col.setMeta === "function", "setMeta() present").toBe(caps.metadata.length > 0);
        });

        test("list() of a fresh collection yields nothing", async () => {
          const { col } = await setup();
          expect(await collect(col.list())).toEqual([]);
        });
      }

      test("get() of an unknown href throws NotFoundError", async () => {
        const { col } = await setup();
        await expectError(col.get(`nonexisting-${randomUUID()}`), "NOT_FOUND");
      });

      if (caps.batchGet) {
        test("getMany([]) yields nothing", async () => {
          const { col } = await setup();
          expect(await collect(col.getMany!([]))).toEqual([]);
        });

        test("getMany() of an unknown href throws NotFoundError or reports it as a NOT_FOUND failure", async () => {
          const { col } = await setup();
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

      if (caps.readOnly) {
        test("write methods, when present, throw ReadOnlyError", async () => {
          const { col } = await setup();
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
      }

      if (caps.readOnly && config.seed !== undefined) {
        const seed = config.seed;
        const seeded = async (): Promise<{ col: AnyCollection; items: Item[] }> => {
          const items = [makeItem(firstType), makeItem(firstType), makeItem(firstType)];
          const fx = await open(await validate(await seed(items)));
          return { col: fx.col, items };
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
    });

    if (caps.readOnly) {
      finish();
      return;
    }

    for (const type of types) {
      group(`${type} items`, () => {
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

        const oddUids: [string, string | null][] = [
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
        for (const [label, uid] of oddUids) {
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

    group("persistence", () => {
      test("a new create() with the same options sees the writes (after flush())", async () => {
        const fx = await setup();
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

        const again = await reopen(fx);
        const listed = sortRefs(await collect(again.list()));
        expect(listed).toEqual(listedBefore);
        expect(listed.map((r) => r.href).sort()).toEqual([kept.href, changed.href].sort());
        expectSameItem((await again.get(kept.href)).item, keep);
        const got = await again.get(changed.href);
        expectSameItem(got.item, replacement);
        if (newEtag !== undefined) expect(got.etag).toBe(newEtag);
      });
    });

    if (caps.createCollection) {
      group("collections", () => {
        test("createCollection() returns a collection that open() can write and list", async () => {
          const { storage } = await setup();
          const info = await storage.createCollection!("test");
          expect(info.id).toBe("test");
          const col = await storage.open(info);
          const written = await col.upload!(makeItem(firstType));
          await flush(col);
          expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
        });

        test('createCollection() accepts the id "test @ foo ät bar" and its items round-trip', async () => {
          const { col } = await setup("test @ foo ät bar");
          const item = makeItem(firstType, "test @ foo ät bar град сатану");
          const written = await col.upload!(item);
          await flush(col);
          const etag = await etagOf(col, written.href, written.etag);
          expect(await collect(col.list())).toEqual([{ href: written.href, etag }]);
          const got = await col.get(written.href);
          expect(got.etag).toBe(etag);
          expectSameItem(got.item, item);
        });

        if (caps.discover) {
          test("discover() yields at least the collections createCollection() made, each once", async () => {
            const { storage } = await setup();
            const made = new Map<string, string>();
            for (const id of ["test1", "test2", "test3", "test4"]) {
              const info = await storage.createCollection!(id);
              const col = await storage.open(info);
              const written = await col.upload!(makeItem(firstType));
              await flush(col);
              made.set(id, written.href);
            }
            const found = await collect(storage.discover!());
            expectUnique(
              found.map((f) => f.href),
              "discover() yielded a collection href twice",
            );
            for (const [id, href] of made) {
              const info = found.find((f) => f.id === id);
              expect(info, `discover() did not yield collection ${id}`).toBeDefined();
              const col = await storage.open(info!);
              expect((await collect(col.list())).map((r) => r.href)).toEqual([href]);
            }
          });
        }
      });
    }

    if (caps.metadata.length > 0) {
      const supported = caps.metadata;
      const pick = (preferred: MetaKey): MetaKey =>
        supported.includes(preferred) ? preferred : supported[0]!;
      group("metadata", () => {
        test("getMeta() of a fresh collection returns undefined", async () => {
          const { col } = await setup();
          for (const key of supported) expect(await col.getMeta!(key), key).toBeUndefined();
        });

        test("setMeta() round-trips a color, and setMeta(undefined) removes it", async () => {
          const { col } = await setup();
          const key = pick("color");
          await col.setMeta!(key, undefined);
          await flush(col);
          expect(await col.getMeta!(key)).toBeUndefined();
          await col.setMeta!(key, "#ff0000");
          await flush(col);
          expect(await col.getMeta!(key)).toBe("#ff0000");
          await col.setMeta!(key, undefined);
          await flush(col);
          expect(await col.getMeta!(key)).toBeUndefined();
        });

        test('setMeta() round-trips the non-ASCII displayname "hello wörld"', async () => {
          const { col } = await setup();
          const key = pick("displayname");
          await col.setMeta!(key, "hello wörld");
          await flush(col);
          expect(await col.getMeta!(key)).toBe("hello wörld");
        });

        test("getMeta() returns what setMeta() wrote, normalised", async () => {
          const { col } = await setup();
          const key = pick("displayname");
          const values = [
            undefined,
            "",
            "Hello there!",
            "Österreich",
            "中国",
            "한글",
            randomUUID(),
            "فلسطين",
            "  padded  ",
          ];
          for (const value of values) {
            await col.setMeta!(key, value);
            await flush(col);
            const got = await col.getMeta!(key);
            // An empty value and an absent one are the same to metasync; storages may return either.
            const want = value?.trim();
            if (want === "" || want === undefined) expect(got ?? "", JSON.stringify(value)).toBe(want ?? "");
            else expect(got, JSON.stringify(value)).toBe(want);
          }
        });

        const unsupported = META_KEYS.filter((k) => !supported.includes(k));
        if (unsupported.length > 0) {
          test("getMeta() and setMeta() of an undeclared key throw UnsupportedError", async () => {
            const { col } = await setup();
            for (const key of unsupported) {
              await expectError(col.getMeta!(key), "UNSUPPORTED", `getMeta(${key})`);
              await expectError(col.setMeta!(key, "x"), "UNSUPPORTED", `setMeta(${key})`);
            }
          });
        }
      });
    }

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
          const u = await col.update!(
            w.href,
            makeItem(firstType, item.uid),
            await etagOf(col, w.href, w.etag),
          );
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

    finish();
  });

  /** The last test: every knownFailures key must name a test, so typos and stale entries do not linger. */
  function finish(): void {
    test("knownFailures names only tests of this suite", async () => {
      const stale = Object.keys(known).filter((k) => !usedKnown.has(k));
      expect(stale, "knownFailures entries that match no test").toEqual([]);
    });
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** Makes buffered writes durable when the collection buffers (singlefile). */
async function flush(col: AnyCollection): Promise<void> {
  await col.flush?.();
}

/** The etag a write returned, or the current one when the backend did not say. */
async function etagOf(col: AnyCollection, href: string, etag: string | undefined): Promise<string> {
  if (etag !== undefined) {
    expect(typeof etag).toBe("string");
    return etag;
  }
  return (await col.get(href)).etag;
}

function fetchedOnly(results: (FetchedItem | ItemFailure)[]): FetchedItem[] {
  return results.map((r) => {
    if ("error" in r) throw new Error(`getMany() could not read ${r.href}: ${r.error.message}`);
    return r;
  });
}

function sortRefs(refs: readonly ItemRef[]): ItemRef[] {
  return [...refs]
    .map((r) => ({ href: r.href, etag: r.etag }))
    .sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
}

function expectUnique(values: readonly string[], message: string): void {
  const dupes = values.filter((v, i) => values.indexOf(v) !== i);
  expect(dupes, message).toEqual([]);
}

function expectUniqueHrefs(refs: readonly ItemRef[]): void {
  expectUnique(
    refs.map((r) => r.href),
    "list() yielded an href twice",
  );
}

/** Equal after vdirsyncer's normalisation (the `Item.hash`); on failure, shows a readable diff. */
function expectSameItem(got: Item, want: Item): void {
  if (got.hash !== want.hash) {
    expect(normalizeForCompare(got), "the stored item differs from the uploaded one").toBe(
      normalizeForCompare(want),
    );
    expect(got.hash, "the stored item's hash differs from the uploaded one").toBe(want.hash);
  }
}

/** Awaits `promise` and checks that it rejected with a vdirsyncer error of `code`. */
async function expectError(promise: Promise<unknown>, code: ErrorCode, what?: string): Promise<void> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const label = what === undefined ? "" : `${what}: `;
  if (outcome.ok) expect.fail(`${label}expected an error with code ${code}, but the call succeeded`);
  const { error } = outcome;
  const actual = isVdirsyncerError(error) ? error.code : String(error);
  expect(actual, `${label}expected an error with code ${code}`).toBe(code);
}
