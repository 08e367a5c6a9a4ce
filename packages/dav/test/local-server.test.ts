import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDavSession, DigestAuth, openDavCollection, parseDigestChallenge } from "../src/index.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A tiny local server for answers the real servers cannot give (malformed bodies, 503s, hangs, TLS). */
async function localServer(handler: Handler, tls?: { key: string; cert: string }) {
  const wrap = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => handler(req, res, body));
  };
  const server = tls ? createHttpsServer(tls, wrap) : createHttpServer(wrap);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const opts = { kind: "calendar" as const, fileext: ".ics" };

describe("malformed answers, retries, timeouts", () => {
  it("a PROPFIND answered `Hello world` is an InvalidResponseError naming method and URL, with the body", async () => {
    const s = await localServer((_q, res) => res.writeHead(207).end("Hello world"));
    try {
      const c = openDavCollection(createDavSession({ url: s.url }), `${s.url}cal/`, opts);
      const error = await (async () => {
        for await (const _ of c.list()) {
        }
      })().catch((e: unknown) => e);
      expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
      expect(String(error)).toMatch(new RegExp(`PROPFIND ${s.url}cal/ answered with invalid XML`));
      expect((error as { body?: string }).body).toBe("Hello world");
    } finally {
      await s.close();
    }
  });

  it("honours Retry-After on 503 for safe methods and never retries a PUT on 500", async () => {
    let propfinds = 0;
    let puts = 0;
    const s = await localServer((req, res) => {
      if (req.method === "PUT") {
        puts++;
        res.writeHead(500).end("boom");
        return;
      }
      propfinds++;
      if (propfinds === 1) {
        res.writeHead(503, { "retry-after": "0" }).end("busy");
        return;
      }
      res.writeHead(207, { "content-type": "application/xml" }).end('<multistatus xmlns="DAV:"/>');
    });
    try {
      const events: number[] = [];
      const session = createDavSession({
        url: s.url,
        retryBaseMs: 1,
        onRequest: (e) => events.push(e.status),
      });
      const c = openDavCollection(session, `${s.url}cal/`, opts);
      for await (const _ of c.list()) {
      }
      expect(events).toEqual([503, 207]);
      const { Item } = await import("@vdirsyncer/core");
      await expect(
        c.upload(new Item("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")),
      ).rejects.toThrow(/PUT .*x\.ics answered 500/);
      expect(puts).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("a request that hangs times out, is retried for safe methods, then fails naming the URL", async () => {
    const seen: string[] = [];
    const s = await localServer((req) => {
      seen.push(req.method ?? ""); // never answers
    });
    try {
      const c = openDavCollection(
        createDavSession({ url: s.url, timeoutMs: 200, maxAttempts: 2, retryBaseMs: 1 }),
        `${s.url}cal/`,
        opts,
      );
      await expect(
        (async () => {
          for await (const _ of c.list()) {
          }
        })(),
      ).rejects.toThrow(
        new RegExp(`PROPFIND ${s.url}cal/ did not answer within 200 ms \\(after 2 attempts\\)`),
      );
      // The profile probe (OPTIONS, once, not retried), then the listing's two attempts.
      expect(seen).toEqual(["OPTIONS", "PROPFIND", "PROPFIND"]);
    } finally {
      await s.close();
    }
  });

  it("an empty getMany sends no request; 401 maps to AccessDenied with a hint", async () => {
    let count = 0;
    const s = await localServer((_q, res) => {
      count++;
      res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
    });
    try {
      const c = openDavCollection(
        createDavSession({ url: s.url, username: "u", password: "p" }),
        `${s.url}cal/`,
        opts,
      );
      for await (const _ of c.getMany?.([]) ?? []) {
      }
      expect(count).toBe(0);
      const error = await c.collectionTag?.().catch((e: unknown) => e);
      expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
      expect((error as { hint?: string }).hint).toMatch(/username and password/);
    } finally {
      await s.close();
    }
  });
});

describe("digest auth", () => {
  it("matches RFC 7616 §3.9.1's SHA-256 and MD5 examples", () => {
    const header = (algorithm: string) =>
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
    const cnonce = () => "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const sha = new DigestAuth(
      parseDigestChallenge(header("SHA-256")) as never,
      "Mufasa",
      "Circle of Life",
      cnonce,
    );
    expect(sha.header("GET", "/dir/index.html")).toContain(
      'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"',
    );
    const md5 = new DigestAuth(
      parseDigestChallenge(header("MD5")) as never,
      "Mufasa",
      "Circle of Life",
      cnonce,
    );
    expect(md5.header("GET", "/dir/index.html")).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
    expect(md5.header("GET", "/dir/index.html")).toContain("nc=00000002");
  });

  it("authenticates against a server that checks every digest, with concurrent requests", async () => {
    const nonce = "abc123nonce";
    const seenNc = new Set<string>();
    const s = await localServer((req, res) => {
      const auth = req.headers.authorization ?? "";
      const f = Object.fromEntries(
        [...auth.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]),
      );
      const h = (x: string) => createHash("sha256").update(x).digest("hex");
      const expected = h(
        `${h(`alice:test:s3cret`)}:${nonce}:${f.nc}:${f.cnonce}:auth:${h(`${req.method}:${f.uri}`)}`,
      );
      if (!auth.startsWith("Digest ") || f.response !== expected || seenNc.has(f.nc as string)) {
        res
          .writeHead(401, {
            "www-authenticate": `Digest realm="test", qop="auth", algorithm=SHA-256, nonce="${nonce}"`,
          })
          .end();
        return;
      }
      seenNc.add(f.nc as string);
      res
        .writeHead(207)
        .end(
          '<multistatus xmlns="DAV:"><response><href>/cal/</href><propstat><prop><getctag xmlns="http://calendarserver.org/ns/">7</getctag></prop></propstat></response></multistatus>',
        );
    });
    try {
      const statuses: number[] = [];
      const session = createDavSession({
        url: s.url,
        username: "alice",
        password: "s3cret",
        auth: "digest",
        onRequest: (e) => statuses.push(e.status),
      });
      const c = openDavCollection(session, `${s.url}cal/`, opts);
      expect(await c.collectionTag?.()).toBe("7");
      const tags = await Promise.all(Array.from({ length: 8 }, () => c.collectionTag?.()));
      expect(tags).toEqual(Array(8).fill("7"));
      expect(statuses.filter((x) => x === 401).length).toBe(1); // only the first request had to ask
      expect(seenNc.size).toBe(9);
    } finally {
      await s.close();
    }
  });
});

describe("TLS", () => {
  let dir: string;
  let key: string;
  let cert: string;
  let fingerprint: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "dav-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    key = readFileSync(join(dir, "key.pem"), "utf8");
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    fingerprint = new X509Certificate(cert).fingerprint256;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const answer: Handler = (_q, res) =>
    res
      .writeHead(207)
      .end(
        '<multistatus xmlns="DAV:"><response><href>/c/</href><propstat><prop><sync-token>t1</sync-token></prop></propstat></response></multistatus>',
      );

  it("rejects a self-signed server by default, accepts it with verify (CA file) or the right fingerprint", async () => {
    const s = await localServer(answer, { key, cert });
    try {
      const tag = (o: object) =>
        openDavCollection(
          createDavSession({ url: s.url, maxAttempts: 1, ...o }),
          `${s.url}c/`,
          opts,
        ).collectionTag?.();
      await expect(tag({})).rejects.toThrow(/PROPFIND .* failed/);
      expect(await tag({ verify: join(dir, "cert.pem") })).toBe("t1");
      expect(await tag({ verifyFingerprint: fingerprint })).toBe("t1");
      expect(
        await tag({
          verifyFingerprint: fingerprint.replace(/:/g, "").toLowerCase(),
          verify: join(dir, "cert.pem"),
        }),
      ).toBe("t1");
      const wrong = "AA".repeat(32);
      await expect(tag({ verifyFingerprint: wrong })).rejects.toThrow(/does not match verify_fingerprint/);
      await expect(tag({ verifyFingerprint: wrong, verify: join(dir, "cert.pem") })).rejects.toThrow(
        /does not match/,
      );
      expect(() => createDavSession({ url: s.url, verifyFingerprint: "AB:CD" })).toThrow(/SHA-256/);
    } finally {
      await s.close();
    }
  });
});
