import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { removeFreshDirs } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOGLE_SCOPES } from "../src/endpoints.ts";
import { createGoogleStorage, type GoogleOverrides } from "../src/google.ts";
import { DEFAULT_RATE_LIMIT, TokenBucket } from "../src/rate-limit.ts";
import { authorisedTokenFile, recordingContext, startStandIn } from "./helpers.ts";
import type { GoogleStandIn } from "./stand-in.ts";

const OPEN = { signal: new AbortController().signal, stats: { add() {} } };

let standIn: GoogleStandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(async () => {
  await standIn.close();
  await removeFreshDirs();
});

const USAGE_LIMITS = JSON.stringify({
  error: {
    code: 403,
    message: "Rate Limit Exceeded",
    errors: [{ domain: "usageLimits", reason: "rateLimitExceeded", message: "Rate Limit Exceeded" }],
  },
});

async function calendar(overrides: GoogleOverrides = {}) {
  const url = await standIn.newCalendar();
  const storage = createGoogleStorage(
    "calendar",
    {
      token_file: await authorisedTokenFile(standIn, GOOGLE_SCOPES.calendar),
      client_id: standIn.clientId,
      client_secret: standIn.clientSecret,
      url,
    },
    recordingContext(),
    {
      endpoints: standIn.endpoints,
      session: { maxAttempts: 4, retryBaseMs: 5, retryMaxMs: 20 },
      ...overrides,
    },
  );
  const col = await storage.open(null, OPEN);
  // The first listing also settles what the session knows of the server (its one OPTIONS probe), so the
  // requests the tests count are their own.
  for await (const _ of col.list());
  return { storage, col, path: new URL(url).pathname };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const event = (uid: string) =>
  new Item(
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240102T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
  );

describe("token bucket", () => {
  it("lets a burst through, then one request per 1/perSecond, in call order", async () => {
    let now = 0;
    const bucket = new TokenBucket(
      { perSecond: 2, burst: 3 },
      () => now,
      async (ms) => {
        now += ms;
      },
    );
    const times: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        bucket.take().then(() => {
          times.push(now);
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(times.map((t) => Math.round(t))).toEqual([0, 0, 0, 500, 1000, 1500, 2000]);
  });

  it("the default stays under Google's 600 requests per user and minute, bursts included", () => {
    expect(DEFAULT_RATE_LIMIT.burst + DEFAULT_RATE_LIMIT.perSecond * 60).toBeLessThan(600);
  });
});

describe("at the stand-in", () => {
  it("no second sees more requests than the burst plus the rate", async () => {
    const limit = { perSecond: 20, burst: 5 };
    const { storage, col, path } = await calendar({ rateLimit: limit });
    const from = standIn.seen.length;
    await Promise.all(
      Array.from({ length: 45 }, (_, i) => col.get(`${path}missing-${i}.ics`).catch((e: unknown) => e)),
    );
    await storage.close?.();
    const times = standIn.seen.slice(from).map((r) => r.at);
    expect(times.length).toBe(45);
    let busiest = 0;
    for (const [i, start] of times.entries()) {
      busiest = Math.max(busiest, times.slice(i).filter((t) => t < start + 1000).length);
    }
    // The bucket spaces sends; arrivals at the stand-in can bunch up by a few ms of event-loop jitter, which may
    // pull one or two more into a window. Still far below the 45 an unlimited client sends at once.
    expect(busiest).toBeLessThanOrEqual(limit.burst + limit.perSecond + 2);
    // Without the limit all 45 would have gone within one window.
    expect(busiest).toBeLessThan(45);
  });

  it("a 403 usageLimits answer is retried until the quota lets the request through", async () => {
    const { storage, col } = await calendar();
    await col.upload(event(`u-${Date.now()}`));
    const from = standIn.seen.length;
    standIn.failNext(2, 403, USAGE_LIMITS);
    const refs = await collect(col.list());
    expect(refs).toHaveLength(1);
    expect(standIn.seen.length - from).toBe(3);
    await storage.close?.();
  });

  it("a 429 on a PUT is retried (Google refused it before doing anything)", async () => {
    const { storage, col } = await calendar();
    standIn.failNext(1, 429, USAGE_LIMITS, { "retry-after": "0" });
    const written = await col.upload(event(`p-${Date.now()}`));
    expect((await col.get(written.href)).etag).toBe(written.etag);
    await storage.close?.();
  });

  it("gives up after the configured attempts", async () => {
    const { storage, col } = await calendar();
    const from = standIn.seen.length;
    standIn.failNext(10, 403, USAGE_LIMITS);
    const error = await collect(col.list()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVdirsyncerError(error)).toBe(true);
    expect(standIn.seen.length - from).toBe(4);
    standIn.clearFailures();
    await storage.close?.();
  });

  it("a disabled API gets a message that says to enable it", async () => {
    const { storage, col } = await calendar();
    standIn.failNext(
      1,
      403,
      JSON.stringify({
        error: {
          code: 403,
          message: "CalDAV API has not been used in project 1234 before or it is disabled.",
          status: "PERMISSION_DENIED",
          details: [{ reason: "SERVICE_DISABLED" }],
        },
      }),
    );
    const error = await collect(col.list()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect((error as Error).message).toContain("CalDAV API has not been used");
    expect((error as { hint?: string }).hint).toContain("Enable the CalDAV API");
    await storage.close?.();
  });
});
