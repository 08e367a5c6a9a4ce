/**
 * What the Google storages add to `@vdirsyncer/dav`'s session, through its hooks: a Bearer token on every request,
 * a refresh and one repeat after a 401, a client-side rate limit before every attempt, and Google's JSON error
 * bodies read (its quota answers, 403 `usageLimits`, are then retried like a 429 for every method).
 */
import type { Logger } from "@vdirsyncer/core";
import type { DavSessionOptions } from "@vdirsyncer/dav";
import { interpretGoogleError } from "./google-errors.ts";
import type { GoogleAuth } from "./oauth.ts";
import type { TokenBucket } from "./rate-limit.ts";

/**
 * Backoff for Google: its per-minute quota window needs longer waits than a busy server. Six attempts, 2 s
 * doubling up to 60 s between two of them (full jitter), unless `Retry-After` says otherwise.
 */
export const GOOGLE_RETRY: Readonly<Pick<DavSessionOptions, "maxAttempts" | "retryBaseMs" | "retryMaxMs">> =
  Object.freeze({ maxAttempts: 6, retryBaseMs: 2000, retryMaxMs: 60_000 });

const BEARER = "Bearer ";

/**
 * The session options that authenticate with the Google access token of `tokens`.
 *
 * MUST take a rate-limit token before every request sent (retries included), MUST refresh the access token at most
 * once per request after a 401, and MUST NOT log the token. What the token store throws (a `UserError` for a
 * refused authorisation or a revoked refresh token) ends the request as it is.
 */
export function googleSessionOptions(options: {
  tokens: GoogleAuth;
  bucket: TokenBucket;
  tokenFile: string;
  log: Logger;
}): Partial<DavSessionOptions> {
  const { tokens, bucket, tokenFile, log } = options;
  return {
    ...GOOGLE_RETRY,
    interpretError: interpretGoogleError,
    beforeRequest: () => bucket.take(),
    authorization: async () => `${BEARER}${await tokens.accessToken()}`,
    onUnauthorized: async (used) => {
      log.debug("Google refused the access token (401): refreshing it.");
      await tokens.refreshAfterRejection(used?.startsWith(BEARER) ? used.slice(BEARER.length) : "");
      return true;
    },
    authHint: `Google refused a freshly refreshed access token: delete ${tokenFile} and run vdirsyncer again to authorise anew.`,
  };
}
