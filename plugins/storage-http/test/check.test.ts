/** check() of the http storage: one GET of the feed, reported point by point, never thrown. */

import { createServer } from "node:net";
import type { StorageContext } from "@vdirsyncer/core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createHttpStorage, HttpOptions } from "../src/index.ts";
import { basicAuth, type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { holidaysWithoutUids } from "./feeds.ts";

/** A port nothing listens on (taken, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(async () => {
  await server.close();
});

const ctx: StorageContext = {
  instance: "feed",
  log: { debug() {}, info() {}, warn() {}, error() {} },
  stats: { add() {} },
  signal: new AbortController().signal,
};

async function check(raw: Record<string, unknown>) {
  const checked = await HttpOptions["~standard"].validate(raw);
  if (checked.issues) throw new Error(checked.issues.map((i) => i.message).join("; "));
  const storage = createHttpStorage(checked.value, ctx, { retryBaseMs: 1 });
  onTestFinished(() => storage.close());
  return storage.check();
}

describe("check()", () => {
  it("a feed with an ETag: reachable, no credentials needed, one feed, conditional GETs", async () => {
    server.route("/check.ics", serveFeed(holidaysWithoutUids, { etag: () => '"v1"' }));
    const report = await check({ url: server.url("/check.ics") });
    expect(report.results.map((r) => [r.aspect, r.ok, r.detail])).toEqual([
      ["reachable", true, expect.any(String)],
      ["authentication", true, expect.any(String)],
      ["collections", true, expect.any(String)],
      ["listing", true, expect.any(String)],
    ]);
    expect(report.results[2]?.detail).toBe("One feed with 3 items.");
    expect(report.listing).toBe("one conditional GET per sync (ETag), answered 304 while unchanged");
    expect(report.collections).toEqual([{ id: "feed", href: server.url("/check.ics"), config: {} }]);
  });

  it("a wrong password: authentication not ok, with a hint and without the password", async () => {
    server.route("/private.ics", basicAuth("alice", "right", serveFeed(holidaysWithoutUids)));
    const report = await check({ url: server.url("/private.ics"), username: "alice", password: "Wr0ng" });
    expect(report.results.map((r) => [r.aspect, r.ok])).toEqual([
      ["reachable", true],
      ["authentication", false],
    ]);
    expect(report.results[1]?.hint).toBeTruthy();
    expect(JSON.stringify(report)).not.toContain("Wr0ng");
  });

  it("a server that is down: reachable not ok, with a hint", async () => {
    const port = await freePort();
    const report = await check({ url: `http://127.0.0.1:${port}/feed.ics` });
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ aspect: "reachable", ok: false });
    expect(report.results[0]?.hint).toBeTruthy();
  });

  it("a page that is not a feed: collections not ok, with a hint", async () => {
    server.route("/page.html", (_q, res) => {
      res.statusCode = 200;
      res.setHeader("content-type", "text/html");
      res.end("<html></html>");
    });
    const report = await check({ url: server.url("/page.html") });
    const last = report.results.at(-1);
    expect(last).toMatchObject({ aspect: "collections" });
    expect(report.collections).toEqual([]);
  });
});
