/**
 * The DAV session of the Google storages: `@vdirsyncer/dav`'s session with a Bearer token on every request, a
 * refresh and one retry after a 401, a client-side rate limit, and retries with backoff when Google says the
 * quota is used up (403 `usageLimits`, 429).
 */
import { AccessDeniedError, type Logger } from "@vdirsyncer/core";
import {
  type DavRequest,
  type DavResponse,
  type DavSessionOptions,
  HttpSession,
  parseRetryAfter,
  redactUrl,
} from "@vdirsyncer/dav";
import type { GoogleAuth } from "./oauth.ts";
import type { TokenBucket } from "./rate-limit.ts";

/** Methods the DAV session already retries on 429 itself. */
const SAFE_METHODS = new Set(["GET", "HEAD", "PROPFIND", "REPORT", "OPTIONS"]);
/** Reasons Google gives in a 403 body when a quota, not a permission, is the problem. */
const QUOTA_REASONS = new Set([
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "quotaExceeded",
  "dailyLimitExceeded",
]);
/** Reasons Google gives when the API is not enabled for the OAuth client's project. */
const DISABLED_REASONS = new Set(["accessNotConfigured", "SERVICE_DISABLED"]);

/** Retries after Google's quota answers. */
export interface UsageRetry {
  /** Attempts in all, the first included. @default 6 */
  attempts: number;
  /** First backoff; doubled per attempt, with jitter. @default 2000 */
  baseMs: number;
  /** Longest single wait (also caps `Retry-After`). @default 60_000 */
  capMs: number;
}

/** The defaults: about 2 minutes of backing off in all, enough for Google's per-minute window to move on. */
export const DEFAULT_USAGE_RETRY: Readonly<UsageRetry> = Object.freeze({
  attempts: 6,
  baseMs: 2000,
  capMs: 60_000,
});

interface GoogleErrorBody {
  error?: {
    message?: string;
    status?: string;
    errors?: { domain?: string; reason?: string }[];
    details?: unknown[];
  };
}

function googleError(body: string): GoogleErrorBody["error"] | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  try {
    return (JSON.parse(body) as GoogleErrorBody).error;
  } catch {
    return undefined;
  }
}

function reasons(error: NonNullable<GoogleErrorBody["error"]>): string[] {
  const out = (error.errors ?? []).flatMap((e) => [e.domain ?? "", e.reason ?? ""]);
  for (const d of error.details ?? []) {
    const reason = (d as { reason?: unknown }).reason;
    if (typeof reason === "string") out.push(reason);
  }
  return out;
}

/**
 * True for Google's "slow down" answers: 403 with a `usageLimits` domain or a rate reason in its JSON body, or 429.
 */
export function isUsageLimited(res: Pick<DavResponse, "status" | "body">): boolean {
  if (res.status === 429) return true;
  if (res.status !== 403) return false;
  const error = googleError(res.body);
  return error !== undefined && reasons(error).some((r) => r === "usageLimits" || QUOTA_REASONS.has(r));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** What a {@link GoogleDavSession} adds to the DAV session options. */
export interface GoogleSessionExtras {
  tokens: GoogleAuth;
  bucket: TokenBucket;
  usageRetry?: UsageRetry;
  log: Logger;
}

/**
 * A DAV session that authenticates with the Google access token.
 *
 * MUST take a rate-limit token before every request it sends (retries included), MUST refresh the access token
 * at most once per request after a 401, and MUST NOT log the token.
 */
export class GoogleDavSession extends HttpSession {
  readonly #extras: GoogleSessionExtras;
  readonly #signal: AbortSignal | undefined;

  constructor(options: DavSessionOptions, extras: GoogleSessionExtras) {
    super(options);
    this.#extras = extras;
    this.#signal = options.signal;
  }

  /**
   * Sends one request with `Authorization: Bearer …`.
   * @throws {AccessDeniedError} Google refused a freshly refreshed token, or the API is not enabled
   * @throws {UserError} the token could not be obtained or refreshed (see {@link GoogleAuth})
   */
  override async request(req: DavRequest): Promise<DavResponse> {
    const { tokens, bucket, log } = this.#extras;
    const retry = this.#extras.usageRetry ?? DEFAULT_USAGE_RETRY;
    const method = req.method.toUpperCase();
    let token = await tokens.accessToken();
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      await bucket.take();
      const res = await super.request({
        ...req,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      });
      if (res.status === 401) {
        if (!refreshed) {
          refreshed = true;
          attempt--;
          log.debug(`${method} ${redactUrl(res.url)} answered 401: refreshing the access token.`);
          token = await tokens.refreshAfterRejection(token);
          continue;
        }
        throw new AccessDeniedError(
          `Google refused a fresh access token: ${method} ${redactUrl(res.url)} answered 401.`,
          {
            hint: "Delete the token_file and run vdirsyncer again to authorise anew.",
            context: { location: redactUrl(res.url) },
          },
        );
      }
      if (res.status === 403) {
        const error = googleError(res.body);
        if (error && reasons(error).some((r) => DISABLED_REASONS.has(r))) {
          throw new AccessDeniedError(
            `Google refused ${method} ${redactUrl(res.url)}: ${error.message ?? "the API is disabled"}`,
            {
              hint: "Enable the CalDAV API (calendars) or the CardDAV API (contacts) for the OAuth client's project in the Google Cloud console.",
              context: { location: redactUrl(res.url) },
            },
          );
        }
      }
      // The session already retried a 429 on safe methods; a usage-limit 403, or a 429 on a write, is ours to
      // retry: Google refused it before doing anything, so even a PUT is safe to repeat.
      const ours = isUsageLimited(res) && !(res.status === 429 && SAFE_METHODS.has(method));
      if (!ours || attempt >= retry.attempts) return res;
      const after = parseRetryAfter(res.headers.get("retry-after"));
      const backoff = Math.min(retry.capMs, retry.baseMs * 2 ** (attempt - 1));
      const wait =
        after !== undefined ? Math.min(after, retry.capMs) : backoff / 2 + (Math.random() * backoff) / 2;
      log.debug(
        `${method} ${redactUrl(res.url)}: Google's quota is used up (${res.status}), retrying in ${Math.round(wait)} ms.`,
      );
      await sleep(wait, this.#signal);
    }
  }
}
