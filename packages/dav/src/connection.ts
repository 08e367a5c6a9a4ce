/**
 * The connection pool of a session: TLS settings (CA bundle, client certificate, a pinned fingerprint checked on
 * every connection) and what the server shows of itself on the wire (which HTTP version it answers with).
 */
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { UserError } from "@vdirsyncer/core";
import { Agent, buildConnector } from "undici";

/** TLS and pool settings of {@link makeAgent}. */
export interface AgentOptions {
  verify?: string | null | undefined;
  verifyFingerprint?: string | null | undefined;
  authCert?: string | readonly [string, string] | null | undefined;
  /** Connections kept per origin. */
  connections: number;
  /** Called with the status line's HTTP version (`"1.0"`, `"1.1"`) of the first answer on each connection. */
  onHttpVersion?: (version: string) => void;
}

/**
 * A SHA-256 fingerprint as 64 lower-case hex digits.
 * @throws {UserError} it is not 64 hex digits (colons allowed)
 */
export function normaliseFingerprint(fp: string): string {
  const hex = fp.replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new UserError(
      "verify_fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed); MD5 and SHA-1 are not accepted.",
    );
  }
  return hex;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new UserError(`Cannot read the ${what} file ${path}.`, { cause });
  }
}

/**
 * Reads the HTTP version off the first bytes the server sends on a connection (`HTTP/1.0 207 …`). The pool reads
 * the socket itself; a `data` listener next to its `readable` one sees the same chunks without taking them.
 */
function watchVersion(socket: Socket, report: (version: string) => void): void {
  socket.once("data", (chunk: Buffer) => {
    const m = /^HTTP\/(\d\.\d) /.exec(chunk.subarray(0, 12).toString("latin1"));
    if (m) report(m[1] as string);
  });
}

/**
 * The undici pool of a session.
 * @throws {UserError} an unreadable `verify`/`auth_cert` file, or a fingerprint that is not SHA-256
 */
export function makeAgent(o: AgentOptions): Agent {
  const fingerprint = o.verifyFingerprint ? normaliseFingerprint(o.verifyFingerprint) : undefined;
  const tls: Record<string, unknown> = {};
  if (o.verify) tls.ca = readPem(o.verify, "verify (CA bundle)");
  if (o.authCert) {
    const [certPath, keyPath] = typeof o.authCert === "string" ? [o.authCert, o.authCert] : o.authCert;
    tls.cert = readPem(certPath, "auth_cert certificate");
    tls.key = readPem(keyPath, "auth_cert key");
  }
  // A fingerprint alone replaces CA validation (vdirsyncer's meaning); with `verify` both must pass.
  if (fingerprint && !o.verify) tls.rejectUnauthorized = false;
  // A resumed TLS session carries no peer certificate, so the pin could not be checked on later connections.
  if (fingerprint) tls.maxCachedSessions = 0;
  const base = buildConnector(tls as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) =>
    base(opts, (error, socket) => {
      if (error || !socket) {
        callback(error as Error, socket as never);
        return;
      }
      if (fingerprint && socket instanceof TLSSocket) {
        const actual = socket.getPeerCertificate().fingerprint256?.replace(/:/g, "").toLowerCase();
        if (actual !== fingerprint) {
          socket.destroy();
          const mismatch = new Error(
            `The server certificate's SHA-256 fingerprint ${actual ?? "(none)"} does not match verify_fingerprint.`,
          );
          (mismatch as { code?: string }).code = "FINGERPRINT_MISMATCH";
          callback(mismatch, null);
          return;
        }
      }
      if (o.onHttpVersion) watchVersion(socket as Socket, o.onHttpVersion);
      callback(null, socket);
    });
  return new Agent({ connect, keepAliveTimeout: 30_000, connections: Math.max(1, o.connections) });
}
