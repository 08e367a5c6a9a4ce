import { readFileSync } from "node:fs";
import { TLSSocket } from "node:tls";
import {
  AccessDeniedError,
  InvalidResponseError,
  type Logger,
  NotFoundError,
  PreconditionFailedError,
  UserError,
  type VdirsyncerError,
} from "@vdirsyncer/core";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import type { DavSession, DavSessionOptions } from "./api.ts";
import { DigestAuth, parseDigestChallenge } from "./digest.ts";
import { DEFAULT_USERAGENT } from "./session-options.ts";

/** Methods that change nothing on the server, so a retry after a timeout or 5xx is harmless. */
const SAFE_METHODS = new Set(["GET", "HEAD", "PROPFIND", "REPORT", "OPTIONS"]);
/** Network error codes that mean the request never left this machine: retrying is harmless for any method. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const BODY_LIMIT = 4096;
/** Hints of the errors that say the server failed or could not be reached, rather than answered oddly. */
export const SERVER_ERROR_HINT =
  "The server failed on this request; try again later, and check the server's log if it persists.";
export const TIMEOUT_HINT =
  "The server did not answer in time; try again later, or raise `timeout` in the storage section.";
export const UNREACHABLE_HINT =
  "Check that the server is running and reachable at this URL (address, port, network, proxy).";
/** Hint of a certificate that no configured CA vouches for (self-signed, unknown CA). */
export const TLS_HINT =
  "The server's certificate is not trusted here: set `verify` to the CA bundle (PEM file) that signed it, or pin the certificate with `verify_fingerprint` (its SHA-256 fingerprint).";
/** Hint of a certificate issued for another host name. */
export const TLS_HOSTNAME_HINT =
  "The server's certificate is for another host name: use a host name it was issued for in `url`, or pin the certificate with `verify_fingerprint` (its SHA-256 fingerprint).";
/** Hint of an expired or not yet valid certificate. */
export const TLS_EXPIRED_HINT =
  "The server's certificate has expired or is not valid yet (check this machine's clock too): renew it on the server, or pin it with `verify_fingerprint` (its SHA-256 fingerprint).";
/** Hint of a certificate that is not the one `verify_fingerprint` pins. */
export const FINGERPRINT_HINT =
  "The server's certificate is not the pinned one: if it was renewed on purpose, put its new SHA-256 fingerprint in `verify_fingerprint`, or set `verify` to the CA bundle (PEM file) that signed it.";
/** Hint of a 429, or Google's 403 `usageLimits`, still refused after the retries. */
export const USAGE_LIMIT_HINT =
  "The server's request quota is used up for now; try again later, or sync fewer collections at once.";
/** Hint of a 401 unless the session names its own ({@link DavSessionOptions.authHint}). */
export const UNAUTHORIZED_HINT = "Check username and password, and `auth` (basic or digest) for this server.";
/** Hint of a Google 403 that says the API is not enabled for the OAuth client's project. */
export const API_DISABLED_HINT =
  "Enable the CalDAV API (calendars) or the CardDAV API (contacts) for the OAuth client's project in the Google Cloud console.";

/**
 * Certificate failures by Node/OpenSSL code, with what to do. Retrying cannot help: the same certificate comes back.
 */
const TLS_FAILURES: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: TLS_HINT,
  SELF_SIGNED_CERT_IN_CHAIN: TLS_HINT,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS_HINT,
  UNABLE_TO_GET_ISSUER_CERT: TLS_HINT,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS_HINT,
  CERT_UNTRUSTED: TLS_HINT,
  CERT_REJECTED: TLS_HINT,
  CERT_SIGNATURE_FAILURE: TLS_HINT,
  INVALID_CA: TLS_HINT,
  ERR_TLS_CERT_ALTNAME_INVALID: TLS_HOSTNAME_HINT,
  HOSTNAME_MISMATCH: TLS_HOSTNAME_HINT,
  CERT_HAS_EXPIRED: TLS_EXPIRED_HINT,
  CERT_NOT_YET_VALID: TLS_EXPIRED_HINT,
  FINGERPRINT_MISMATCH: FINGERPRINT_HINT,
};
/** Statuses a `Response` must be built without a body for (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A buffered HTTP answer. */
export interface DavResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The final URL after redirects. */
  url: string;
  /** The body decoded as UTF-8 (a BOM dropped, invalid bytes as U+FFFD), as `Response.text()` does. */
  body: string;
  /** The body exactly as received, for callers that must tell invalid bytes from a literal U+FFFD. */
  bytes: Uint8Array;
  /** The session's {@link DavSessionOptions.authHint}, carried to {@link statusError} for a 401. */
  authHint?: string;
}

