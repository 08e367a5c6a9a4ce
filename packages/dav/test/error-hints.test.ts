/**
 * Errors that say the server failed, hung or could not be reached carry a hint that says so (the CLI prints
 * it), unlike an answer we could not read.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { SERVER_ERROR_HINT, TIMEOUT_HINT, UNREACHABLE_HINT } from "../src/http-errors.ts";
import { createDavSession, openDavCollection } from "../src/index.ts";

async function serve(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cal/`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, "close");
  };
  return { url, close };
}

async function listError(url: string, timeoutMs = 5000): Promise<unknown> {
  const session = createDavSession({ url, timeoutMs, maxAttempts: 2, retryBaseMs: 1 });
  try {
    const c = openDavCollection(session, url, { kind: "calendar", fileext: ".ics" });
    for await (const _ of c.list()) {
      // listing must fail
    }
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await session.close();
  }
}

describe("error hints", () => {
  it("a 5xx names the URL and says the server failed", async () => {
    const s = await serve((_req, res) => res.writeHead(503).end("down for maintenance"));
    try {
      const err = await listError(s.url);
      expect(isVdirsyncerError(err, "INVALID_RESPONSE")).toBe(true);
      expect((err as Error).message).toBe(`PROPFIND ${s.url} answered 503 Service Unavailable.`);
      expect((err as { hint?: string }).hint).toBe(SERVER_ERROR_HINT);
    } finally {
      await s.close();
    }
  });

  it("a 400 keeps no hint of its own (the host says the answer was unexpected)", async () => {
    const s = await serve((_req, res) => res.writeHead(400).end("no"));
    try {
      const err = await listError(s.url);
      expect(isVdirsyncerError(err, "INVALID_RESPONSE")).toBe(true);
      expect((err as { hint?: string }).hint).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it("a hang says to wait or raise the timeout", async () => {
    const s = await serve(() => {
      // never answers
    });
    try {
      const err = await listError(s.url, 200);
      expect((err as Error).message).toContain(`PROPFIND ${s.url} did not answer within 200 ms`);
      expect((err as { hint?: string }).hint).toBe(TIMEOUT_HINT);
    } finally {
      await s.close();
    }
  });

  it("a refused connection says to check that the server runs at that URL", async () => {
    const s = await serve((_req, res) => res.end());
    await s.close();
    const err = await listError(s.url);
    expect((err as Error).message).toContain(`PROPFIND ${s.url} failed: connect ECONNREFUSED`);
    expect((err as { hint?: string }).hint).toBe(UNREACHABLE_HINT);
  });
});
