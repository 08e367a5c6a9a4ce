/**
 * URLs with secrets in them: a password written into `url` is refused once, at the option check and by the
 * session, without retries and without printing it; every URL the DAV layer prints is redacted (user info
 * removed, token-like query values masked). Each check looks for the secret in everything that was said.
 */
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  checkSessionOptions,
  createDavSession,
  createDavStorage,
  hasUserInfo,
  MASK,
  openDavCollection,
  redactText,
  redactUrl,
  sessionOptionsShape,
  toDavSessionOptions,
} from "../src/index.ts";
import { type LocalServer, localServer } from "./local.ts";

const SECRET = "Secr3tPassw0rd";
const Options = z
  .strictObject(sessionOptionsShape)
  .superRefine((value, ctx) => checkSessionOptions(value, ctx));

/** A logger that keeps every line, and the text of everything said (lines, messages, hints, causes). */
function recorder() {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, log: { debug: push, info: push, warn: push, error: push } };
}

function said(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    parts.push(e.message, String((e as { hint?: string }).hint ?? ""), JSON.stringify(e));
  }
  return parts.join("\n");
}

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("a url with credentials", () => {
  it("is refused by the option check with one message that names neither password nor user", () => {
    const result = Options.safeParse({ url: `https://alice:${SECRET}@dav.example.com/cal/` });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((i) => i.message);
    expect(messages).toEqual([
      'The url https://dav.example.com/cal/ is written with a user name or password in it ("user:password@host"), ' +
        "which is never sent: remove them from `url` and set the `username` and `password` options instead.",
    ]);
    expect(JSON.stringify(result.error)).not.toContain(SECRET);
    expect(JSON.stringify(result.error)).not.toContain("alice");
    // A user name alone is refused too; a URL without user info passes.
    expect(Options.safeParse({ url: "https://alice@dav.example.com/" }).success).toBe(false);
    expect(
      Options.safeParse({ url: "https://dav.example.com/", username: "alice", password: SECRET }).success,
    ).toBe(true);
  });

  it("is refused by the session before any request, so nothing is retried or printed", async () => {
    server = await localServer((_req, res) => res.writeHead(500).end());
    const withSecret = server.url.replace("//", `//alice:${SECRET}@`);
    const { lines, log } = recorder();
    let thrown: unknown;
    try {
      createDavSession(toDavSessionOptions({ url: withSecret }, { instance: "remote", log }));
    } catch (error) {
      thrown = error;
    }
    expect(isVdirsyncerError(thrown) && thrown.code).toBe("USER");
    expect(said(thrown)).toContain("set the `username` and `password` options instead");
    expect(`${said(thrown)}\n${lines.join("\n")}`).not.toContain(SECRET);
    expect(server.seen).toEqual([]);
  });

  it("from a server's href or a cached config is refused at once: one error, no attempt, no secret", async () => {
    server = await localServer((_req, res) => res.writeHead(500).end());
    const { lines, log } = recorder();
    const session = createDavSession({ url: server.url, log, retryBaseMs: 1, retryMaxMs: 1 });
    const col = openDavCollection(session, server.url.replace("//", `//alice:${SECRET}@`), {
      kind: "calendar",
      fileext: ".ics",
    });
    let thrown: unknown;
    try {
      for await (const _ of col.list()) break;
    } catch (error) {
      thrown = error;
    }
    expect(isVdirsyncerError(thrown) && thrown.code).toBe("USER");
    expect(said(thrown)).not.toContain("attempts");
    expect(`${said(thrown)}\n${lines.join("\n")}`).not.toContain(SECRET);
    // Only the session's one OPTIONS probe of its own URL went out.
    expect(server.seen.filter((s) => s.method !== "OPTIONS")).toEqual([]);
    await session.close();
  });
});

describe("URLs in messages and logs", () => {
  it("redactUrl removes user info and masks token-like query values, keeping the rest as written", () => {
    expect(redactUrl(`https://alice:${SECRET}@h.example/a/b.ics`)).toBe("https://h.example/a/b.ics");
    expect(
      redactUrl(
        `https://h.example/cal?access_token=${SECRET}&view=week&X-Amz-Signature=${SECRET}&api_key=${SECRET}`,
      ),
    ).toBe(`https://h.example/cal?access_token=${MASK}&view=week&X-Amz-Signature=${MASK}&api_key=${MASK}`);
    expect(redactUrl("https://h.example/cal?q=a%20b&page=2")).toBe("https://h.example/cal?q=a%20b&page=2");
    expect(redactUrl("/calendars/user/work/x.ics")).toBe("/calendars/user/work/x.ics");
    expect(redactUrl(`not a url //bob:${SECRET}@host`)).not.toContain(SECRET);
  });

  it("redactText cleans URLs inside library messages and leaves other text alone", () => {
    const undici = `Request cannot be constructed from a URL that includes credentials: https://alice:${SECRET}@h.example/dav/`;
    expect(redactText(undici)).toBe(
      "Request cannot be constructed from a URL that includes credentials: https://h.example/dav/",
    );
    expect(redactText(`GET https://h.example/x?token=${SECRET}.`)).toBe(
      `GET https://h.example/x?token=${MASK}.`,
    );
    expect(redactText("connect ECONNREFUSED 127.0.0.1:8080 (http://127.0.0.1:8080)")).toBe(
      "connect ECONNREFUSED 127.0.0.1:8080 (http://127.0.0.1:8080)",
    );
    expect(hasUserInfo("https://h.example/")).toBe(false);
    expect(hasUserInfo(`https://:${SECRET}@h.example/`)).toBe(true);
  });

  it("a failing request with a token in its query prints the URL masked in the error and every log line", async () => {
    server = await localServer((_req, res) => res.writeHead(503, "Busy").end("busy"));
    const { lines, log } = recorder();
    const url = `${server.url}feed.ics?access_token=${SECRET}`;
    const session = createDavSession({ url: server.url, log, maxAttempts: 2, retryBaseMs: 1, retryMaxMs: 1 });
    const col = openDavCollection(session, url, { kind: "calendar", fileext: ".ics" });
    let thrown: unknown;
    try {
      for await (const _ of col.list()) break;
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    // The token reached the server (it is part of the URL), never the user's screen.
    expect(server.seen.filter((s) => s.path.includes(SECRET)).length).toBeGreaterThan(0);
    expect(said(thrown)).toContain(`access_token=${MASK}`);
    expect(lines.some((l) => l.includes(`access_token=${MASK}`))).toBe(true);
    expect(`${said(thrown)}\n${lines.join("\n")}`).not.toContain(SECRET);
    await session.close();
  });

  it("check() of a storage whose url carries a token names it masked", async () => {
    server = await localServer((_req, res) => res.writeHead(500, "Broken").end("broken"));
    const { lines, log } = recorder();
    const storage = createDavStorage(
      { url: `${server.url}dav/?token=${SECRET}`, log, maxAttempts: 1 },
      { kind: "calendar", fileext: ".ics" },
    );
    const report = await storage.check();
    await storage.close();
    const text = `${JSON.stringify(report)}\n${lines.join("\n")}`;
    expect(report.results.some((r) => !r.ok)).toBe(true);
    expect(text).not.toContain(SECRET);
  });
});
