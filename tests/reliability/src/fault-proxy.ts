/**
 * A small HTTP reverse proxy in front of a real server that injects faults per request: error statuses, a
 * stall past the client's timeout, a connection reset, truncated or invalid XML, a 207 whose per-href statuses
 * are wrong. A fault applies to the requests its `when` selects (e.g. one collection's path), so the tests can
 * check that everything else still finishes.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** The faults the proxy can inject. */
export type FaultKind =
  | "500"
  | "503-retry-after"
  | "429"
  | "401-mid-run"
  | "stall"
  | "reset"
  | "truncated-xml"
  | "invalid-xml"
  | "412-on-put"
  | "507-on-report"
  | "207-wrong-status";

/** Every fault, in report order. */
export const FAULTS: readonly FaultKind[] = [
  "500",
  "503-retry-after",
  "429",
  "401-mid-run",
  "stall",
  "reset",
  "truncated-xml",
  "invalid-xml",
  "412-on-put",
  "507-on-report",
  "207-wrong-status",
];

/** What a request looks like to a rule. */
export interface RequestInfo {
  method: string;
  /** The path, percent-decoded. */
  path: string;
  /** How many requests this rule has matched before this one. */
  seen: number;
}

/** One active fault and the requests it applies to. */
export interface FaultRule {
  kind: FaultKind;
  /** Selects requests (before the kind's own method filter). */
  when: (r: Omit<RequestInfo, "seen">) => boolean;
}

/** The kind's own method filter: which requests of the selected ones it changes. */
function applies(kind: FaultKind, r: RequestInfo): boolean {
  switch (kind) {
    case "412-on-put":
      return r.method === "PUT";
    case "507-on-report":
      return r.method === "REPORT";
    case "truncated-xml":
    case "invalid-xml":
    case "207-wrong-status":
      return r.method === "REPORT" || r.method === "PROPFIND";
    case "401-mid-run":
      // The first request of the collection passes: the credentials "expire" during the run.
      return r.seen >= 1;
    default:
      return true;
  }
}

/** A running proxy. */
export interface FaultProxy {
  /** The proxy's base URL (same paths as the upstream's). */
  url: string;
  /** Sets or clears the active fault. */
  set(rule: FaultRule | undefined): void;
  /** Requests the active fault changed since it was set: "METHOD path". */
  readonly hits: string[];
  /** Every request seen: "METHOD path status". */
  readonly log: string[];
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 to `upstream` (an `http://host:port/` URL). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rule: FaultRule | undefined;
  let seen = 0;
  const hits: string[] = [];
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<ServerResponse>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      // Plain bodies from upstream, so that faults can cut or rewrite them.
      const headers = { ...req.headers, host: target.host, "accept-encoding": "identity" };
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (
                v === undefined ||
                k === "content-length" ||
                k === "transfer-encoding" ||
                k === "connection"
              )
                continue;
              h[k] = Array.isArray(v) ? v.join(", ") : v;
            }
            resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
          });
          res.on("error", reject);
        },
      );
      up.on("error", reject);
      up.end(body);
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const method = req.method ?? "GET";
        let path = req.url ?? "/";
        try {
          path = decodeURIComponent(path);
        } catch {}
        const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
          log.push(`${method} ${path} ${status}`);
          res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
          res.end(body);
        };
        const r = rule;
        let fault: FaultKind | undefined;
        if (r?.when({ method, path })) {
          if (applies(r.kind, { method, path, seen })) fault = r.kind;
          seen++;
        }
        if (fault !== undefined) hits.push(`${method} ${path}`);
        try {
          switch (fault) {
            case "500":
              return send(500, "Internal Server Error (injected)", { "content-type": "text/plain" });
            case "503-retry-after":
              return send(503, "Service Unavailable (injected)", {
                "retry-after": "1",
                "content-type": "text/plain",
              });
            case "429":
              return send(429, "Too Many Requests (injected)", {
                "retry-after": "1",
                "content-type": "text/plain",
              });
            case "401-mid-run":
              return send(401, "Unauthorized (injected)", {
                "www-authenticate": 'Basic realm="test"',
                "content-type": "text/plain",
              });
            case "412-on-put":
              return send(412, "Precondition Failed (injected)", { "content-type": "text/plain" });
            case "507-on-report":
              return send(507, "Insufficient Storage (injected)", { "content-type": "text/plain" });
            case "stall":
              log.push(`${method} ${path} stalled`);
              stalled.add(res);
              return;
            case "reset":
              log.push(`${method} ${path} reset`);
              req.socket.destroy();
              return;
            case "invalid-xml":
              return send(
                207,
                '<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/x</D:href><D:propstat><<>&&</D:multistatus',
                {
                  "content-type": "application/xml; charset=utf-8",
                },
              );
            default:
              break;
          }
          const up = await forward(req, Buffer.concat(chunks));
          if (fault === "truncated-xml") {
            return send(up.status, up.body.subarray(0, Math.floor(up.body.length / 2)), up.headers);
          }
          if (fault === "207-wrong-status" && up.status === 207) {
            const text = up.body
              .toString("utf8")
              .replace(/HTTP\/1\.[01] 200 OK/g, "HTTP/1.1 500 Internal Server Error");
            return send(207, text, up.headers);
          }
          return send(up.status, up.body, up.headers);
        } catch (e) {
          if (!res.headersSent) send(502, `proxy: ${(e as Error).message}`);
        }
      })();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    log,
    set(next) {
      rule = next;
      seen = 0;
      hits.length = 0;
    },
    async close() {
      for (const res of stalled) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
