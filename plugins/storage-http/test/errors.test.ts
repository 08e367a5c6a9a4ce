/**
 * What goes wrong with feeds, and how it is reported: HTTP errors, bad encodings, authentication, TLS and
 * `webcal://` URLs.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVdirsyncerError, type VdirsyncerError } from "@vdirsyncer/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, digestAuth, type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { holidaysWithoutUids } from "./feeds.ts";
import { collect, openFeed } from "./helpers.ts";

let server: FeedServer;
let tlsServer: FeedServer;
let certDir: string;
let certPath: string;
beforeAll(async () => {
  server = await startFeedServer();
  certDir = mkdtempSync(join(tmpdir(), "storage-http-tls-"));
  certPath = join(certDir, "cert.pem");
  const keyPath = join(certDir, "key.pem");
  // A throwaway self-signed certificate for 127.0.0.1; openssl is part of the test toolchain (a missing one fails).
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  tlsServer = await startFeedServer({
    key: readFileSync(keyPath, "utf8"),
    cert: readFileSync(certPath, "utf8"),
  });
});
afterAll(async () => {
  await server.close();
  await tlsServer.close();
  rmSync(certDir, { recursive: true, force: true });
});

/** The error `promise` rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<VdirsyncerError> {
  try {
    await promise;
  } catch (error) {
    expect(isVdirsyncerError(error), String(error)).toBe(true);
    return error as VdirsyncerError;
  }
  throw new Error("expected a rejection");
}

const listing = (col: { list(): AsyncIterable<unknown> }) => collect(col.list());

describe("HTTP errors", () => {
  it("404 is CollectionNotFoundError naming the URL", async () => {
    const { col, close } = await openFeed({ url: server.url("/gone.ics") });
    const error = await failure(listing(col));
    expect(error.code).toBe("COLLECTION_NOT_FOUND");
    expect(error.message).toContain(server.url("/gone.ics"));
    expect(error.message).toContain("404");
    await close();
  });

  it("500 is retried (Retry-After honoured), then an InvalidResponseError naming the URL without credentials", async () => {
    server.route("/broken.ics", (_req, res) => {
      res.statusCode = 500;
      res.setHeader("Retry-After", "0");
      res.end("database on fire");
    });
    const { col, close } = await openFeed({
      url: server.url("/broken.ics"),
      username: "alice",
      password: "s3cret-pw",
    });
    const error = await failure(listing(col));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain(server.url("/broken.ics"));
    expect(error.message).toContain("500");
    expect(JSON.stringify({ m: error.message, c: error.context })).not.toContain("s3cret-pw");
    expect(server.seen("/broken.ics")).toHaveLength(5);
    await close();
  });

  it("403 without Google's usageLimits is AccessDeniedError after one request", async () => {
    server.route("/forbidden.ics", (_req, res) => {
      res.statusCode = 403;
      res.end('{"error":{"errors":[{"domain":"global","reason":"forbidden"}]}}');
    });
    const { col, close } = await openFeed({ url: server.url("/forbidden.ics") });
    expect((await failure(listing(col))).code).toBe("ACCESS_DENIED");
    expect(server.seen("/forbidden.ics")).toHaveLength(1);
    await close();
  });

  it("403 with Google's usageLimits is retried like 429, as vdirsyncer 0.21 does", async () => {
    let calls = 0;
    server.route("/quota.ics", (_req, res) => {
      calls++;
      if (calls < 3) {
        res.statusCode = 403;
        res.setHeader("Retry-After", "0");
        res.end('{"error":{"errors":[{"domain":"usageLimits","reason":"quotaExceeded"}],"code":403}}');
        return;
      }
      res.end(holidaysWithoutUids());
    });
    const { col, close } = await openFeed({ url: server.url("/quota.ics") });
    try {
      expect(await listing(col)).toHaveLength(3);
    } finally {
      await close();
    }
  });
});

describe("encoding", () => {
  const feed = Buffer.from(holidaysWithoutUids().replace("Neujahr", "Neujahr ünd Sekt"), "utf8");

  it("invalid UTF-8 is an error naming the URL and the byte offset", async () => {
    const at = feed.indexOf("ünd");
    const bad = Buffer.from(feed);
    bad[at] = 0xfc; // latin-1 "ü"
    server.route(
      "/latin1.ics",
      serveFeed(() => bad, { contentType: "text/calendar; charset=ISO-8859-1" }),
    );
    const { col, close } = await openFeed({ url: server.url("/latin1.ics") });
    const error = await failure(listing(col));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain(server.url("/latin1.ics"));
    expect(error.message).toContain(`offset ${at}`);
    expect(error.message).toContain("charset ISO-8859-1");
    await close();
  });

  it("UTF-8 is read as UTF-8 whatever charset the server declares, and a BOM is fine", async () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), feed]);
    server.route(
      "/bom.ics",
      serveFeed(() => withBom, { contentType: "text/calendar; charset=windows-1252" }),
    );
    const { col, close } = await openFeed({ url: server.url("/bom.ics") });
    const refs = await listing(col);
    expect(refs).toHaveLength(3);
    const raws = await Promise.all(
      refs.map(async (r) => (await col.get((r as { href: string }).href)).item.raw),
    );
    expect(raws.some((raw) => raw.includes("SUMMARY:Neujahr ünd Sekt"))).toBe(true);
    await close();
  });

  it("a literal U+FFFD in a valid feed is accepted, as vdirsyncer does", async () => {
    const body = Buffer.from(holidaysWithoutUids().replace("Neujahr", "Neujahr \uFFFD"), "utf8");
    server.route(
      "/fffd.ics",
      serveFeed(() => body),
    );
    const { col, close } = await openFeed({ url: server.url("/fffd.ics") });
    try {
      expect(await listing(col)).toHaveLength(3);
    } finally {
      await close();
    }
  });

  it("a body that is not iCalendar is an error naming the URL", async () => {
    server.route(
      "/html.ics",
      serveFeed(() => "<html><body>Login required</body></html>", { contentType: "text/html" }),
    );
    const { col, close } = await openFeed({ url: server.url("/html.ics") });
    const error = await failure(listing(col));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain(server.url("/html.ics"));
    await close();
  });
});

describe("authentication", () => {
  it("basic: sent with the first request; without credentials the 401 is AccessDeniedError", async () => {
    server.route("/basic.ics", basicAuth("alice", "wonder land", serveFeed(holidaysWithoutUids)));
    const ok = await openFeed({ url: server.url("/basic.ics"), username: "alice", password: "wonder land" });
    expect(await listing(ok.col)).toHaveLength(3);
    expect(server.seen("/basic.ics").map((r) => r.status)).toEqual([200]);
    await ok.close();
    const anonymous = await openFeed({ url: server.url("/basic.ics") });
    const error = await failure(listing(anonymous.col));
    expect(error.code).toBe("ACCESS_DENIED");
    expect(error.message).toContain(server.url("/basic.ics"));
    await anonymous.close();
  });

  it("digest: answers the server's challenge", async () => {
    server.route("/digest.ics", digestAuth("bob", "pa55", serveFeed(holidaysWithoutUids)));
    const { col, close } = await openFeed({
      url: server.url("/digest.ics"),
      username: "bob",
      password: "pa55",
      auth: "digest",
    });
    expect(await listing(col)).toHaveLength(3);
    expect(server.seen("/digest.ics").map((r) => r.status)).toEqual([401, 200]);
    await close();
  });

  it("digest with a wrong password is AccessDeniedError", async () => {
    server.route("/digest2.ics", digestAuth("bob", "pa55", serveFeed(holidaysWithoutUids)));
    const { col, close } = await openFeed({
      url: server.url("/digest2.ics"),
      username: "bob",
      password: "wrong",
      auth: "digest",
    });
    expect((await failure(listing(col))).code).toBe("ACCESS_DENIED");
    await close();
  });
});

describe("TLS and webcal://", () => {
  it("webcal:// is fetched as https://, trusting the CA given in verify", async () => {
    tlsServer.route("/public.ics", serveFeed(holidaysWithoutUids));
    const webcal = tlsServer.url("/public.ics").replace(/^https:/, "webcal:");
    const { col, close } = await openFeed({ url: webcal, verify: certPath });
    expect(col.url).toBe(tlsServer.url("/public.ics"));
    expect(await listing(col)).toHaveLength(3);
    await close();
  });

  it("webcals:// too, pinned by verify_fingerprint", async () => {
    tlsServer.route("/pinned.ics", serveFeed(holidaysWithoutUids));
    const fingerprint = new X509Certificate(readFileSync(certPath)).fingerprint256;
    const url = tlsServer.url("/pinned.ics").replace(/^https:/, "webcals:");
    const { col, close } = await openFeed({ url, verify_fingerprint: fingerprint });
    expect(await listing(col)).toHaveLength(3);
    await close();
  });

  it("a certificate nobody vouched for is refused", async () => {
    tlsServer.route("/untrusted.ics", serveFeed(holidaysWithoutUids));
    const { col, close } = await openFeed({ url: tlsServer.url("/untrusted.ics") });
    expect((await failure(listing(col))).code).toBe("INVALID_RESPONSE");
    expect(tlsServer.seen("/untrusted.ics")).toHaveLength(0);
    await close();
  });
});
