/** check() of a DAV storage against the real servers, and the concurrency it declares per server behaviour. */
import { randomUUID } from "node:crypto";
import type { CheckAspect, CheckReport } from "@vdirsyncer/core";
import { freePort } from "@vdirsyncer/test-servers";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createDavStorage,
  DAV_CONCURRENCY,
  type DavSessionOptions,
  SERIAL_CONCURRENCY,
  UNAUTHORIZED_HINT,
  UNREACHABLE_HINT,
} from "../src/index.ts";

const OPEN = { signal: new AbortController().signal, stats: { add() {} } };

function storage(session: DavSessionOptions) {
  const s = createDavStorage({ maxAttempts: 1, ...session }, { kind: "calendar", fileext: ".ics" });
  onTestFinished(() => s.close());
  return s;
}

const aspect = (report: CheckReport, name: CheckAspect) => report.results.find((r) => r.aspect === name);

describe.each(["radicale", "xandikos"] as const)("%s", (kind) => {
  const server = () => testServers()[kind];
  const auth = () => ({ username: server().username, password: server().password });

  it("check(): reachable, credentials taken, the calendars found, the listing path", async () => {
    const s = storage({ url: server().url, ...auth() });
    const created = await s.createCollection(`check-${randomUUID().slice(0, 8)}`);
    const report = await s.check();
    expect(report.results.map((r) => [r.aspect, r.ok])).toEqual([
      ["reachable", true],
      ["authentication", true],
      ["collections", true],
      ["listing", true],
    ]);
    expect(report.collections.map((c) => c.id)).toContain(created.id);
    expect(report.collections.every((c) => typeof c.config.url === "string")).toBe(true);
    expect(report.listing).toBe(
      kind === "radicale"
        ? "getctag, then one query with every item's data (no sync tokens)"
        : "getctag or sync-token, then sync-collection deltas (first listing: one query with every item's data; items by multiget, or one query above 25 items)",
    );
    expect(aspect(report, "listing")?.detail).toContain(
      kind === "radicale" ? "answers HTTP/1.0" : "announces sync-collection",
    );
  });

  it("declares 16 calls at once, and 4 once the server shows it takes a connection per request", async () => {
    const s = storage({ url: server().url, ...auth() });
    expect(s.concurrency).toBe(DAV_CONCURRENCY);
    const info = await s.createCollection(`conc-${randomUUID().slice(0, 8)}`);
    await (await s.open({ id: info.id, config: info.config }, OPEN)).collectionTag();
    expect(s.concurrency).toBe(kind === "radicale" ? SERIAL_CONCURRENCY : DAV_CONCURRENCY);
  });
});

describe("failed checks are reported, never thrown", () => {
  it("a wrong password: reachable, authentication not ok with a hint, nothing after it", async () => {
    const server = testServers().radicale;
    const report = await storage({ url: server.url, username: server.username, password: "wrong" }).check();
    expect(report.results.map((r) => [r.aspect, r.ok])).toEqual([
      ["reachable", true],
      ["authentication", false],
    ]);
    const failed = aspect(report, "authentication");
    expect(failed?.detail).toContain("answered 401");
    expect(failed?.detail).not.toContain("wrong");
    expect(failed?.hint).toBe(UNAUTHORIZED_HINT);
    expect(report.collections).toEqual([]);
  });

  it("a server that is down: reachable not ok, with the hint to check the address", async () => {
    const port = await freePort();
    const report = await storage({ url: `http://127.0.0.1:${port}/`, username: "u", password: "p" }).check();
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ aspect: "reachable", ok: false, hint: UNREACHABLE_HINT });
    expect(report.results[0]?.detail).toContain(`127.0.0.1:${port}`);
  });
});
