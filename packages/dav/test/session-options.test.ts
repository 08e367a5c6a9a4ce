/**
 * The session keys of the DAV storages' config sections: their schema and vdirsyncer's messages are tested through
 * the plugins' schemas (storage-caldav, -carddav, -http); here, what they turn into, and `max_attempts`.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { z } from "zod";
import pkg from "../package.json" with { type: "json" };
import {
  checkSessionOptions,
  createDavSession,
  DEFAULT_USERAGENT,
  openDavCollection,
  sessionOptionsShape,
  toDavSessionOptions,
} from "../src/index.ts";

const URL = "https://dav.example.com/";

/** A schema built the way the plugins build theirs. */
const Options = z
  .strictObject(sessionOptionsShape)
  .superRefine((value, ctx) => checkSessionOptions(value, ctx));

describe("session options", () => {
  const log = () => {
    const warnings: string[] = [];
    return { warnings, log: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } };
  };

  it("sends vdirsyncer/<our version> by default, and the configured useragent otherwise", () => {
    const { log: l } = log();
    expect(DEFAULT_USERAGENT).toBe(`vdirsyncer/${pkg.version}`);
    expect(toDavSessionOptions({ url: URL }, { instance: "x", log: l }).useragent).toBe(DEFAULT_USERAGENT);
    expect(toDavSessionOptions({ url: URL, useragent: "me/1" }, { instance: "x", log: l }).useragent).toBe(
      "me/1",
    );
  });

  it("uses credentials only when both are set, and warns about a username without a password", () => {
    const a = log();
    const lone = toDavSessionOptions({ url: URL, username: "bob" }, { instance: "remote", log: a.log });
    expect(lone.username).toBeUndefined();
    expect(lone.password).toBeUndefined();
    expect(a.warnings).toEqual([
      "Storage remote: a username is set but no password, so requests are sent without authentication.",
    ]);
    const b = log();
    const both = toDavSessionOptions(
      { url: URL, username: "bob", password: "pw", auth: "digest" },
      { instance: "r", log: b.log },
    );
    expect([both.username, both.password, both.auth]).toEqual(["bob", "pw", "digest"]);
    expect(b.warnings).toEqual([]);
  });

  it("expands ~ in certificate paths, converts the timeout to ms and keeps the fingerprint", () => {
    const { log: l } = log();
    const s = toDavSessionOptions(
      {
        url: URL,
        verify: "~/ca.pem",
        auth_cert: ["~/c.pem", "/k.pem"],
        timeout: 2.5,
        verify_fingerprint: "ab:cd",
      },
      { instance: "x", log: l },
    );
    expect(s.verify).toMatch(/^\/.*\/ca\.pem$/);
    expect(s.verify).not.toContain("~");
    expect(s.authCert).toEqual([expect.stringMatching(/^\/.*\/c\.pem$/), "/k.pem"]);
    expect(s.timeoutMs).toBe(2500);
    expect(s.verifyFingerprint).toBe("ab:cd");
  });
});

describe("max_attempts", () => {
  it("is ours: a whole number from 1, null allowed, and becomes the session's maxAttempts", () => {
    const { log } = { log: { debug() {}, info() {}, warn() {}, error() {} } };
    expect(Options.safeParse({ url: URL, max_attempts: 2 }).success).toBe(true);
    expect(Options.safeParse({ url: URL, max_attempts: null }).success).toBe(true);
    expect(Options.safeParse({ url: URL, max_attempts: 0 }).success).toBe(false);
    expect(Options.safeParse({ url: URL, max_attempts: 1.5 }).success).toBe(false);
    expect(toDavSessionOptions({ url: URL, max_attempts: 2 }, { instance: "x", log }).maxAttempts).toBe(2);
    expect(toDavSessionOptions({ url: URL }, { instance: "x", log }).maxAttempts).toBeUndefined();
  });

  it("max_attempts = 1 sends a failing read once; the default sends it five times", async () => {
    let seen = 0;
    const server = createServer((_q, res) => {
      seen++;
      res.writeHead(503, { "retry-after": "0" }).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const counts: number[] = [];
    for (const max_attempts of [1, undefined]) {
      seen = 0;
      const session = createDavSession(toDavSessionOptions({ url, max_attempts }, { instance: "x", log }));
      const error = await openDavCollection(session, `${url}c/`, { kind: "calendar", fileext: ".ics" })
        .collectionTag?.()
        .catch((e: unknown) => e);
      await session.close();
      expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
      counts.push(seen);
    }
    expect(counts).toEqual([1, 5]);
  });
});
