import { Item, isVdirsyncerError, splitCollection } from "@vdirsyncer/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { googleStyleFeed, holidaysWithoutUids, largeFeed, vcardFeed } from "./feeds.ts";
import { collect, hrefsOf, openFeed } from "./helpers.ts";

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

/** A DTSTAMP one second later on every request, as Google's ICS links do (vdirsyncer #984). */
function restamping(make: (now: Date) => string): () => string {
  let t = Date.UTC(2024, 0, 1);
  return () => {
    t += 1000;
    return make(new Date(t));
  };
}

describe("list()", () => {
  it("splits a Google-style feed: series with its override, VALARM, both VTIMEZONEs, METHOD dropped", async () => {
    server.route("/google.ics", serveFeed(restamping(googleStyleFeed)));
    const { col, close } = await openFeed({ url: server.url("/google.ics") });
    const refs = await collect(col.list());
    expect(refs).toHaveLength(4);
    const items = await Promise.all(refs.map(async (r) => (await col.get(r.href)).item));
    for (const [i, item] of items.entries()) {
      const ref = refs[i]!;
      // href = etag = the content hash, and the UID is that hash too (vdirsyncer's with_uid(hash)).
      expect(ref.etag).toBe(ref.href);
      expect(item.hash).toBe(ref.href);
      expect(item.uid).toBe(ref.href);
      expect(item.raw).not.toContain("METHOD:");
      expect(item.raw).toContain("PRODID:-//Google Inc//Google Calendar 70.9054//EN");
      expect(item.raw).toContain("TZID:Europe/Berlin");
      expect(item.raw).toContain("TZID:America/New_York");
      expect(item.raw).not.toMatch(/UID:(weekly-training|call-ny|maifest)/);
    }
    const series = items.find((i) => i.raw.includes("SUMMARY:Training\r\n"));
    expect(series?.raw).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20240115T190000");
    expect(series?.raw.match(/^BEGIN:VEVENT$/gm)).toHaveLength(2);
    // Both components of the series carry the same (hash) UID, so they stay one event with one exception.
    expect(series?.raw.match(/^UID:/gm)).toHaveLength(2);
    const call = items.find((i) => i.raw.includes("New York office"));
    expect(call?.raw).toContain("BEGIN:VALARM");
    expect(items.some((i) => i.raw.includes("SUMMARY:Maifest 🎉"))).toBe(true);
    await close();
  });

  it("gives the same hrefs and etags on every listing although DTSTAMP changes on every GET", async () => {
    server.route("/restamp.ics", serveFeed(restamping(googleStyleFeed)));
    const { col, close } = await openFeed({ url: server.url("/restamp.ics") });
    const first = await collect(col.list());
    const second = await collect(col.list());
    expect(server.seen("/restamp.ics")).toHaveLength(2);
    expect(second).toEqual(first);
    await close();
  });

  it("gives events without UID a hash UID each, stable across listings", async () => {
    server.route("/holidays.ics", serveFeed(restamping(holidaysWithoutUids)));
    const { col, close } = await openFeed({ url: server.url("/holidays.ics") });
    const first = await collect(col.list());
    expect(first).toHaveLength(3);
    for (const ref of first) expect((await col.get(ref.href)).item.uid).toBe(ref.href);
    expect(hrefsOf(await collect(col.list()))).toEqual(hrefsOf(first));
    await close();
  });

  it("keeps one item when two events have the same content (a later duplicate replaces the earlier)", async () => {
    const twice = holidaysWithoutUids().replace(
      "END:VCALENDAR",
      "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\nSUMMARY:Neujahr\nEND:VEVENT\nEND:VCALENDAR",
    );
    server.route(
      "/dupes.ics",
      serveFeed(() => twice),
    );
    const { col, close } = await openFeed({ url: server.url("/dupes.ics") });
    expect(await collect(col.list())).toHaveLength(3);
    await close();
  });

  it("lists a 10,000-event feed, each event once, with its VTIMEZONE", async () => {
    const body = largeFeed(10_000);
    server.route(
      "/big.ics",
      serveFeed(() => body),
    );
    const { col, close } = await openFeed({ url: server.url("/big.ics") });
    const refs = await collect(col.list());
    expect(refs).toHaveLength(10_000);
    expect(new Set(refs.map((r) => r.href)).size).toBe(10_000);
    const some = await col.get(refs[1234]!.href);
    expect(some.item.raw).toContain("SUMMARY:Event number 1234");
    expect(some.item.raw).toContain("BEGIN:VTIMEZONE");
    await close();
  });

  it("splits a vCard feed into cards with hash UIDs", async () => {
    server.route("/cards.vcf", serveFeed(vcardFeed, { contentType: "text/vcard" }));
    const { col, close } = await openFeed({ url: server.url("/cards.vcf") });
    const refs = await collect(col.list());
    expect(refs).toHaveLength(2);
    const cards = await Promise.all(refs.map(async (r) => (await col.get(r.href)).item));
    expect(cards.map((c) => c.raw.startsWith("BEGIN:VCARD"))).toEqual([true, true]);
    for (const [i, card] of cards.entries()) expect(card.uid).toBe(refs[i]!.href);
    await close();
  });

  it("yields the same items as splitCollection, each with its hash as UID (vdirsyncer's test_list)", async () => {
    // The two events of vdirsyncer's tests/storage/test_http.py, served with a latin-1 charset that is ignored.
    const items = [
      "BEGIN:VEVENT\nSUMMARY:Eine Kurzinfo\nDESCRIPTION:Beschreibung des Termines\nEND:VEVENT",
      "BEGIN:VEVENT\nSUMMARY:Eine zweite Küèrzinfo\nDESCRIPTION:Beschreibung des anderen Termines\n" +
        "BEGIN:VALARM\nACTION:AUDIO\nTRIGGER:19980403T120000\nATTACH;FMTTYPE=audio/basic:http://host.com/pub/ssbanner.aud\n" +
        "REPEAT:4\nDURATION:PT1H\nEND:VALARM\nEND:VEVENT",
    ];
    const body = ["BEGIN:VCALENDAR", ...items, "END:VCALENDAR"].join("\n");
    server.route(
      "/calendar/collection.ics",
      serveFeed(() => Buffer.from(body, "utf8"), { contentType: "text/calendar; charset=iso-8859-1" }),
    );
    const { col, close } = await openFeed({ url: server.url("/calendar/collection.ics") });
    const expected = items.map((x) => new Item(`BEGIN:VCALENDAR\n${x}\nEND:VCALENDAR`).hash).sort();
    const found = new Map<string, string>();
    for await (const ref of col.list()) {
      const got = await col.get(ref.href);
      expect(got.item.uid).toBeDefined();
      expect(got.etag).toBe(ref.etag);
      found.set(got.item.hash, ref.href);
    }
    expect([...found.keys()].sort()).toEqual(expected);
    for await (const ref of col.list()) expect(found.get((await col.get(ref.href)).item.hash)).toBe(ref.href);
    for (const seen of server.seen("/calendar/collection.ics")) {
      expect(seen.headers["user-agent"]).toMatch(/^vdirsyncer\//);
    }
    expect(splitCollection(body)).toHaveLength(2);
    await close();
  });

  it("sends the configured useragent instead", async () => {
    server.route("/ua.ics", serveFeed(holidaysWithoutUids));
    const { col, close } = await openFeed({ url: server.url("/ua.ics"), useragent: "MyAgent/1.0" });
    await collect(col.list());
    expect(server.seen("/ua.ics")[0]?.headers["user-agent"]).toBe("MyAgent/1.0");
    await close();
  });
});

describe("get() and getMany()", () => {
  it("get() before any list() lists first; an unknown href throws NotFoundError", async () => {
    server.route("/get.ics", serveFeed(holidaysWithoutUids));
    const { col, close } = await openFeed({ url: server.url("/get.ics") });
    await expect(col.get("nope")).rejects.toSatisfy((e) => isVdirsyncerError(e, "NOT_FOUND"));
    expect(server.seen("/get.ics")).toHaveLength(1);
    const [ref] = await collect(col.list());
    expect((await col.get(ref!.href)).item.uid).toBe(ref!.href);
    await close();
  });

  it("getMany() serves the last listing without a request, once per href, and reports unknown hrefs", async () => {
    server.route("/many.ics", serveFeed(holidaysWithoutUids));
    const { col, close } = await openFeed({ url: server.url("/many.ics") });
    const refs = await collect(col.list());
    const hrefs = refs.map((r) => r.href);
    const got = await collect(col.getMany([hrefs[0]!, hrefs[0]!, hrefs[1]!, "missing"]));
    expect(server.seen("/many.ics")).toHaveLength(1);
    expect(got.filter((g) => "item" in g).map((g) => g.href)).toEqual([hrefs[0], hrefs[1]]);
    const failure = got.find((g) => g.href === "missing");
    expect(failure && "error" in failure && isVdirsyncerError(failure.error, "NOT_FOUND")).toBe(true);
    await close();
  });
});

describe("open(ref)", () => {
  it("without a url in its config reads urljoin(url, id), as vdirsyncer does with a collection name", async () => {
    server.route("/feeds/work.ics", serveFeed(holidaysWithoutUids));
    const { col, close } = await openFeed({ url: server.url("/feeds/") }, undefined, {
      id: "work.ics",
      config: {},
    });
    expect(col.url).toBe(server.url("/feeds/work.ics"));
    expect(await collect(col.list())).toHaveLength(3);
    await close();
  });

  it("reads the url of its config (webcal read as https), whatever its id", async () => {
    const { col, close } = await openFeed({ url: server.url("/feeds/") }, undefined, {
      id: "other",
      config: { url: "webcal://example.invalid/a.ics" },
    });
    expect(col.url).toBe("https://example.invalid/a.ics");
    await close();
  });
});
