/**
 * Certificate failures are final at once (the same certificate comes back on every attempt) and say what to
 * configure: `verify` with the CA bundle, or a `verify_fingerprint` pin.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  createDavSession,
  type DavSessionOptions,
  FINGERPRINT_HINT,
  openDavCollection,
  TLS_HINT,
  TLS_HOSTNAME_HINT,
} from "../src/index.ts";
import { localServer, multistatus } from "./local.ts";

let dir: string;
const pem = (name: string) => readFileSync(join(dir, name), "utf8");
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "dav-tls-failures-"));
  // Self-signed for 127.0.0.1; self-signed for another host name; a CA and a leaf for 127.0.0.1 it signed.
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  );
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "other.key",
    "-out",
    "other.pem",
    "-days",
    "2",
    "-subj",
    "/CN=elsewhere.test",
    "-addext",
    "subjectAltName=DNS:elsewhere.test",
  );
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  openssl("req", "-new", ...EC, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(join(dir, "leaf.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "2",
    "-extfile",
    "leaf.ext",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const answer = multistatus("/c/", "<sync-token>t1</sync-token>");

/** The collection tag over TLS with `name`'s certificate, counting attempts (retries would show as more). */
async function tagWith(name: string, options: Partial<DavSessionOptions> = {}) {
  const server = await localServer((_q, res) => res.writeHead(207).end(answer), {
    key: pem(`${name}.key`),
    cert: pem(`${name}.pem`),
  });
  onTestFinished(() => server.close());
  const attempts: number[] = [];
  const session = createDavSession({
    url: server.url,
    retryBaseMs: 1,
    onRequest: (e) => attempts.push(e.status),
    ...options,
  });
  onTestFinished(() => session.close());
  const c = openDavCollection(session, `${server.url}c/`, { kind: "calendar", fileext: ".ics" });
  let tag: string | undefined;
  let error: (Error & { hint?: string }) | undefined;
  try {
    tag = await c.collectionTag?.();
  } catch (e) {
    error = e as Error;
  }
  return { tag, error, attempts, url: server.url };
}

describe("certificate failures", () => {
  it("a self-signed certificate: one attempt, and a hint on verify and verify_fingerprint", async () => {
    const { error, attempts, url } = await tagWith("self");
    expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
    expect(error?.message).toMatch(new RegExp(`^PROPFIND ${url}c/ failed: self-signed certificate`));
    expect(error?.hint).toBe(TLS_HINT);
    expect(attempts).toEqual([0]);
  });

  it("a certificate from a CA the system does not know: one attempt, the same hint; with verify = the CA it works", async () => {
    const unknown = await tagWith("leaf");
    expect(unknown.error?.hint).toBe(TLS_HINT);
    expect(unknown.error?.message).toContain("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(unknown.attempts).toEqual([0]);
    expect((await tagWith("leaf", { verify: join(dir, "ca.pem") })).tag).toBe("t1");
  });

  it("a certificate for another host name: one attempt, and a hint that says so", async () => {
    const { error, attempts } = await tagWith("other", { verify: join(dir, "other.pem") });
    expect(error?.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(error?.hint).toBe(TLS_HOSTNAME_HINT);
    expect(attempts).toEqual([0]);
  });

  it("a certificate that is not the pinned one: one attempt, and a hint on verify_fingerprint", async () => {
    const { error, attempts } = await tagWith("self", { verifyFingerprint: "AB".repeat(32) });
    expect(error?.message).toContain("does not match verify_fingerprint");
    expect(error?.hint).toBe(FINGERPRINT_HINT);
    expect(attempts).toEqual([0]);
  });
});
