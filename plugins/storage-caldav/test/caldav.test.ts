/**
 * Ports of vdirsyncer's CalDAV and DAV storage tests (tests/storage/dav/test_caldav.py, dav/__init__.py),
 * run against real Radicale and Xandikos.
 */
import { randomUUID } from "node:crypto";
import {
  type CollectionInfo,
  type CollectionRef,
  Item,
  type ItemRef,
  isVdirsyncerError,
  type Storage,
  type StorageContext,
  type WritableCollection,
} from "@vdirsyncer/core";
import { makeCard, makeEvent, makeTodo } from "@vdirsyncer/storage-test-suite";
import { type ServerCase, serverCases, testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it, onTestFinished } from "vitest";
import { createCaldavStorage } from "../src/caldav.ts";
import { CaldavOptions } from "../src/options.ts";

const ctx: StorageContext = {
  instance: "caldav-test",
  log: { debug() {}, info() {}, warn() {}, error() {} },
  stats: { add() {} },
  signal: new AbortController().signal,
};
const OPEN = { signal: new AbortController().signal, stats: { add() {} } };

/** What a host keeps of a collection: its id and config after a JSON round trip, never its href. */
const cached = (info: CollectionInfo): CollectionRef =>
  JSON.parse(JSON.stringify({ id: info.id, config: info.config })) as CollectionRef;

