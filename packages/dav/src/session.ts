import { type Logger, type StatsSink, UserError } from "@vdirsyncer/core";
import { fetch as undiciFetch } from "undici";
import type { DavSession, DavSessionOptions } from "./api.ts";
import { makeAgent } from "./connection.ts";
import { DigestAuth, parseDigestChallenge } from "./digest.ts";
import {
  type ErrorInterpretation,
  hasUserInfo,
  isUsageLimited,
  redactText,
  redactUrl,
  TIMEOUT_HINT,
  TLS_FAILURES,
  UNREACHABLE_HINT,
  UnansweredError,
  userInfoInUrlMessage,
} from "./http-errors.ts";
import { needsDavClasses, type ObservedServer, observedServer } from "./profiles.ts";
import { errorCode, NOT_SENT, parseRetryAfter, SAFE_METHODS, Semaphore, sleep } from "./retry.ts";
import { DEFAULT_USERAGENT } from "./session-options.ts";

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
  /** The session's {@link DavSessionOptions.authHint}, carried to `statusError` for a 401. */
  authHint?: string;
  /** What the session's {@link DavSessionOptions.interpretError} hook said of this (failed) answer. */
  interpretation?: ErrorInterpretation;
}

/** What one request's cost is counted against, and what may stop it. */
export interface RequestScope {
  /** Where this request's counters go (a collection's); the session's `stats` when absent. */
  stats?: StatsSink;
  /** Stops this request (with the session's own signal). */
  signal?: AbortSignal;
}

/** One request of {@link HttpSession.request}. */
export interface DavRequest extends RequestScope {
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
const encoder = new TextEncoder();

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

const NOOP_LOG: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const NO_STATS: StatsSink = { add() {} };

/**
 * The HTTP session of a DAV storage: auth, TLS pins, timeouts, retries, connection reuse and a concurrency
 * limit. It never logs or reports credentials. Every request's cost goes to a {@link StatsSink}: the request's
 * own scope (a collection), else the session's.
 */
export class HttpSession implements DavSession {
  readonly url: string;
  readonly fetch: typeof fetch;
  readonly log: Logger;
  readonly #options: DavSessionOptions;
  readonly #agent: ReturnType<typeof makeAgent>;
  readonly #limiter: Semaphore;
  readonly #basic: string | undefined;
  #digest: DigestAuth | undefined;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #retryAfterCapMs: number;
  readonly #stats: StatsSink;
  /** How requests authenticate: the host's hook, Basic or Digest from the credentials, or not at all. */
  readonly authMode: "hook" | "basic" | "digest" | "none";
  /** What the server has shown of itself so far (protocol, DAV classes), for server profiles. */
  readonly observed: ObservedServer = observedServer();

