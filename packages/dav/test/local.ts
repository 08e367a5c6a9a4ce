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
