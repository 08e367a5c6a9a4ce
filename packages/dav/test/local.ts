/** A tiny local HTTP(S) server for answers Radicale and Xandikos cannot be made to give. */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface LocalServer {
  /** `http(s)://127.0.0.1:<port>/` */
  url: string;
  /** Every request seen: method, path and its `Authorization` header. */
  seen: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** Starts a server on a free loopback port; with `tls` it speaks HTTPS with that key and certificate. */
export async function localServer(
  handler: Handler,
  tls?: { key: string; cert: string },
): Promise<LocalServer> {
  const seen: LocalServer["seen"] = [];
  const wrap = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
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
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A multistatus with one response carrying `prop` (raw XML in the DAV: namespace). */
export function multistatus(href: string, prop: string): string {
  return `<multistatus xmlns="DAV:"><response><href>${href}</href><propstat><prop>${prop}</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;
}

/**
 * A server that answers every request over HTTP/1.0 and closes the connection, as Python's `wsgiref` server does:
 * `answer` gets the method and body and returns status, headers and body.
 */
export async function http10Server(
  answer: (
    method: string,
    body: string,
  ) => { status: number; headers?: Record<string, string>; body: string },
): Promise<LocalServer> {
  const { createServer } = await import("node:net");
  const seen: LocalServer["seen"] = [];
  const server = createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString("latin1");
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const [method = "", path = ""] = head.split(" ");
      seen.push({ method, path, authorization: /\r\nauthorization:\s*([^\r]*)/i.exec(head)?.[1] });
      const reply = answer(method, buffer.subarray(end + 4, end + 4 + length).toString("utf8"));
      const body = Buffer.from(reply.body, "utf8");
      const headers = Object.entries({ ...reply.headers, "content-length": String(body.length) })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      socket.end(
        Buffer.concat([Buffer.from(`HTTP/1.0 ${reply.status} Status\r\n${headers}\r\n`, "latin1"), body]),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
