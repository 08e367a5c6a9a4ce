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
/** Statuses a `Response` must be built without a body for (the constructor throws otherwise). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const DEFAULT_USER_AGENT = "vdirsyncer/0.19.3";

/** A buffered HTTP answer. */
export interface DavResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The final URL after redirects. */
  url: string;
  body: string;
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

/**
 * Buffers a `Response` returned by tsdav (made by {@link HttpSession.fetch}) into a {@link DavResponse}, so its
 * status, headers and body are judged exactly like our own requests' answers.
 */
export async function readResponse(response: Response, url: string): Promise<DavResponse> {
  return {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    url: response.url || url,
    body: await response.text(),
  };
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
export function statusError(method: string, response: DavResponse, href?: string): VdirsyncerError {
  const url = redactUrl(response.url);
  const body = response.body.slice(0, BODY_LIMIT);
  const cause = new HttpStatusError(method, url, response.status, body);
  const what = `${method} ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
  switch (response.status) {
    case 404:
    case 410:
      return new NotFoundError(href ?? url, { cause, message: what });
    case 412:
      return new PreconditionFailedError(what, { cause, context: { href: href ?? url } });
    case 401:
    case 403:
      return new AccessDeniedError(what, {
        cause,
        hint:
          response.status === 401
            ? "Check username and password, and `auth` (basic or digest) for this server."
            : "The server refused access to this resource for these credentials.",
        context: { location: url },
      });
    default: {
      const error = new InvalidResponseError(what, { cause, body, context: { location: url } });
      // A 5xx is the server's own failure, not an answer we misread: say what helps.
      if (response.status >= 500) error.hint = SERVER_ERROR_HINT;
      return error;
    }
  }
}

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
  readonly #retryAfterCapMs: number;
  /** The `Server` and `DAV` headers of the first answer, for server profiles. */
  serverHeader: string | undefined;

  constructor(options: DavSessionOptions) {
    this.#options = options;
    this.url = `${options.url.replace(/\/+$/, "")}/`;
    this.log = options.log ?? NOOP_LOG;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
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

  #authHeader(method: string, url: string): string | undefined {
    if (this.#digest) {
      const u = new URL(url);
      return this.#digest.header(method, `${u.pathname}${u.search}`);
    }
    return this.#basic;
  }

  /**
   * Sends one request with auth, timeout, retries (safe methods: 5xx, 429, timeouts and network errors;
   * every method: connection errors before sending) and `Retry-After`; returns the buffered answer whatever
   * its status.
   * @throws {InvalidResponseError} the server could not be reached or did not answer in time, after retries
   */
  async request(req: DavRequest): Promise<DavResponse> {
    const method = req.method.toUpperCase();
    const url = this.resolve(req.url);
    const safe = SAFE_METHODS.has(method);
    const maxAttempts = Math.max(1, req.maxAttempts ?? this.#options.maxAttempts ?? 5);
    let digestRetried = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      let delay: number | undefined;
      await this.#limiter.acquire();
      const started = performance.now();
      let response: DavResponse | undefined;
      let failure: unknown;
      try {
        response = await this.#once(method, url, req);
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
        if (response.status === 401 && this.#options.auth === "digest" && this.#options.username) {
          const challenge = parseDigestChallenge(response.headers.get("www-authenticate"));
          // One fresh challenge per request (vdirsyncer: at most two attempts on 401), more only when stale.
          if (challenge && (!digestRetried || challenge.stale)) {
            digestRetried = true;
            this.#digest = new DigestAuth(challenge, this.#options.username, this.#options.password ?? "");
            attempt--;
            continue;
          }
        }
        const retryable = safe && (response.status >= 500 || response.status === 429);
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
        const retryable =
          code !== "FINGERPRINT_MISMATCH" && (safe || (code !== undefined && NOT_SENT.has(code)));
        if (!retryable || attempt >= maxAttempts) {
          const reason = timedOut
            ? `did not answer within ${req.timeoutMs ?? this.#options.timeoutMs ?? 60_000} ms`
            : `failed: ${this.#describe(failure)}`;
          const error = new InvalidResponseError(
            `${method} ${redactUrl(url)} ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ""}.`,
            { cause: failure, context: { location: redactUrl(url) } },
          );
          if (code !== "FINGERPRINT_MISMATCH") error.hint = timedOut ? TIMEOUT_HINT : UNREACHABLE_HINT;
          throw error;
        }
      }
      // Full jitter: spreads the retries of concurrent requests.
      const backoff = Math.min(10_000, this.#retryBaseMs * 2 ** (attempt - 1));
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

  async #once(method: string, url: string, req: DavRequest): Promise<DavResponse> {
    const headers: Record<string, string> = {
      "user-agent": this.#options.useragent ?? DEFAULT_USER_AGENT,
      "content-type": "application/xml; charset=UTF-8",
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    const auth = this.#authHeader(method, url);
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
    const body = await res.text();
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers as unknown as Headers,
      url: res.url || url,
      body,
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
    const response = new Response(NULL_BODY.has(res.status) ? null : res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
    // A constructed Response has an empty `url`; tsdav reports it as the href of non-multistatus answers.
    Object.defineProperty(response, "url", { value: res.url });
    return response;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}
