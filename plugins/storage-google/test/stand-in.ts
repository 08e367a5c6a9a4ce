/**
 * A local stand-in for Google, because Google cannot be reached from the test machines: the OAuth authorization
 * and token endpoints, and CalDAV/CardDAV at Google's paths, proxied to a real Radicale.
 *
 * What it imitates (spec/dav.md, Google): the authorization endpoint auto-approves and redirects to the loopback
 * `redirect_uri` with `code` and `state`; the token endpoint checks the client, the PKCE verifier, the
 * redirect URI, single use of codes, and answers `invalid_grant` for revoked refresh tokens; access tokens
 * expire; DAV requests need `Authorization: Bearer` (401 otherwise); calendars appear as
 * `/caldav/v2/<calendarId>/events/`; the well-known CardDAV URL redirects to a home whose listing has no
 * `resourcetype`; MKCALENDAR, MKCOL and (on CardDAV) PROPPATCH answer 405; VTODO/VJOURNAL are refused.
 * What is guessed is marked [U] in the README.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { GoogleEndpoints } from "../src/endpoints.ts";

/** The Radicale behind the stand-in. */
export interface Backend {
  url: string;
  username?: string;
  password?: string;
}

/** One DAV request as the stand-in saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  /** `performance.now()` when it arrived. */
  at: number;
  userAgent: string | undefined;
  authorized: boolean;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  used: boolean;
}

const CLIENT_ID = "1234-standin.apps.googleusercontent.com";
const CLIENT_SECRET = "GOCSPX-stand-in-secret";
const EMAIL = "someone@example.com";

