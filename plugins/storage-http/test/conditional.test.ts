/**
 * Conditional GET: the collection tag carries the feed's validator, so that the sync engine's ctag shortcut turns
 * an unchanged feed into one 304 and no listing (pain-points.md item 11).
 */
import { createMemoryStatus, type SyncEvent, syncCollection } from "@vdirsyncer/core/engine";
import { createMemoryStorage } from "@vdirsyncer/core/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTag } from "../src/index.ts";
import { type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { googleStyleFeed, holidaysWithoutUids } from "./feeds.ts";
import { collect, openFeed } from "./helpers.ts";

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

/** A feed whose content, ETag and Last-Modified the test changes; DTSTAMP changes on every GET regardless. */
function mutableFeed() {
  let version = 1;
  let calls = 0;
  const body = () => {
    calls++;
    const base = googleStyleFeed(new Date(Date.UTC(2024, 0, 1, 0, 0, calls)));
    return version === 1 ? base : base.replace("SUMMARY:Lunch", `SUMMARY:Lunch v${version}`);
  };
  return {
    body,
    etag: () => `"v${version}"`,
    lastModified: () => new Date(Date.UTC(2024, 0, version)).toUTCString(),
    bump: () => {
      version++;
    },
  };
}

/** Syncs the feed (side a) into a memory storage (side b), returning how side a was listed. */
async function syncOnce(
  a: Awaited<ReturnType<typeof openFeed>>["col"],
  b: ReturnType<ReturnType<typeof createMemoryStorage>["open"]>,
  status: ReturnType<typeof createMemoryStatus>,
) {
  const events: SyncEvent[] = [];
  const report = await syncCollection({
    a: { name: "feed", collection: a },
    b: { name: "local", collection: b },
    status,
    onEvent: (e) => events.push(e),
  });
  expect(report.errors).toEqual([]);
  return report;
}

describe("collectionTag()", () => {
  it("with an ETag: 200 and a tag first, then If-None-Match, a 304 and the same tag", async () => {
    const feed = mutableFeed();
    server.route("/etag.ics", serveFeed(feed.body, { etag: feed.etag }));
    const { col, close } = await openFeed({ url: server.url("/etag.ics") });
    const tag = await col.collectionTag();
    expect(tag).toMatch(/:etag:"v1"$/);
    expect(await col.collectionTag(tag)).toBe(tag);
    const seen = server.seen("/etag.ics");
    expect(seen.map((r) => r.status)).toEqual([200, 304]);
    expect(seen[1]?.headers["if-none-match"]).toBe('"v1"');
    await close();
  });

  it("with Last-Modified only: If-Modified-Since, then a 304", async () => {
    const feed = mutableFeed();
    server.route("/lm.ics", serveFeed(feed.body, { lastModified: feed.lastModified }));
    const { col, close } = await openFeed({ url: server.url("/lm.ics") });
    const tag = await col.collectionTag();
    expect(tag).toContain(":lm:");
    expect(await col.collectionTag(tag)).toBe(tag);
    const seen = server.seen("/lm.ics");
    expect(seen.map((r) => r.status)).toEqual([200, 304]);
    expect(seen[1]?.headers["if-modified-since"]).toBe(feed.lastModified());
    feed.bump();
    const changed = await col.collectionTag(tag);
    expect(changed).not.toBe(tag);
    expect(server.seen("/lm.ics").map((r) => r.status)).toEqual([200, 304, 200]);
    await close();
  });

  it("keeps the body of a 200 for the next list(), which then sends no request", async () => {
    const feed = mutableFeed();
    server.route("/reuse.ics", serveFeed(feed.body, { etag: feed.etag }));
    const { col, close } = await openFeed({ url: server.url("/reuse.ics") });
    await col.collectionTag();
    expect(await collect(col.list())).toHaveLength(4);
    expect(server.seen("/reuse.ics")).toHaveLength(1);
    // The kept body serves one list() only: a later one reads the feed again, as vdirsyncer does.
    await collect(col.list());
    expect(server.seen("/reuse.ics")).toHaveLength(2);
    await close();
  });

  it("without validators: a digest of the items, which ignores a DTSTAMP that changes on every GET", async () => {
    server.route("/novalidators.ics", serveFeed(mutableFeed().body));
    const { col, close } = await openFeed({ url: server.url("/novalidators.ics") });
    const tag = await col.collectionTag();
    expect(tag).toContain(":items:");
    expect(await col.collectionTag(tag)).toBe(tag);
    const seen = server.seen("/novalidators.ics");
    expect(seen.map((r) => r.status)).toEqual([200, 200]);
    expect(seen[1]?.headers["if-none-match"]).toBeUndefined();
    await close();
  });

  it("does not use a tag made for other settings (another filter_hook) as a validator", async () => {
    const feed = mutableFeed();
    server.route("/settings.ics", serveFeed(feed.body, { etag: feed.etag }));
    const foreign = encodeTag(JSON.stringify([server.url("/settings.ics"), "/bin/cat"]), {
      kind: "etag",
      value: '"v1"',
    });
    const { col, close } = await openFeed({ url: server.url("/settings.ics") });
    const tag = await col.collectionTag(foreign);
    expect(tag).not.toBe(foreign);
    expect(server.seen("/settings.ics")[0]?.headers["if-none-match"]).toBeUndefined();
    // Garbage from elsewhere (another tool's ctag) is ignored the same way.
    await col.collectionTag("not-a-tag-of-ours");
    expect(server.seen("/settings.ics")[1]?.headers["if-none-match"]).toBeUndefined();
    await close();
  });
});

describe("syncing a feed with the engine", () => {
  it("an unchanged feed with an ETag costs one request answered 304 and no listing; a changed one one 200", async () => {
    const feed = mutableFeed();
    server.route("/sync-etag.ics", serveFeed(feed.body, { etag: feed.etag }));
    const { col, close } = await openFeed({ url: server.url("/sync-etag.ics") });
    const local = createMemoryStorage().open(null);
    const status = createMemoryStatus();

    const first = await syncOnce(col, local, status);
    expect(first.listing.a.method).toBe("full");
    expect(await collect(local.list())).toHaveLength(4);
    expect(server.seen("/sync-etag.ics").map((r) => r.status)).toEqual([200]);

    const second = await syncOnce(col, local, status);
    expect(second.listing.a.method).toBe("ctag");
    expect(second.plan.actions).toEqual([]);
    expect(server.seen("/sync-etag.ics").map((r) => r.status)).toEqual([200, 304]);

    feed.bump();
    const third = await syncOnce(col, local, status);
    expect(third.listing.a.method).toBe("full");
    expect(server.seen("/sync-etag.ics").map((r) => r.status)).toEqual([200, 304, 200]);
    const summaries = await Promise.all(
      (await collect(local.list())).map(async (r) => (await local.get(r.href)).item.raw),
    );
    expect(summaries.some((raw) => raw.includes("SUMMARY:Lunch v2"))).toBe(true);
    expect(summaries.some((raw) => raw.includes("SUMMARY:Lunch\r\n"))).toBe(false);
    await close();
  });

  it("a feed without validators that only restamps DTSTAMP costs one 200 and no listing", async () => {
    let n = 0;
    server.route(
      "/sync-plain.ics",
      serveFeed(() => holidaysWithoutUids(new Date(Date.UTC(2024, 0, 1, 0, 0, n++)))),
    );
    const { col, close } = await openFeed({ url: server.url("/sync-plain.ics") });
    const local = createMemoryStorage().open(null);
    const status = createMemoryStatus();
    await syncOnce(col, local, status);
    const second = await syncOnce(col, local, status);
    expect(second.listing.a.method).toBe("ctag");
    expect(server.seen("/sync-plain.ics")).toHaveLength(2);
    expect(await collect(local.list())).toHaveLength(3);
    await close();
  });
});
