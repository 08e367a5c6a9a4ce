/**
 * What the session does for hosts beyond Basic/Digest: the raw body bytes, retries of quota answers (429 and
 * what the `interpretError` hook calls a quota), the auth hooks (`authorization`, `onUnauthorized`, `authHint`, `beforeRequest`),
 * and discovery passing auth failures on instead of trying further URLs.
 */
import { isVdirsyncerError, UserError } from "@vdirsyncer/core";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createDavSession,
  type DavSessionOptions,
  discoverCollections,
  type HttpSession,
  isUsageLimited,
  openDavCollection,
  readResponse,
  UNREACHABLE_HINT,
  USAGE_LIMIT_HINT,
} from "../src/index.ts";
import { type Handler, localServer, multistatus } from "./local.ts";

const QUOTA = '{"reason":"quota"}';
const CTAG = multistatus("/cal/", '<getctag xmlns="http://calendarserver.org/ns/">7</getctag>');
const opts = { kind: "calendar" as const, fileext: ".ics" };

async function serve(handler: Handler) {
  const server = await localServer(handler);
  onTestFinished(() => server.close());
  return server;
}

function session(options: DavSessionOptions): HttpSession {
  const s = createDavSession(options) as HttpSession;
  onTestFinished(() => s.close());
  return s;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("raw bytes", () => {
  // A literal U+FFFD, then a byte that starts no UTF-8 character: only the bytes tell them apart.
  const raw = Buffer.concat([Buffer.from("a\uFFFDb", "utf8"), Buffer.from([0xff]), Buffer.from("c")]);

  it("a request's answer carries the body exactly as received next to its UTF-8 text", async () => {
    const s = await serve((_q, res) => res.writeHead(200).end(raw));
    const res = await session({ url: s.url }).request({ method: "GET", url: s.url });
    expect(Buffer.from(res.bytes).equals(raw)).toBe(true);
    expect(res.body).toBe("a\uFFFDb\uFFFDc");
  });

  it("the session's fetch hands out the same bytes, and readResponse gives the buffered answer back", async () => {
    const s = await serve((_q, res) => res.writeHead(200).end(raw));
    const http = session({ url: s.url });
    const response = await http.fetch(s.url);
    const answer = await readResponse(response, s.url);
    expect(Buffer.from(answer.bytes).equals(raw)).toBe(true);
    expect(Buffer.from(await response.arrayBuffer()).equals(raw)).toBe(true);
  });
});

describe("quota answers and the interpretError hook", () => {
  // Without Retry-After the backoff here would be minutes: a test that passes honoured the server's 0.
  const slowBackoff = { retryBaseMs: 600_000, retryMaxMs: 600_000 };
  // A host that knows its service's error bodies: here a JSON `{"reason": …}`.
  const interpretError: DavSessionOptions["interpretError"] = ({ status, body }) => {
    if (status !== 403 || !body.startsWith("{")) return undefined;
    const { reason } = JSON.parse(body) as { reason?: string };
    if (reason === "quota") return { quota: true };
    if (reason === "disabled") return { detail: "the API is disabled", hint: "Enable the API." };
    return undefined;
  };

  it("a 403 the hook calls a quota is retried like a 429, honouring Retry-After, for a PUT too", async () => {
    const seen: string[] = [];
    const s = await serve((req, res) => {
      seen.push(req.method ?? "");
      if (seen.length <= 2) res.writeHead(403, { "retry-after": "0" }).end(QUOTA);
      else if (seen.length === 3) res.writeHead(429, { "retry-after": "0" }).end();
      else res.writeHead(201, { etag: '"e1"' }).end();
    });
    const res = await session({ url: s.url, ...slowBackoff, interpretError }).request({
      method: "PUT",
      url: `${s.url}cal/x.ics`,
      body: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    });
    expect(res.status).toBe(201);
    expect(seen).toEqual(["PUT", "PUT", "PUT", "PUT"]);
  });

  it("without the hook the same 403 is answered at once, as an AccessDeniedError", async () => {
    const s = await serve((_q, res) => res.writeHead(403).end(QUOTA));
    const c = openDavCollection(session({ url: s.url, ...slowBackoff }), `${s.url}cal/`, opts);
    const error = await rejection(c.collectionTag?.() ?? Promise.resolve());
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(s.seen).toHaveLength(1);
  });

  it("still limited after the last attempt: an InvalidResponseError that says the quota is used up", async () => {
    const s = await serve((_q, res) => res.writeHead(403, { "retry-after": "0" }).end(QUOTA));
    const c = openDavCollection(
      session({ url: s.url, maxAttempts: 3, interpretError }),
      `${s.url}cal/`,
      opts,
    );
    const error = await rejection(c.collectionTag?.() ?? Promise.resolve());
    expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
    expect(error.message).toBe(`PROPFIND ${s.url}cal/ answered 403 Forbidden.`);
    expect(error.hint).toBe(USAGE_LIMIT_HINT);
    expect(s.seen).toHaveLength(3);
  });

  it("isUsageLimited() is a 429 or what the hook called a quota", () => {
    expect(isUsageLimited({ status: 429 })).toBe(true);
    expect(isUsageLimited({ status: 403, interpretation: { quota: true } })).toBe(true);
    expect(isUsageLimited({ status: 403 })).toBe(false);
    expect(isUsageLimited({ status: 403, interpretation: { detail: "no" } })).toBe(false);
    expect(isUsageLimited({ status: 200, interpretation: { quota: true } })).toBe(false);
  });

  it("the hook's detail goes into the message and its hint replaces the status's", async () => {
    const s = await serve((_q, res) => res.writeHead(403).end('{"reason":"disabled"}'));
    const c = openDavCollection(session({ url: s.url, interpretError }), `${s.url}cal/`, opts);
    const error = await rejection(c.collectionTag?.() ?? Promise.resolve());
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(error.message).toBe(`PROPFIND ${s.url}cal/ answered 403 Forbidden: the API is disabled`);
    expect(error.hint).toBe("Enable the API.");
  });
});

describe("auth hooks", () => {
  /** A server that accepts only `Bearer <token>` of the current token. */
  function bearerServer(accepted: () => string) {
    return serve((req, res) => {
      if (req.headers.authorization === `Bearer ${accepted()}`) res.writeHead(207).end(CTAG);
      else res.writeHead(401, { "www-authenticate": 'Bearer realm="x"' }).end();
    });
  }

  it("authorization() goes out on every request; after a 401 onUnauthorized gets the refused value and the request repeats once with the new one", async () => {
    let token = "t1";
    const s = await bearerServer(() => "t2");
    const refused: (string | undefined)[] = [];
    const c = openDavCollection(
      session({
        url: s.url,
        username: "ignored",
        password: "ignored",
        authorization: async () => `Bearer ${token}`,
        onUnauthorized: async (used) => {
          refused.push(used);
          token = "t2";
          return true;
        },
      }),
      `${s.url}cal/`,
      opts,
    );
    expect(await c.collectionTag?.()).toBe("7");
    expect(await c.collectionTag?.()).toBe("7");
    expect(s.seen.map((r) => r.authorization)).toEqual(["Bearer t1", "Bearer t2", "Bearer t2"]);
    expect(refused).toEqual(["Bearer t1"]);
  });

  it("a 401 after the repeat is an AccessDeniedError with the session's authHint; onUnauthorized is asked once", async () => {
    const s = await bearerServer(() => "never");
    let asked = 0;
    const c = openDavCollection(
      session({
        url: s.url,
        authorization: async () => "Bearer stale",
        onUnauthorized: async () => {
          asked++;
          return true;
        },
        authHint: "Delete the token file and authorise again.",
      }),
      `${s.url}cal/`,
      opts,
    );
    const error = await rejection(c.collectionTag?.() ?? Promise.resolve());
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(error.hint).toBe("Delete the token file and authorise again.");
    expect(asked).toBe(1);
    expect(s.seen).toHaveLength(2);
  });

  it("onUnauthorized answering false sends nothing more; what it throws ends the request as it is", async () => {
    const s = await bearerServer(() => "never");
    const no = openDavCollection(
      session({ url: s.url, authorization: async () => "Bearer x", onUnauthorized: async () => false }),
      `${s.url}cal/`,
      opts,
    );
    expect(
      isVdirsyncerError(await rejection(no.collectionTag?.() ?? Promise.resolve()), "ACCESS_DENIED"),
    ).toBe(true);
    expect(s.seen).toHaveLength(1);
    const revoked = new UserError("The refresh token was revoked.");
    const throws = openDavCollection(
      session({
        url: s.url,
        authorization: async () => "Bearer x",
        onUnauthorized: async () => {
          throw revoked;
        },
      }),
      `${s.url}cal/`,
      opts,
    );
    expect(await rejection(throws.collectionTag?.() ?? Promise.resolve())).toBe(revoked);
    expect(s.seen).toHaveLength(2);
  });

  it("without authHint a 401 keeps the username and password hint", async () => {
    const s = await bearerServer(() => "never");
    const c = openDavCollection(session({ url: s.url, username: "u", password: "p" }), `${s.url}cal/`, opts);
    expect((await rejection(c.collectionTag?.() ?? Promise.resolve())).hint).toMatch(/username and password/);
  });

  it("beforeRequest runs before every attempt, retries included", async () => {
    let calls = 0;
    const s = await serve((_q, res) => {
      if (s.seen.length === 1) res.writeHead(503, { "retry-after": "0" }).end();
      else res.writeHead(207).end(CTAG);
    });
    const c = openDavCollection(
      session({
        url: s.url,
        beforeRequest: async () => {
          calls++;
        },
      }),
      `${s.url}cal/`,
      opts,
    );
    expect(await c.collectionTag?.()).toBe("7");
    expect([calls, s.seen.length]).toEqual([2, 2]);
  });
});

describe("discovery passes auth failures on", () => {
  it("a UserError from authorization() ends discovery at once: no second authorisation", async () => {
    const s = await serve((_q, res) => res.writeHead(207).end('<multistatus xmlns="DAV:"/>'));
    let asked = 0;
    const refused = new UserError("You refused the authorisation.");
    const http = session({
      url: s.url,
      authorization: async () => {
        asked++;
        throw refused;
      },
    });
    expect(await rejection(drain(discoverCollections(http, "calendar")))).toBe(refused);
    expect([asked, s.seen.length]).toEqual([1, 0]);
  });

  it("a 403 for the principal is not asked again at the well-known URI", async () => {
    const s = await serve((req, res) => {
      if (req.headers.depth === "1") res.writeHead(207).end('<multistatus xmlns="DAV:"/>');
      else res.writeHead(403).end();
    });
    const error = await rejection(drain(discoverCollections(session({ url: s.url }), "calendar")));
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(s.seen.map((r) => r.path)).toEqual(["/", "/"]);
  });

  it("a 404 still falls back to the well-known URI, as vdirsyncer does", async () => {
    const s = await serve((_q, res) => res.writeHead(404).end());
    const error = await rejection(drain(discoverCollections(session({ url: s.url }), "calendar")));
    expect(isVdirsyncerError(error, "NOT_FOUND")).toBe(true);
    expect(s.seen.map((r) => r.path)).toEqual(["/", "/", "/.well-known/caldav"]);
  });

  it("a server that does not answer fails discovery at the first URL", async () => {
    const s = await localServer((_q, res) => res.end());
    await s.close();
    const attempts: number[] = [];
    const error = await rejection(
      drain(
        discoverCollections(
          session({ url: s.url, maxAttempts: 1, onRequest: (e) => attempts.push(e.status) }),
          "calendar",
        ),
      ),
    );
    expect(isVdirsyncerError(error, "INVALID_RESPONSE")).toBe(true);
    expect(error.hint).toBe(UNREACHABLE_HINT);
    expect(attempts).toEqual([0]);
  });
});