function rand(prefix: string): string {
  return `${prefix}${randomBytes(24).toString("base64url")}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

const RESPONSE = /<([\w.-]+:)?response\b[^>]*>[\s\S]*?<\/\1response>/g;
const HREF = /(<([\w.-]+:)?href>)([^<]*)(<\/\2href>)/g;
const RESOURCETYPE = /<([\w.-]+:)?resourcetype\s*\/>|<([\w.-]+:)?resourcetype>[\s\S]*?<\/\2resourcetype>/g;

/** The Google stand-in. Start it with {@link GoogleStandIn.start}. */
export class GoogleStandIn {
  readonly clientId = CLIENT_ID;
  readonly clientSecret = CLIENT_SECRET;
  readonly email = EMAIL;
  /** Lifetime of new access tokens, in seconds. */
  accessLifetime = 3600;
  /** DAV requests, in arrival order. */
  readonly seen: SeenRequest[] = [];
  /** Query strings the authorization endpoint received. */
  readonly authorizations: URLSearchParams[] = [];
  /** Grant types the token endpoint was asked for, in order (`authorization_code`, `refresh_token`). */
  readonly tokenGrants: string[] = [];
  /** Answer the authorization with `error=access_denied` instead of a code. */
  deny = false;
  readonly #server: Server;
  readonly #backend: Backend;
  readonly #codes = new Map<string, Grant>();
  readonly #access = new Map<string, { expires: number; scope: string }>();
  readonly #refresh = new Map<string, { revoked: boolean; scope: string }>();
  readonly #failures: { status: number; body: string; headers: Record<string, string> }[] = [];
  #origin = "";

  private constructor(backend: Backend) {
    this.#backend = backend;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`stand-in failure: ${(error as Error).stack}`);
      });
    });
  }

  /** Starts a stand-in on 127.0.0.1 and a free port, in front of `backend`. */
  static async start(backend: Backend): Promise<GoogleStandIn> {
    const standIn = new GoogleStandIn(backend);
    await new Promise<void>((resolve) => standIn.#server.listen(0, "127.0.0.1", resolve));
    const { port } = standIn.#server.address() as { port: number };
    standIn.#origin = `http://127.0.0.1:${port}`;
    return standIn;
  }

  /** The endpoints, in the shape of `VDIRSYNCER_GOOGLE_ENDPOINTS`. */
  get endpoints(): GoogleEndpoints {
    return {
      authorize: `${this.#origin}/o/oauth2/v2/auth`,
      token: `${this.#origin}/oauth2/v4/token`,
      caldav: `${this.#origin}/caldav/v2/`,
      carddav: `${this.#origin}/.well-known/carddav`,
    };
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A token as the token endpoint would issue it, for tests that start from an existing token file. */
  issueToken(scope: string): Record<string, unknown> {
    const access = rand("ya29.");
    const refresh = rand("1//");
    this.#access.set(access, { expires: Date.now() + this.accessLifetime * 1000, scope });
    this.#refresh.set(refresh, { revoked: false, scope });
    return {
      access_token: access,
      expires_in: this.accessLifetime,
      refresh_token: refresh,
      scope: [scope],
      token_type: "Bearer",
      expires_at: Date.now() / 1000 + this.accessLifetime,
    };
  }

  /** Makes every access token issued so far invalid (as if it had expired server-side). */
  expireAccessTokens(): void {
    for (const entry of this.#access.values()) entry.expires = 0;
  }

  /** Revokes a refresh token (or all of them). */
  revoke(refreshToken?: string): void {
    for (const [token, entry] of this.#refresh)
      if (!refreshToken || token === refreshToken) entry.revoked = true;
  }

  /** Answers the next DAV requests with this status and body (after the Bearer check). */
  failNext(count: number, status: number, body: string, headers: Record<string, string> = {}): void {
    for (let i = 0; i < count; i++) this.#failures.push({ status, body, headers });
  }

  /** Forgets the failures {@link failNext} queued and no request used. */
  clearFailures(): void {
    this.#failures.length = 0;
  }

  #backendAuth(): Record<string, string> {
    const { username, password } = this.#backend;
    return username && password
      ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` }
      : {};
  }

  async #backendRequest(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    return fetch(new URL(path, this.#backend.url), {
      method,
      headers: { ...this.#backendAuth(), ...headers },
      ...(body !== undefined ? { body } : {}),
      redirect: "manual",
    });
  }

  /** Creates a calendar in Radicale and returns its Google-style URL (`…/caldav/v2/<id>/events/`). */
  async newCalendar(id = `cal-${randomUUID()}`): Promise<string> {
    const res = await this.#backendRequest(
      "MKCALENDAR",
      `/${this.#backend.username ?? "user"}/${encodeURIComponent(id)}/`,
    );
    if (res.status !== 201) throw new Error(`MKCALENDAR ${id} answered ${res.status}: ${await res.text()}`);
    return `${this.#origin}/caldav/v2/${encodeURIComponent(id)}/events/`;
  }

  /** Creates an address book in Radicale and returns its Google-style URL (`…/carddav/v1/principals/<email>/lists/<id>/`). */
  async newAddressBook(id = `book-${randomUUID()}`): Promise<string> {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">' +
      "<D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>";
    const res = await this.#backendRequest(
      "MKCOL",
      `/${this.#backend.username ?? "user"}/${encodeURIComponent(id)}/`,
      body,
      {
        "content-type": "application/xml",
      },
    );
    if (res.status !== 201) throw new Error(`MKCOL ${id} answered ${res.status}: ${await res.text()}`);
    return `${this.#origin}${this.#booksHome()}${encodeURIComponent(id)}/`;
  }

  #booksHome(): string {
    return `/carddav/v1/principals/${this.email}/lists/`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.#origin);
    if (url.pathname === "/o/oauth2/v2/auth") return this.#authorize(url.searchParams, res);
    if (url.pathname === "/oauth2/v4/token") return this.#token(req, res);
    const dav =
      url.pathname.startsWith("/caldav/v2/") ||
      url.pathname === "/.well-known/carddav" ||
      url.pathname.startsWith("/carddav/v1/");
    if (!dav) return json(res, 404, { error: { code: 404, message: "Not Found" } });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const access = bearer ? this.#access.get(bearer) : undefined;
    const authorized = access !== undefined && access.expires > Date.now();
    this.seen.push({
      method: req.method ?? "GET",
      path: url.pathname,
      at: performance.now(),
      userAgent: req.headers["user-agent"],
      authorized,
    });
    const body = await readBody(req);
    if (!authorized) {
      return json(
        res,
        401,
        {
          error: {
            code: 401,
            message: "Request had invalid authentication credentials.",
            status: "UNAUTHENTICATED",
          },
        },
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      );
    }
    const failure = this.#failures.shift();
    if (failure) {
      res.writeHead(failure.status, {
        "content-type": "application/json; charset=UTF-8",
        ...failure.headers,
      });
      res.end(failure.body);
      return;
    }
    if (url.pathname.startsWith("/caldav/v2/")) return this.#caldav(req, url, body, res);
    return this.#carddav(req, url, body, res);
  }

  #authorize(q: URLSearchParams, res: ServerResponse): void {
    this.authorizations.push(q);
    const redirect = q.get("redirect_uri") ?? "";
    const problems: string[] = [];
    if (q.get("response_type") !== "code") problems.push("response_type");
    if (q.get("client_id") !== this.clientId) problems.push("client_id");
    if (!/^http:\/\/127\.0\.0\.1:\d+\/?$/.test(redirect)) problems.push("redirect_uri");
    if (q.get("code_challenge_method") !== "S256" || !q.get("code_challenge"))
      problems.push("code_challenge");
    if (!q.get("state")) problems.push("state");
    if (q.get("access_type") !== "offline") problems.push("access_type");
    if (!q.get("scope")) problems.push("scope");
    if (problems.length > 0) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`Error 400: invalid_request (${problems.join(", ")})`);
      return;
    }
    const target = new URL(redirect);
    target.searchParams.set("state", q.get("state") as string);
    if (this.deny) {
      target.searchParams.set("error", "access_denied");
    } else {
      const code = rand("4/0A");
      this.#codes.set(code, {
        clientId: this.clientId,
        redirectUri: redirect,
        challenge: q.get("code_challenge") as string,
        scope: q.get("scope") as string,
        used: false,
      });
      target.searchParams.set("code", code);
      target.searchParams.set("scope", q.get("scope") as string);
    }
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  async #token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString("utf8"));
    const grant = form.get("grant_type") ?? "";
    this.tokenGrants.push(grant);
    if (req.method !== "POST") return json(res, 405, { error: "invalid_request" });
    if (form.get("client_id") !== this.clientId || form.get("client_secret") !== this.clientSecret) {
      return json(res, 401, { error: "invalid_client", error_description: "Unauthorized" });
    }
    const issue = (scope: string, refresh?: string) => {
      const access = rand("ya29.");
      this.#access.set(access, { expires: Date.now() + this.accessLifetime * 1000, scope });
      return json(res, 200, {
        access_token: access,
        expires_in: this.accessLifetime,
        scope,
        token_type: "Bearer",
        ...(refresh ? { refresh_token: refresh } : {}),
      });
    };
    if (grant === "authorization_code") {
      const code = form.get("code") ?? "";
      const entry = this.#codes.get(code);
      if (!entry || entry.used)
        return json(res, 400, { error: "invalid_grant", error_description: "Malformed auth code." });
      entry.used = true;
      if (form.get("redirect_uri") !== entry.redirectUri) {
        return json(res, 400, { error: "redirect_uri_mismatch", error_description: "Bad Request" });
      }
      const verifier = form.get("code_verifier") ?? "";
      const challenge = createHash("sha256").update(verifier).digest("base64url");
      if (!verifier || challenge !== entry.challenge) {
        return json(res, 400, { error: "invalid_grant", error_description: "Invalid code verifier." });
      }
      const refresh = rand("1//");
      this.#refresh.set(refresh, { revoked: false, scope: entry.scope });
      return issue(entry.scope, refresh);
    }
    if (grant === "refresh_token") {
      const entry = this.#refresh.get(form.get("refresh_token") ?? "");
      if (!entry || entry.revoked) {
        return json(res, 400, {
          error: "invalid_grant",
          error_description: "Token has been expired or revoked.",
        });
      }
      return issue(entry.scope);
    }
    return json(res, 400, { error: "unsupported_grant_type" });
  }

  /** Google calendar paths to Radicale's: `/caldav/v2/` is the home, `/caldav/v2/<id>/events/…` a calendar. */
  async #caldav(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse): Promise<void> {
    const user = this.#backend.username ?? "user";
    const method = req.method ?? "GET";
    if (method === "MKCALENDAR" || method === "MKCOL")
      return json(res, 405, { error: { code: 405, message: "Method not allowed" } });
    let backendPath: string;
    let home = false;
    if (url.pathname === "/caldav/v2/") {
      backendPath = `/${user}/`;
      home = true;
    } else {
      const m = /^\/caldav\/v2\/([^/]+)\/events\/(.*)$/.exec(url.pathname);
      if (!m) return json(res, 404, { error: { code: 404, message: "Not Found" } });
      backendPath = `/${user}/${m[1]}/${m[2]}`;
    }
    if (method === "PUT" && /^BEGIN:(VTODO|VJOURNAL)\r?$/m.test(body.toString("utf8"))) {
      return json(res, 400, { error: { code: 400, message: "Unsupported component type." } });
    }
    const toGoogle = (path: string) => {
      const prefix = `/${user}/`;
      if (!path.startsWith(prefix)) return path;
      const rest = path.slice(prefix.length);
      if (rest === "") return "/caldav/v2/";
      const slash = rest.indexOf("/");
      if (slash < 0) return `/caldav/v2/${rest}/events/`;
      return `/caldav/v2/${rest.slice(0, slash)}/events/${rest.slice(slash + 1)}`;
    };
    await this.#proxy(
      req,
      backendPath,
      body,
      res,
      (xml) => {
        // The calendar home lists calendars only; Radicale's address books live elsewhere on Google.
        const kept = home
          ? xml.replace(RESPONSE, (r) => (/<([\w.-]+:)?addressbook\s*\/>/.test(r) ? "" : r))
          : xml;
        return kept.replace(
          HREF,
          (_all, open: string, _p, href: string, close: string) => `${open}${toGoogle(href)}${close}`,
        );
      },
      (path) => {
        const m = /^(?:https?:\/\/[^/]+)?\/caldav\/v2\/([^/]+)\/events\/(.*)$/.exec(path);
        return m ? `/${user}/${m[1]}/${m[2]}` : path;
      },
    );
  }

  /** Google contacts paths: the well-known URL redirects to the home of address books, which lists them without resourcetype. */
  async #carddav(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse): Promise<void> {
    const user = this.#backend.username ?? "user";
    const method = req.method ?? "GET";
    const home = this.#booksHome();
    if (url.pathname === "/.well-known/carddav") {
      res.writeHead(301, { location: `${this.#origin}${home}` });
      res.end();
      return;
    }
    if (method === "MKCOL" || method === "MKCALENDAR" || method === "PROPPATCH") {
      return json(res, 405, { error: { code: 405, message: "Method not allowed" } });
    }
    const decoded = decodeURIComponent(url.pathname);
    if (!decoded.startsWith(home)) return json(res, 404, { error: { code: 404, message: "Not Found" } });
    const isHome = decoded === home;
    const backendPath = `/${user}/${url.pathname.slice(url.pathname.indexOf("/lists/") + "/lists/".length)}`;
    const toGoogle = (path: string) => {
      const prefix = `/${user}/`;
      return path.startsWith(prefix) ? `${home}${path.slice(prefix.length)}` : path;
    };
    await this.#proxy(
      req,
      backendPath,
      body,
      res,
      (xml) => {
        let out = xml;
        if (isHome) {
          // Only address books appear in Google's contacts home, and without any resourcetype.
          out = out
            .replace(RESPONSE, (r) => (/<([\w.-]+:)?calendar\s*\/>/.test(r) ? "" : r))
            .replace(RESOURCETYPE, "");
        }
        return out.replace(
          HREF,
          (_all, open: string, _p, href: string, close: string) => `${open}${toGoogle(href)}${close}`,
        );
      },
      (path) => {
        const m = /^(?:https?:\/\/[^/]+)?\/carddav\/v1\/principals\/[^/]+\/lists\/(.*)$/.exec(path);
        return m ? `/${user}/${m[1]}` : path;
      },
    );
  }

  async #proxy(
    req: IncomingMessage,
    backendPath: string,
    body: Buffer,
    res: ServerResponse,
    rewrite: (xml: string) => string,
    toBackend: (path: string) => string,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const headers: Record<string, string> = {};
    for (const name of ["depth", "content-type", "if-match", "if-none-match"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    let sent = body.length > 0 ? body.toString("utf8") : undefined;
    // multiget bodies name items by their Google paths.
    if (sent !== undefined && /xml/i.test(headers["content-type"] ?? "") && /href>/.test(sent)) {
      sent = sent.replace(
        HREF,
        (_all, open: string, _p, href: string, close: string) => `${open}${toBackend(href)}${close}`,
      );
    }
    const answer = await this.#backendRequest(method, backendPath, sent, headers);
    let text = await answer.text();
    const type = answer.headers.get("content-type") ?? "";
    if (/xml/i.test(type)) text = rewrite(text);
    const out: Record<string, string> = {};
    for (const name of ["content-type", "etag", "dav"]) {
      const value = answer.headers.get(name);
      if (value !== null) out[name] = value;
    }
    res.writeHead(answer.status, out);
    res.end(method === "HEAD" ? undefined : text);
  }
}