/** One request of {@link HttpSession.request}. */
export interface DavRequest {
  method: string;
  /** Absolute URL, or a path resolved against the session URL. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Per-request override of the session timeout. */
  timeoutMs?: number;
  /** Per-request override of the session's attempts for retryable failures. */
  maxAttempts?: number;
}

/** The buffered answers behind the `Response`s {@link HttpSession.fetch} handed out, for {@link readResponse}. */
const answers = new WeakMap<Response, DavResponse>();

/** Decodes like `Response.text()`: UTF-8, a leading BOM dropped, invalid bytes replaced by U+FFFD. */
const utf8 = new TextDecoder();

/**
 * Buffers a `Response` returned by tsdav (made by {@link HttpSession.fetch}) into a {@link DavResponse}, so its
 * status, headers and body are judged exactly like our own requests' answers. A `Response` the session made
 * gives back the answer it was made from (bytes and auth hint included), whether or not its body was read.
 */
export async function readResponse(response: Response, url: string): Promise<DavResponse> {
  const known = answers.get(response);
  if (known) return known;
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    url: response.url || url,
    body: utf8.decode(bytes),
    bytes,
  };
}

interface GoogleErrorBody {
  error?: {
    message?: unknown;
    errors?: { domain?: unknown; reason?: unknown }[];
    details?: { reason?: unknown }[];
  };
}

/** Google's JSON error (`{"error": {"message", "errors": [{domain, reason}], "details": [{reason}]}}`), if it is one. */
function googleError(body: string): { message: string | undefined; reasons: string[] } | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  let error: GoogleErrorBody["error"];
  try {
    error = (JSON.parse(body) as GoogleErrorBody)?.error;
  } catch {
    return undefined;
  }
  if (typeof error !== "object" || error === null) return undefined;
  const reasons: string[] = [];
  for (const e of Array.isArray(error.errors) ? error.errors : []) {
    if (typeof e?.domain === "string") reasons.push(e.domain);
    if (typeof e?.reason === "string") reasons.push(e.reason);
  }
  for (const d of Array.isArray(error.details) ? error.details : []) {
    if (typeof d?.reason === "string") reasons.push(d.reason);
  }
  return { message: typeof error.message === "string" ? error.message : undefined, reasons };
}

/** Reasons Google gives in a 403 body when a quota, not a permission, is the problem. */
const QUOTA_REASONS = new Set([
  "usageLimits",
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "quotaExceeded",
  "dailyLimitExceeded",
]);
/** Reasons Google gives when the API is not enabled for the OAuth client's project. */
const DISABLED_REASONS = new Set(["accessNotConfigured", "SERVICE_DISABLED"]);

/**
 * True for "slow down" answers: 429, or a 403 whose JSON body has Google's `usageLimits` domain or a rate reason
 * (vdirsyncer 0.21 retries both). The server refused such a request before doing anything, so it is safe to repeat
 * for every method.
 */
export function isUsageLimited(response: Pick<DavResponse, "status" | "body">): boolean {
  if (response.status === 429) return true;
  if (response.status !== 403) return false;
  return googleError(response.body)?.reasons.some((r) => QUOTA_REASONS.has(r)) ?? false;
}

