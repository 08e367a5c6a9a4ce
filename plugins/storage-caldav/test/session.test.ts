/**
 * What the caldav options do to the requests on the wire, seen by a plain local HTTP server.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { StorageContext } from "@vdirsyncer/core";
import { DEFAULT_USERAGENT } from "@vdirsyncer/dav";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import caldav from "../src/index.ts";

const seen: { method: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  seen.push({ method: req.method ?? "", headers: req.headers });
  req.resume();
  req.on("end", () => {
    res.writeHead(207, { "content-type": "application/xml; charset=utf-8" });
    res.end('<?xml version="1.0" encoding="utf-8"?><multistatus xmlns="DAV:"/>');
  });
});
let url = "";

beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cal/`;
});
afterAll(async () => {
  server.close();
  await once(server, "close");
});

function context(warnings: string[] = []): StorageContext {
  return {
    instance: "remote",
    log: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    stats: { add() {} },
    signal: new AbortController().signal,
  };
}

/** Lists the configured URL with `options` and returns the headers of the requests it sent. */
async function headersFor(
  options: Record<string, unknown>,
  warnings: string[] = [],
): Promise<IncomingHttpHeaders[]> {
  const checked = await caldav.options["~standard"].validate({ url, ...options });
  if (checked.issues) throw new Error(checked.issues.map((i) => i.message).join("; "));
  const storage = await caldav.create(checked.value, context(warnings));
  seen.length = 0;
  try {
    for await (const _ of (
      await storage.open(null, { signal: new AbortController().signal, stats: { add() {} } })
    ).list()) {
      // the server lists nothing
    }
  } finally {
    await storage.close?.();
  }
  // The session's one OPTIONS probe (the server showed no DAV classes yet) is not part of the listing.
  if (seen[0]?.method === "OPTIONS") seen.shift();
  expect(seen.length).toBeGreaterThan(0);
  return seen.map((s) => s.headers);
}

describe("caldav requests", () => {
  it("carry User-Agent vdirsyncer/<version> by default, and the configured useragent otherwise", async () => {
    for (const h of await headersFor({})) expect(h["user-agent"]).toBe(DEFAULT_USERAGENT);
    for (const h of await headersFor({ useragent: "my-agent/2" })) expect(h["user-agent"]).toBe("my-agent/2");
  });

  it("carry Basic credentials when username and password are set", async () => {
    const expected = `Basic ${Buffer.from("bob:sëcret").toString("base64")}`;
    for (const h of await headersFor({ username: "bob", password: "sëcret" })) {
      expect(h.authorization).toBe(expected);
    }
  });

  it("carry no credentials for a username without a password, with a warning", async () => {
    const warnings: string[] = [];
    for (const h of await headersFor({ username: "bob" }, warnings)) expect(h.authorization).toBeUndefined();
    expect(warnings).toEqual([
      "Storage remote: a username is set but no password, so requests are sent without authentication.",
    ]);
  });

  it("list() of an unfiltered calendar is one PROPFIND with Depth 1; with item_types, REPORTs", async () => {
    await headersFor({});
    expect(seen.map((s) => [s.method, s.headers.depth])).toEqual([["PROPFIND", "1"]]);
    await headersFor({ item_types: ["VEVENT", "VTODO"] });
    expect(seen.map((s) => [s.method, s.headers.depth])).toEqual([
      ["REPORT", "1"],
      ["REPORT", "1"],
    ]);
  });
});