interface Request {
  method: string;
  url: string;
  status: number;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const hrefsOf = (refs: readonly ItemRef[]) => refs.map((r) => r.href).sort();

/** A storage built from config-shaped options through the schema, recording every request it sends. */
async function storageFor(
  server: ServerCase,
  extra: Record<string, unknown> = {},
): Promise<{ storage: Storage<WritableCollection>; requests: Request[] }> {
  const checked = await CaldavOptions["~standard"].validate({ ...server.options, ...extra });
  if (checked.issues) throw new Error(checked.issues.map((i) => i.message).join("; "));
  const requests: Request[] = [];
  const storage = createCaldavStorage(checked.value, ctx, {
    onRequest: ({ method, url, status }) => requests.push({ method, url, status }),
  });
  onTestFinished(async () => {
    await storage.close?.();
  });
  return { storage, requests };
}

/** A fresh calendar on the server, and an unfiltered collection on it. */
async function freshCalendar(server: ServerCase): Promise<{ info: CollectionInfo; col: WritableCollection }> {
  const { storage } = await storageFor(server);
  const info = await storage.createCollection!(`caldav-test-${randomUUID()}`);
  return { info, col: await storage.open(cached(info), OPEN) };
}

/** The same calendar opened through a storage with extra options (filters). */
async function reopen(server: ServerCase, info: CollectionInfo, extra: Record<string, unknown>) {
  const { storage, requests } = await storageFor(server, extra);
  return { col: await storage.open(cached(info), OPEN), requests };
}

function eventAt(dtstart: string, dtend: string): Item {
  return new Item(
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//hacksw/handcal//NONSGML v1.0//EN",
      "BEGIN:VEVENT",
      `DTSTART:${dtstart}`,
      `DTEND:${dtend}`,
      `SUMMARY:range ${dtstart}`,
      `UID:${randomUUID()}`,
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );
}

for (const server of serverCases()) {
  describe(`caldav on ${server.name}`, () => {
    it("list() with item_types does not show a VCARD (test_doesnt_accept_vcard)", async () => {
      for (const types of [["VEVENT"], ["VTODO"]]) {
        const { info } = await freshCalendar(server);
        const { col } = await reopen(server, info, { item_types: types });
        // Most servers refuse a vCard in a calendar; the point is that it is never listed as an event or task.
        await col.upload(makeCard()).catch(() => undefined);
        expect(await collect(col.list())).toEqual([]);
      }
    });

    it("list() filters by item_types: VTODO, VEVENT, both, none (test_item_types_general)", async () => {
      const { info, col } = await freshCalendar(server);
      const event = await col.upload(makeEvent());
      const todo = await col.upload(makeTodo());
      const cases: [string[], string[]][] = [
        [["VTODO"], [todo.href]],
        [["VEVENT"], [event.href]],
        [
          ["VTODO", "VEVENT"],
          [todo.href, event.href],
        ],
        [[], [todo.href, event.href]],
      ];
      for (const [types, expected] of cases) {
        const { col: filtered } = await reopen(server, info, { item_types: types });
        expect(hrefsOf(await collect(filtered.list())), JSON.stringify(types)).toEqual([...expected].sort());
      }
    });

    it("list() sends one REPORT per item type, and one PROPFIND without (test_item_types_performance)", async () => {
      const { info, col } = await freshCalendar(server);
      await col.upload(makeEvent());
      await col.upload(makeTodo());
      const cases: [string[], string, number][] = [
        [["VTODO"], "REPORT", 1],
        [["VEVENT"], "REPORT", 1],
        [["VTODO", "VEVENT"], "REPORT", 2],
        [["VTODO", "VEVENT", "VJOURNAL"], "REPORT", 3],
        // Without a filter: a PROPFIND, or one query with all data on a server answering HTTP/1.0 (Radicale).
        [[], server.name === "radicale" ? "REPORT" : "PROPFIND", 1],
      ];
      for (const [types, method, count] of cases) {
        const { col: filtered, requests } = await reopen(server, info, { item_types: types });
        requests.length = 0;
        await collect(filtered.list());
        const label = JSON.stringify(types);
        expect(
          requests.map((r) => r.method),
          label,
        ).toEqual([
          // The session asks the server's DAV classes once (OPTIONS) when no answer has shown them yet.
          ...(requests[0]?.method === "OPTIONS" ? ["OPTIONS"] : []),
          ...Array.from({ length: count }, () => method),
        ]);
      }
    });

    it("list() with start_date/end_date shows only the event inside 2013-09-10..13 (test_timerange_correctness)", async () => {
      const { info, col } = await freshCalendar(server);
      const { col: ranged, requests } = await reopen(server, info, {
        start_date: "datetime(2013, 9, 10)",
        end_date: "datetime(2013, 9, 13)",
      });
      await col.upload(eventAt("19970714T170000Z", "19970715T035959Z"));
      await col.upload(eventAt("20150714T170000Z", "20150715T035959Z"));
      const good = await ranged.upload(eventAt("20130911T170000Z", "20130911T235959Z"));
      requests.length = 0;
      expect(hrefsOf(await collect(ranged.list()))).toEqual([good.href]);
      // With dates but no item_types, vdirsyncer asks for VTODO and VEVENT (not VJOURNAL).
      expect(requests.map((r) => r.method)).toEqual(["REPORT", "REPORT"]);
    });

    it("changes() refuses to report deltas while a filter is set, so the engine lists in full", async () => {
      const { info } = await freshCalendar(server);
      for (const extra of [
        { item_types: ["VEVENT"] },
        {
          start_date: "datetime.now() - timedelta(days=30)",
          end_date: "datetime.now() + timedelta(days=30)",
        },
      ]) {
        const { col } = await reopen(server, info, extra);
        const error = await col.changes!(undefined).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isVdirsyncerError(error, "UNSUPPORTED"), JSON.stringify(extra)).toBe(true);
      }
    });

    it("upload() of a broken item fails and nothing is listed (test_dav_broken_item)", async () => {
      const { col } = await freshCalendar(server);
      await expect(col.upload(new Item("HAHA:YES"))).rejects.toThrow();
      expect(await collect(col.list())).toEqual([]);
    });

    it("getMany([]) sends no request (test_dav_empty_get_multi_performance)", async () => {
      const { storage, requests } = await storageFor(server);
      const info = await storage.createCollection!(`caldav-test-${randomUUID()}`);
      const col = await storage.open(cached(info), OPEN);
      requests.length = 0;
      expect(await collect(col.getMany!([]))).toEqual([]);
      expect(requests).toEqual([]);
    });

    it("an item at a Cyrillic href round-trips through list(), get(), update() and delete() (test_dav_unicode_href)", async () => {
      const { storage } = await storageFor(server);
      const info = await storage.createCollection!(`caldav-test-${randomUUID()}`);
      const col = await storage.open(cached(info), OPEN);
      // Our uploads never generate such an href (non-safe UIDs get a uuid4 name), so another client puts it there.
      const uid = `град сатану ${randomUUID()}`;
      const item = makeEvent(uid);
      const target = new URL(
        `${encodeURIComponent(uid)}.ics`,
        info.href.endsWith("/") ? info.href : `${info.href}/`,
      );
      const auth =
        server.options.username === undefined
          ? {}
          : {
              authorization: `Basic ${Buffer.from(`${server.options.username}:${server.options.password}`).toString("base64")}`,
            };
      const put = await fetch(target, {
        method: "PUT",
        headers: { "content-type": "text/calendar; charset=utf-8", ...auth },
        body: item.raw,
      });
      expect(put.status, await put.text()).toBeLessThan(300);
      const listed = await collect(col.list());
      expect(listed).toHaveLength(1);
      const [ref] = listed as [ItemRef];
      expect(decodeURIComponent(ref.href)).toContain("град сатану");
      const got = await col.get(ref.href);
      expect(got.etag).toBe(ref.etag);
      expect(got.item.uid).toBe(uid);
      const updated = await col.update(ref.href, makeEvent(uid), ref.etag);
      const etag = updated.etag ?? (await col.get(ref.href)).etag;
      await col.delete(ref.href, etag);
      expect(await collect(col.list())).toEqual([]);
    });

    it("open(null) uses the configured url as the calendar", async () => {
      const { info, col } = await freshCalendar(server);
      const written = await col.upload(makeEvent());
      const { storage } = await storageFor(server, { url: info.href });
      expect(hrefsOf(await collect((await storage.open(null, OPEN)).list()))).toEqual([written.href]);
    });

    it("open(ref) takes the url of ref.config, the configured url when the key is absent, never the href", async () => {
      const { info, col } = await freshCalendar(server);
      const written = await col.upload(makeEvent());
      // A config without url (the cache leaves out keys equal to the section's) means the configured url.
      const { storage } = await storageFor(server, { url: info.href });
      const fromSection = await storage.open({ id: info.id, config: {} }, OPEN);
      expect(hrefsOf(await collect(fromSection.list()))).toEqual([written.href]);
      // The href is for messages only: a ref carrying a wrong one still opens its config's url.
      const { storage: account } = await storageFor(server);
      const bogus = { ...info, href: `${server.options.url}nowhere/` };
      expect(hrefsOf(await collect((await account.open(bogus, OPEN)).list()))).toEqual([written.href]);
      // Filters in the config are merged over the section's options.
      const filtered = await account.open(
        { id: info.id, config: { url: info.href, item_types: ["VTODO"] } },
        OPEN,
      );
      expect(await collect(filtered.list())).toEqual([]);
    });

    it("open() of a missing calendar sends nothing; its first call throws CollectionNotFoundError", async () => {
      const { storage, requests } = await storageFor(server);
      const missing = `${testServers()[server.name].homes.calendar}missing-${randomUUID()}/`;
      const col = await storage.open({ id: "missing", config: { url: missing } }, OPEN);
      expect(requests).toEqual([]);
      await expect(col.collectionTag?.()).rejects.toSatisfy((e) =>
        isVdirsyncerError(e, "COLLECTION_NOT_FOUND"),
      );
      await expect(collect(col.list())).rejects.toSatisfy((e) =>
        isVdirsyncerError(e, "COLLECTION_NOT_FOUND"),
      );
    });
  });
}
