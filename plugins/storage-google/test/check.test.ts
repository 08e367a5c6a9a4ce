/** check() of the Google storages, open(ref) from a cached config, and Google's error bodies read through dav's hook. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { createDavSession, type HttpSession, openDavCollection, USAGE_LIMIT_HINT } from "@vdirsyncer/dav";
import { removeFreshDirs } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { GOOGLE_SCOPES } from "../src/endpoints.ts";
import { createGoogleStorage } from "../src/google.ts";
import { API_DISABLED_HINT, interpretGoogleError } from "../src/google-errors.ts";
import { authorisedTokenFile, freshTokenPath, recordingContext, startStandIn } from "./helpers.ts";
import type { GoogleStandIn } from "./stand-in.ts";

const OPEN = { signal: new AbortController().signal, stats: { add() {} } };
const USAGE_LIMITS = JSON.stringify({
  error: {
    code: 403,
    message: "Rate Limit Exceeded",
    errors: [{ domain: "usageLimits", reason: "rateLimitExceeded" }],
  },
});
const FORBIDDEN = '{"error":{"errors":[{"domain":"global","reason":"forbidden"}],"code":403}}';
const DISABLED = JSON.stringify({
  error: {
    code: 403,
    message: "CalDAV API has not been used in project 1234 before or it is disabled.",
    details: [{ reason: "SERVICE_DISABLED" }],
  },
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

let standIn: GoogleStandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(async () => {
  await standIn.close();
  await removeFreshDirs();
});

describe("interpretGoogleError", () => {
  it("calls a 403 with a quota reason a quota, and leaves permission answers alone", () => {
    expect(interpretGoogleError({ status: 403, body: USAGE_LIMITS })).toEqual({ quota: true });
    expect(
      interpretGoogleError({ status: 403, body: '{"error":{"errors":[{"reason":"quotaExceeded"}]}}' }),
    ).toEqual({
      quota: true,
    });
    expect(interpretGoogleError({ status: 403, body: FORBIDDEN })).toBeUndefined();
    expect(interpretGoogleError({ status: 403, body: "<html>usageLimits</html>" })).toBeUndefined();
    expect(interpretGoogleError({ status: 403, body: '{"error": "usageLimits"}' })).toBeUndefined();
    expect(interpretGoogleError({ status: 500, body: USAGE_LIMITS })).toBeUndefined();
  });

  it("a disabled API through a session: Google's reason in the message and the hint to enable the API", async () => {
    const server = createServer((_q, res) => res.writeHead(403).end(DISABLED));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const session = createDavSession({ url, interpretError: interpretGoogleError }) as HttpSession;
    onTestFinished(() => session.close());
    const error = await openDavCollection(session, `${url}cal/`, { kind: "calendar", fileext: ".ics" })
      .collectionTag?.()
      .then(
        () => undefined,
        (e: unknown) => e as Error & { hint?: string },
      );
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(error?.message).toBe(
      `PROPFIND ${url}cal/ answered 403 Forbidden: CalDAV API has not been used in project 1234 before or it is disabled.`,
    );
    expect(error?.hint).toBe(API_DISABLED_HINT);
  });

  it("a quota still refused after the retries says so", async () => {
    const server = createServer((_q, res) => res.writeHead(403, { "retry-after": "0" }).end(USAGE_LIMITS));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const session = createDavSession({ url, interpretError: interpretGoogleError, maxAttempts: 2 });
    onTestFinished(() => session.close());
    const error = await openDavCollection(session, `${url}cal/`, { kind: "calendar", fileext: ".ics" })
      .collectionTag?.()
      .catch((e: unknown) => e as Error & { hint?: string });
    expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
    expect((error as { hint?: string }).hint).toBe(USAGE_LIMIT_HINT);
  });
});

describe("check() against the stand-in", () => {
  it("an authorised calendar account: reachable, token accepted, its calendars, the listing path", async () => {
    const work = await standIn.newCalendar(`check-${Date.now()}@group.calendar.google.com`);
    const options = {
      token_file: await authorisedTokenFile(standIn, GOOGLE_SCOPES.calendar),
      client_id: standIn.clientId,
      client_secret: standIn.clientSecret,
    };
    const storage = createGoogleStorage("calendar", options, recordingContext(), {
      endpoints: standIn.endpoints,
    });
    onTestFinished(() => storage.close());
    const report = await storage.check();
    expect(report.results.map((r) => [r.aspect, r.ok])).toEqual([
      ["reachable", true],
      ["authentication", true],
      ["collections", true],
      ["listing", true],
    ]);
    expect(report.results[1]?.detail).toContain("access token");
    expect(report.collections.map((c) => c.href)).toContain(work);
    expect(report.listing).toBeTruthy();
  });

  it("no token yet: authentication not ok with the way to authorise, and no authorisation started", async () => {
    const ctx = recordingContext();
    const options = {
      token_file: await freshTokenPath(),
      client_id: standIn.clientId,
      client_secret: standIn.clientSecret,
    };
    // Headless with no input: an authorisation started here would wait for a paste forever.
    const storage = createGoogleStorage("addressbook", options, ctx, {
      endpoints: standIn.endpoints,
      ui: { headless: true },
    });
    onTestFinished(() => storage.close());
    const report = await storage.check();
    expect(report.results).toEqual([
      expect.objectContaining({
        aspect: "authentication",
        ok: false,
        hint: expect.stringContaining("vdirsyncer discover"),
      }),
    ]);
  });
});

describe("open(ref) rebuilds the collection from its cached config", () => {
  it("the url of ref.config after a JSON round trip; the href plays no part", async () => {
    const work = await standIn.newCalendar(`ref-${Date.now()}`);
    const options = {
      token_file: await authorisedTokenFile(standIn, GOOGLE_SCOPES.calendar),
      client_id: standIn.clientId,
      client_secret: standIn.clientSecret,
    };
    const storage = createGoogleStorage("calendar", options, recordingContext(), {
      endpoints: standIn.endpoints,
    });
    onTestFinished(() => storage.close());
    const [info] = [...(await collect(storage.discover()))].filter((c) => c.href === work);
    expect(info).toBeDefined();
    const ref = JSON.parse(JSON.stringify({ id: info?.id, config: info?.config }));
    const col = storage.open(ref, OPEN);
    expect(col.url).toBe(work);
    expect(await collect(col.list())).toEqual([]);
    // A config whose filters the schema refuses is a clear error.
    expect(() => storage.open({ id: "x", config: { url: work, item_types: "VEVENT" } }, OPEN)).toThrow(
      /item_types/,
    );
  });
});
