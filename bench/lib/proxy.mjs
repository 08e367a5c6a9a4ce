// A counting reverse proxy: every request to the server goes through it, so a run's request count, the requests
// per method and the time the server spent answering (the union of in-flight intervals) can be read per phase.
import { createServer, request as httpRequest } from "node:http";

/**
 * Starts a proxy on 127.0.0.1 in front of `target` (an http:// origin). `stats()` returns what was seen since the
 * last `reset()`. Bodies are streamed through untouched; Host is rewritten to the target's.
 */
export async function startCountingProxy(target) {
  const upstream = new URL(target);
  let requests = [];
  const server = createServer((req, res) => {
    const entry = { method: req.method, start: performance.now(), end: undefined, status: 0 };
    requests.push(entry);
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
        answer.on("end", () => {
          entry.end = performance.now();
        });
      },
    );
    out.on("error", (err) => {
      entry.end = performance.now();
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(out);
  });
  // Python's requests and undici keep connections open; never let that hold the proxy (or a run) open.
  server.keepAliveTimeout = 5_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    /** Rewrites a server URL to go through the proxy. */
    via(url) {
      const u = new URL(url);
      return `http://127.0.0.1:${port}${u.pathname}${u.search}`;
    },
    reset() {
      requests = [];
    },
    /** Request count, count per method, and busy seconds (all requests, and PUT/DELETE only). */
    stats() {
      const byMethod = {};
      for (const r of requests) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
      return {
        count: requests.length,
        byMethod,
        busy: busySeconds(requests),
        writeBusy: busySeconds(requests.filter((r) => r.method === "PUT" || r.method === "DELETE")),
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Length of the union of [start, end] intervals, in seconds: the time at least one request was in flight. */
function busySeconds(list) {
  const spans = list
    .filter((r) => r.end !== undefined)
    .map((r) => [r.start, r.end])
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [from, to] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [s, e] of spans) {
    if (s > to) {
      if (to > from) total += to - from;
      [from, to] = [s, e];
    } else if (e > to) to = e;
  }
  if (to > from) total += to - from;
  return total / 1000;
}