/** The HTTP error behind our errors: method, URL (without credentials), status and the body cut to 4 KiB. */
export class HttpStatusError extends Error {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly body: string;
  constructor(method: string, url: string, status: number, body: string) {
    super(`${method} ${url} answered ${status}.`);
    this.method = method;
    this.url = url;
    this.status = status;
    this.body = body;
  }
  override get name(): string {
    return "HttpStatusError";
  }
}

/** Removes userinfo and query-string secrets from a URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

/**
 * Maps a failed response to our errors: 404/410 → NotFoundError, 412 → PreconditionFailedError, 401/403 →
 * AccessDeniedError (with a hint), anything else → InvalidResponseError. The message names method and URL;
 * the cause ({@link HttpStatusError}) and InvalidResponseError carry the body cut to 4 KiB.
 */
export function statusError(
  method: string,
  response: Pick<DavResponse, "status" | "statusText" | "url" | "body" | "authHint">,
  href?: string,
): VdirsyncerError {
  const url = redactUrl(response.url);
  const body = response.body.slice(0, BODY_LIMIT);
  const cause = new HttpStatusError(method, url, response.status, body);
  const what = `${method} ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
  if (isUsageLimited(response)) {
    // Still refused after the retries: a quota, not these credentials, is the problem.
    return new InvalidResponseError(what, {
      cause,
      body,
      hint: USAGE_LIMIT_HINT,
      context: { location: url },
    });
  }
  switch (response.status) {
    case 404:
    case 410:
      return new NotFoundError(href ?? url, { cause, message: what });
    case 412:
      return new PreconditionFailedError(what, { cause, context: { href: href ?? url } });
    case 401:
    case 403: {
      // Google says why in a JSON body (e.g. "CalDAV API has not been used in project … or it is disabled").
      const google = googleError(response.body);
      const disabled = google?.reasons.some((r) => DISABLED_REASONS.has(r)) ?? false;
      return new AccessDeniedError(google?.message ? `${what.slice(0, -1)}: ${google.message}` : what, {
        cause,
        hint: disabled
          ? API_DISABLED_HINT
          : response.status === 401
            ? (response.authHint ?? UNAUTHORIZED_HINT)
            : "The server refused access to this resource for these credentials.",
        context: { location: url },
      });
    }
    default:
      return new InvalidResponseError(what, {
        cause,
        body,
        // A 5xx is the server's own failure, not an answer we misread: say what helps.
        ...(response.status >= 500 ? { hint: SERVER_ERROR_HINT } : {}),
        context: { location: url },
      });
  }
}

/**
 * No HTTP answer came back: the server could not be reached, did not answer in time, or its certificate was refused.
 * Its code is `INVALID_RESPONSE` like any unusable answer; discovery tells it apart, because asking the same server
 * at another URL cannot help.
 */
export class UnansweredError extends InvalidResponseError {}

/** A counting semaphore for the session's concurrency limit. */
class Limiter {
  #active = 0;
  #waiting: (() => void)[] = [];
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  async acquire(): Promise<void> {
    if (this.#active < this.#max) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `Retry-After` as milliseconds (delta seconds or an HTTP date), `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function normaliseFingerprint(fp: string): string {
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

const NOOP_LOG: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The HTTP session of a DAV storage: auth, TLS pins, timeouts, retries, connection reuse and a concurrency
 * limit. It never logs or reports credentials.
 */
export class HttpSession implements DavSession {
  readonly url: string;
  readonly fetch: typeof fetch;
  readonly log: Logger;
  readonly #options: DavSessionOptions;
  readonly #agent: Agent;
  readonly #limiter: Limiter;
  readonly #basic: string | undefined;
  #digest: DigestAuth | undefined;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #retryAfterCapMs: number;
  /** The `Server` and `DAV` headers of the first answer, for server profiles. */
  serverHeader: string | undefined;

  constructor(options: DavSessionOptions) {
    this.#options = options;
    this.url = `${options.url.replace(/\/+$/, "")}/`;
    this.log = options.log ?? NOOP_LOG;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#retryAfterCapMs = options.retryAfterCapMs ?? 60_000;
    const haveCredentials = Boolean(options.username) && Boolean(options.password);
    if (options.auth && !haveCredentials) {
      throw new UserError(`You need to specify username and password for ${options.auth} authentication.`);
    }
    if (haveCredentials && (options.auth ?? "basic") === "basic") {
      this.#basic = `Basic ${Buffer.from(`${options.username}:${options.password}`, "utf8").toString("base64")}`;
    }
    this.#limiter = new Limiter(Math.max(1, options.maxConcurrency ?? 8));
    this.#agent = this.#makeAgent();
    this.fetch = this.#fetchForLibraries.bind(this) as unknown as typeof fetch;
  }

  #makeAgent(): Agent {
    const o = this.#options;
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
        if (error || !fingerprint || !(socket instanceof TLSSocket)) {
          callback(error as Error, socket as never);
          return;
        }
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
        callback(null, socket);
      });
    return new Agent({
      connect,
      keepAliveTimeout: 30_000,
      connections: Math.max(1, this.#options.maxConcurrency ?? 8),
    });
  }

  /** Resolves a path against the session URL with WHATWG rules (for requests, not for hrefs). */
  resolve(path: string): string {
    return path === "" ? this.url : new URL(path, this.url).toString();
  }

  /** The `Authorization` value of one attempt: the host's hook, else Digest once challenged, else Basic. */
  async #authHeader(method: string, url: string): Promise<string | undefined> {
    if (this.#options.authorization) return this.#options.authorization();
    if (this.#digest) {
      const u = new URL(url);
      return this.#digest.header(method, `${u.pathname}${u.search}`);
    }
    return this.#basic;
  }

  /**
   * Sends one request with auth, timeout, retries and `Retry-After`; returns the buffered answer whatever its
   * status. Retried: 429 and Google's 403 `usageLimits` for every method (refused before anything was done);
   * 5xx, timeouts and network errors for safe methods; connection errors before sending for every method.
   * Never retried: certificate failures. A 401 is sent again once with a fresh Digest challenge, or when
   * {@link DavSessionOptions.onUnauthorized} says so.
   * @throws {InvalidResponseError} the server could not be reached, did not answer in time (after retries) or
   * presented a certificate that is not trusted (with a hint on `verify` / `verify_fingerprint`)
   * @throws {VdirsyncerError} whatever the `authorization`, `onUnauthorized` or `beforeRequest` hooks throw
   */
  async request(req: DavRequest): Promise<DavResponse> {
    const method = req.method.toUpperCase();
    const url = this.resolve(req.url);
    const safe = SAFE_METHODS.has(method);
    const maxAttempts = Math.max(1, req.maxAttempts ?? this.#options.maxAttempts ?? 5);
    let digestRetried = false;
    let authRetried = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      let delay: number | undefined;
      // Hooks run outside the concurrency limit: a rate limit or a first authorisation may wait a long time.
      await this.#options.beforeRequest?.();
      const auth = await this.#authHeader(method, url);
      await this.#limiter.acquire();
      const started = performance.now();
      let response: DavResponse | undefined;
      let failure: unknown;
      try {
        response = await this.#once(method, url, req, auth);
      } catch (error) {
        failure = error;
      } finally {
        this.#limiter.release();
      }
      const ms = Math.round(performance.now() - started);
      if (response) {
        this.serverHeader ??= `${response.headers.get("server") ?? ""} | ${response.headers.get("dav") ?? ""}`;
        this.log.debug(`${method} ${redactUrl(url)} -> ${response.status} (${ms} ms)`);
        this.#options.onRequest?.({ method, url: redactUrl(url), status: response.status, ms });
        if (this.#options.authHint !== undefined) response.authHint = this.#options.authHint;
        if (response.status === 401 && this.#options.onUnauthorized) {
          // At most one repeat per request: a second 401 after a fresh credential will not get better.
          if (!authRetried && (await this.#options.onUnauthorized(auth))) {
            authRetried = true;
            attempt--;
            continue;
          }
        } else if (response.status === 401 && this.#options.auth === "digest" && this.#options.username) {
          const challenge = parseDigestChallenge(response.headers.get("www-authenticate"));
          // One fresh challenge per request (vdirsyncer: at most two attempts on 401), more only when stale.
          if (challenge && (!digestRetried || challenge.stale)) {
            digestRetried = true;
            this.#digest = new DigestAuth(challenge, this.#options.username, this.#options.password ?? "");
            attempt--;
            continue;
          }
        }
        const retryable = isUsageLimited(response) || (safe && response.status >= 500);
        if (!retryable || attempt >= maxAttempts) return response;
        const after = parseRetryAfter(response.headers.get("retry-after"));
        delay = after !== undefined ? Math.min(after, this.#retryAfterCapMs) : undefined;
        this.log.debug(`${method} ${redactUrl(url)}: will retry after ${response.status}`);
      } else {
        if (this.#options.signal?.aborted) throw this.#options.signal.reason;
        const code = errorCode(failure);
        const timedOut =
          (failure as { name?: string })?.name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT";
        this.log.debug(
          `${method} ${redactUrl(url)} failed after ${ms} ms: ${code ?? (failure as Error)?.name}`,
        );
        this.#options.onRequest?.({ method, url: redactUrl(url), status: 0, ms });
        const tlsHint = code === undefined ? undefined : TLS_FAILURES[code];
        // The same certificate comes back on every attempt: retrying a TLS failure only delays the message.
        const retryable = tlsHint === undefined && (safe || (code !== undefined && NOT_SENT.has(code)));
        if (!retryable || attempt >= maxAttempts) {
          const reason = timedOut
            ? `did not answer within ${req.timeoutMs ?? this.#options.timeoutMs ?? 60_000} ms`
            : `failed: ${this.#describe(failure)}`;
          throw new UnansweredError(
            `${method} ${redactUrl(url)} ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ""}.`,
            {
              cause: failure,
              hint: tlsHint ?? (timedOut ? TIMEOUT_HINT : UNREACHABLE_HINT),
              context: { location: redactUrl(url) },
            },
          );
        }
      }
      // Full jitter: spreads the retries of concurrent requests.
      const backoff = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
      await sleep(delay ?? Math.random() * backoff, this.#options.signal);
    }
  }

  #describe(error: unknown): string {
    const code = errorCode(error);
    const message =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    // Credentials never appear here: undici messages name hosts and codes, not headers.
    return code ? `${message} (${code})` : message;
  }

  async #once(method: string, url: string, req: DavRequest, auth: string | undefined): Promise<DavResponse> {
    const headers: Record<string, string> = {
      "user-agent": this.#options.useragent ?? DEFAULT_USERAGENT,
      "content-type": "application/xml; charset=UTF-8",
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (auth) headers.authorization = auth;
    const timeout = AbortSignal.timeout(req.timeoutMs ?? this.#options.timeoutMs ?? 60_000);
    const signal = this.#options.signal ? AbortSignal.any([timeout, this.#options.signal]) : timeout;
    const res = await undiciFetch(url, {
      method,
      headers,
      body: req.body,
      dispatcher: this.#agent,
      redirect: "follow",
      signal,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers as unknown as Headers,
      url: res.url || url,
      body: utf8.decode(bytes),
      bytes,
    };
  }

  /** The `fetch` handed to libraries (tsdav): same auth, limits and retries, buffered answers. */
  async #fetchForLibraries(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => {
      headers[k] = v;
    });
    const body =
      typeof init?.body === "string"
        ? init.body
        : init?.body
          ? await new Response(init.body).text()
          : undefined;
    const res = await this.request({ method, url, headers, body });
    const response = new Response(NULL_BODY.has(res.status) ? null : res.bytes, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
    // A constructed Response has an empty `url`; tsdav reports it as the href of non-multistatus answers.
    Object.defineProperty(response, "url", { value: res.url });
    answers.set(response, res);
    return response;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}