  constructor(options: DavSessionOptions) {
    this.#options = options;
    this.url = `${options.url.replace(/\/+$/, "")}/`;
    this.log = options.log ?? NOOP_LOG;
    this.#stats = options.stats ?? NO_STATS;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#retryAfterCapMs = options.retryAfterCapMs ?? 60_000;
    // Hosts that skip the option check get the same refusal; fetch would refuse every request, and retry.
    if (hasUserInfo(options.url)) throw new UserError(userInfoInUrlMessage(options.url));
    const haveCredentials = Boolean(options.username) && Boolean(options.password);
    if (options.auth && !haveCredentials) {
      throw new UserError(`You need to specify username and password for ${options.auth} authentication.`);
    }
    if (haveCredentials && (options.auth ?? "basic") === "basic") {
      this.#basic = `Basic ${Buffer.from(`${options.username}:${options.password}`, "utf8").toString("base64")}`;
    }
    this.authMode = options.authorization
      ? "hook"
      : haveCredentials
        ? (options.auth ?? "basic") === "digest"
          ? "digest"
          : "basic"
        : "none";
    const max = Math.max(1, options.maxConcurrency ?? 16);
    this.#limiter = new Semaphore(max);
    this.#agent = makeAgent({
      verify: options.verify,
      verifyFingerprint: options.verifyFingerprint,
      authCert: options.authCert,
      connections: max,
      onHttpVersion: (version) => {
        this.observed.httpVersion ??= version;
      },
    });
    this.fetch = this.fetchFor({});
  }

  #probe: Promise<void> | undefined;

  /**
   * What the server has shown of itself, after one cheap probe (OPTIONS on the session URL, once per session)
   * when the profile still depends on the `DAV` header and no answer carried one: some servers (Xandikos) send it
   * only to OPTIONS. A failed probe
   * is not an error: the profile then rests on what the other answers showed.
   */
  async observe(scope: RequestScope = {}): Promise<ObservedServer> {
    if (needsDavClasses(this.observed)) {
      this.#probe ??= this.request({ method: "OPTIONS", url: this.url, maxAttempts: 1, ...scope }).then(
        () => undefined,
        (error: unknown) =>
          this.log.debug(`OPTIONS ${redactUrl(this.url)} failed: ${redactText((error as Error).message)}`),
      );
      await this.#probe;
    }
    return this.observed;
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
   * status. Retried: 429 and quota answers ({@link DavSessionOptions.interpretError}) for every method (refused
   * before anything was done); 5xx, timeouts and network errors for safe methods; connection errors before
   * sending for every method. Never retried: certificate failures. A 401 is sent again once with a fresh Digest
   * challenge, or when {@link DavSessionOptions.onUnauthorized} says so.
   *
   * MUST count every request the server got as `requests` (with its body bytes as `bytesSent` and the answer's
   * as `bytesReceived`) and every repeat after a retryable failure as `retries`, on the request's sink.
   * @throws {InvalidResponseError} the server could not be reached, did not answer in time (after retries) or
   * presented a certificate that is not trusted (with a hint on `verify` / `verify_fingerprint`)
   * @throws {VdirsyncerError} whatever the `authorization`, `onUnauthorized` or `beforeRequest` hooks throw
   */
  async request(req: DavRequest): Promise<DavResponse> {
    const method = req.method.toUpperCase();
    const url = this.resolve(req.url);
    // An href or cached url with credentials: fetch refuses it on every attempt, and would print it.
    if (hasUserInfo(url)) throw new UserError(userInfoInUrlMessage(url));
    const safe = SAFE_METHODS.has(method);
    const stats = req.stats ?? this.#stats;
    const signal = combine(this.#options.signal, req.signal);
    const maxAttempts = Math.max(1, req.maxAttempts ?? this.#options.maxAttempts ?? 5);
    const sent = req.body === undefined ? 0 : encoder.encode(req.body).byteLength;
    let digestRetried = false;
    let authRetried = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      if (attempt > 1) stats.add("retries");
      let delay: number | undefined;
      // Hooks run outside the concurrency limit: a rate limit or a first authorisation may wait a long time.
      await this.#options.beforeRequest?.();
      const auth = await this.#authHeader(method, url);
      await this.#limiter.acquire();
      const started = performance.now();
      let response: DavResponse | undefined;
      let failure: unknown;
      try {
        signal?.throwIfAborted();
        response = await this.#once(method, url, req, auth, signal);
      } catch (error) {
        failure = error;
      } finally {
        this.#limiter.release();
      }
      const ms = Math.round(performance.now() - started);
      if (response) {
        stats.add("requests");
        if (sent > 0) stats.add("bytesSent", sent);
        const received = wireLength(response);
        if (received > 0) stats.add("bytesReceived", received);
        this.observed.see(response.headers);
        this.log.debug(`${method} ${redactUrl(url)} -> ${response.status} (${ms} ms)`);
        this.#options.onRequest?.({ method, url: redactUrl(url), status: response.status, ms });
        if (this.#options.authHint !== undefined) response.authHint = this.#options.authHint;
        if (response.status >= 400 && this.#options.interpretError) {
          const said = this.#options.interpretError(response);
          if (said !== undefined) response.interpretation = said;
        }
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
        if (signal?.aborted) throw signal.reason;
        const code = errorCode(failure);
        const timedOut =
          (failure as { name?: string })?.name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT";
        const tlsHint = code === undefined ? undefined : TLS_FAILURES[code];
        // A request refused before it was sent (or at the TLS handshake) never reached the server.
        if (tlsHint === undefined && (code === undefined || !NOT_SENT.has(code))) {
          stats.add("requests");
          if (sent > 0) stats.add("bytesSent", sent);
        }
        this.log.debug(
          `${method} ${redactUrl(url)} failed after ${ms} ms: ${code ?? (failure as Error)?.name}`,
        );
        this.#options.onRequest?.({ method, url: redactUrl(url), status: 0, ms });
        // The same certificate comes back on every attempt: retrying a TLS failure only delays the message.
        const retryable = tlsHint === undefined && (safe || (code !== undefined && NOT_SENT.has(code)));
        if (!retryable || attempt >= maxAttempts) {
          const reason = timedOut
            ? `did not answer within ${req.timeoutMs ?? this.#options.timeoutMs ?? 60_000} ms`
            : `failed: ${describeFailure(failure)}`;
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
      await sleep(delay ?? Math.random() * backoff, signal);
    }
  }

  async #once(
    method: string,
    url: string,
    req: DavRequest,
    auth: string | undefined,
    stop: AbortSignal | undefined,
  ): Promise<DavResponse> {
    const headers: Record<string, string> = {
      "user-agent": this.#options.useragent ?? DEFAULT_USERAGENT,
      "content-type": "application/xml; charset=UTF-8",
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (auth) headers.authorization = auth;
    const timeout = AbortSignal.timeout(req.timeoutMs ?? this.#options.timeoutMs ?? 60_000);
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
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

  /**
   * A `fetch` for libraries (tsdav) with the same auth, limits and retries and buffered answers, whose requests
   * count against `scope`.
   */
  fetchFor(scope: RequestScope): typeof fetch {
    const send = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
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
      const res = await this.request({ method, url, headers, body, ...scope });
      const response = new Response(NULL_BODY.has(res.status) ? null : res.bytes, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
      // A constructed Response has an empty `url`; tsdav reports it as the href of non-multistatus answers.
      Object.defineProperty(response, "url", { value: res.url });
      answers.set(response, res);
      return response;
    };
    return send as unknown as typeof fetch;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The body's size on the wire: the compressed length when the server compressed it and said so, else the bytes. */
function wireLength(response: DavResponse): number {
  const length = response.headers.get("content-length");
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  return encoded && length !== null && /^\d+$/.test(length) ? Number(length) : response.bytes.byteLength;
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  return AbortSignal.any([a, b]);
}

function describeFailure(error: unknown): string {
  const code = errorCode(error);
  const message =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  // undici names the URL in some messages (one with credentials, for one): redacted like every URL we print.
  const safe = redactText(message);
  return code ? `${safe} (${code})` : safe;
}
