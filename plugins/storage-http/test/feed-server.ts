/**
 * A real HTTP server on a free loopback port for the tests: routes answer with feeds, validators, errors and
 * authentication challenges, and every request is recorded (method, path, headers, status) so tests can count them.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  status: number;
}

/** Answers one request; `status` is read from `res.statusCode` afterwards. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The running server. */
export interface FeedServer {
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  route(path: string, handler: Route): void;
  requests: SeenRequest[];
  /** Requests for one path. */
  seen(path: string): SeenRequest[];
  close(): Promise<void>;
}

/** Starts the server (HTTPS when `tls` is given); routes not registered answer 404. */
export async function startFeedServer(tls?: { key: string; cert: string }): Promise<FeedServer> {
  const routes = new Map<string, Route>();
  const requests: SeenRequest[] = [];
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const handler = routes.get(path);
    try {
      if (handler) await handler(req, res);
      else {
        res.statusCode = 404;
        res.end("not here");
      }
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
    requests.push({ method: req.method ?? "", path, headers: req.headers, status: res.statusCode });
  };
  const server = tls ? createTlsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `${tls ? "https" : "http"}://127.0.0.1:${port}${path}`,
    route: (path, handler) => routes.set(path, handler),
    requests,
    seen: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** How {@link serveFeed} answers. */
export interface FeedRouteOptions {
  /** Send this `ETag` and honour `If-None-Match`. */
  etag?: () => string;
  /** Send this `Last-Modified` and honour `If-Modified-Since`. */
  lastModified?: () => string;
  contentType?: string;
}

/** A route that serves `body()` (called on every GET) with optional validators, answering 304 when they match. */
export function serveFeed(body: () => string | Uint8Array, options: FeedRouteOptions = {}): Route {
  return (req, res) => {
    const etag = options.etag?.();
    const lastModified = options.lastModified?.();
    if (etag !== undefined) res.setHeader("ETag", etag);
    if (lastModified !== undefined) res.setHeader("Last-Modified", lastModified);
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are there.
    if (
      etag !== undefined && inm !== undefined
        ? inm === etag
        : lastModified !== undefined && ims === lastModified
    ) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader("Content-Type", options.contentType ?? "text/calendar; charset=utf-8");
    res.end(body());
  };
}

/** Wraps a route in HTTP Basic authentication. */
export function basicAuth(user: string, password: string, inner: Route): Route {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  return (req, res) => {
    if (req.headers.authorization !== expected) {
      res.statusCode = 401;
      res.setHeader("WWW-Authenticate", 'Basic realm="feeds"');
      res.end();
      return;
    }
    return inner(req, res);
  };
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** Wraps a route in HTTP Digest authentication (RFC 7616, MD5, qop=auth), checking the response hash. */
export function digestAuth(user: string, password: string, inner: Route): Route {
  const realm = "feeds";
  const nonces = new Set<string>();
  return (req, res) => {
    const header = req.headers.authorization ?? "";
    const params = new Map<string, string>();
    for (const m of header.replace(/^Digest\s+/i, "").matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]*))/gi)) {
      params.set((m[1] as string).toLowerCase(), m[2] ?? m[3] ?? "");
    }
    const nonce = params.get("nonce") ?? "";
    const ha1 = md5(`${user}:${realm}:${password}`);
    const ha2 = md5(`${req.method}:${params.get("uri")}`);
    const expected = md5(`${ha1}:${nonce}:${params.get("nc")}:${params.get("cnonce")}:auth:${ha2}`);
    if (
      /^Digest /i.test(header) &&
      nonces.has(nonce) &&
      params.get("username") === user &&
      params.get("response") === expected
    ) {
      return inner(req, res);
    }
    const fresh = randomBytes(16).toString("hex");
    nonces.add(fresh);
    res.statusCode = 401;
    res.setHeader("WWW-Authenticate", `Digest realm="${realm}", qop="auth", nonce="${fresh}", algorithm=MD5`);
    res.end();
  };
}
