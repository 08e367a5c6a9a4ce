/**
 * How the session turns an HTTP answer (or the lack of one) into our errors: the hints, the HTTP error behind them,
 * URL redaction, and the hook through which a host interprets a service's own error bodies.
 */
import {
  AccessDeniedError,
  InvalidResponseError,
  NotFoundError,
  PreconditionFailedError,
  type VdirsyncerError,
} from "@vdirsyncer/core";

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
/** Hint of a 429 (or a quota answer a host recognised) still refused after the retries. */
export const USAGE_LIMIT_HINT =
  "The server's request quota is used up for now; try again later, or sync fewer collections at once.";
/** Hint of a 401 unless the session names its own ({@link DavSessionOptions.authHint}). */
export const UNAUTHORIZED_HINT = "Check username and password, and `auth` (basic or digest) for this server.";
/** Hint of a 403 unless the host's interpretation names another. */
export const FORBIDDEN_HINT = "The server refused access to this resource for these credentials.";

/**
 * Certificate failures by Node/OpenSSL code, with what to do. Retrying cannot help: the same certificate comes back.
 */
export const TLS_FAILURES: Readonly<Record<string, string>> = {
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

/**
 * What a host reads out of an error answer that the status alone does not say, e.g. a service's JSON error body
 * (see {@link DavSessionOptions.interpretError}).
 */
export interface ErrorInterpretation {
  /**
   * The server refused because a request quota is used up, before doing anything: the session retries it for
   * every method (honouring `Retry-After`), and a final refusal gets {@link USAGE_LIMIT_HINT}.
   */
  quota?: boolean;
  /** The server's own words, appended to the message. */
  detail?: string;
  /** Replaces the hint the status would get. */
  hint?: string;
}

/** The parts of an answer {@link statusError} judges. */
export interface JudgedResponse {
  status: number;
  statusText: string;
  /** The final URL after redirects. */
  url: string;
  body: string;
  /** The session's {@link DavSessionOptions.authHint}, for a 401. */
  authHint?: string;
  /** What the session's `interpretError` hook said of this answer. */
  interpretation?: ErrorInterpretation;
}

/**
 * True for "slow down" answers: 429, or one the host's interpretation calls a quota refusal. The server refused
 * such a request before doing anything, so it is safe to repeat for every method.
 */
export function isUsageLimited(response: Pick<JudgedResponse, "status" | "interpretation">): boolean {
  return response.status === 429 || (response.status >= 400 && response.interpretation?.quota === true);
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

/**
 * Query parameters whose value is a secret (OAuth tokens, API keys, signed-URL signatures): their values are
 * masked in messages and logs. Matched by whole name or by a part of it (`access_token`, `X-Amz-Signature`).
 */
const SECRET_PARAM =
  /(^|[-_.])(token|access[-_]?token|refresh[-_]?token|id[-_]?token|key|api[-_]?key|apikey|secret|password|passwd|pass|pwd|auth|authorization|sig|signature|credential|credentials|code|session|sessionid)$/i;

/** What a masked secret reads as in messages. */
export const MASK = "***";

/**
 * A URL as messages and logs may show it: without user name and password, and with the values of secret-looking
 * query parameters (`access_token`, `api_key`, `signature` …) masked. Also safe for text that is not a URL.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return stripUserInfo(url);
  }
  u.username = "";
  u.password = "";
  if (u.search !== "") {
    // Rebuilt by hand: URLSearchParams would re-encode the parameters that are not secret.
    const parts = u.search
      .slice(1)
      .split("&")
      .map((part) => {
        const eq = part.indexOf("=");
        if (eq < 0) return part;
        let name = part.slice(0, eq);
        try {
          name = decodeURIComponent(name.replaceAll("+", " "));
        } catch {
          // an undecodable name is compared as written
        }
        return SECRET_PARAM.test(name) ? `${part.slice(0, eq)}=${MASK}` : part;
      });
    u.search = `?${parts.join("&")}`;
  }
  return u.toString();
}

/** `scheme://user:password@` (or `//user@`) without the user info, for text in which no URL parses. */
function stripUserInfo(text: string): string {
  return text.replace(/\/\/[^/@\s"'<>]*@/g, "//");
}

/**
 * Text (an error message from a library, a server's answer) with every URL in it redacted as {@link redactUrl}
 * does, and the user info of anything shaped like `scheme://user:password@` removed even where no URL parses.
 */
export function redactText(text: string): string {
  const urls = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (match) => {
    // Trailing sentence punctuation is not part of the URL.
    const tail = /[.,;:!?)\]]+$/.exec(match)?.[0] ?? "";
    const url = match.slice(0, match.length - tail.length);
    const clean = redactUrl(url);
    // new URL() adds a slash to a bare origin: text that needed no redaction stays as written.
    return clean === url || clean === `${url}/` ? match : `${clean}${tail}`;
  });
  return stripUserInfo(urls);
}

/**
 * The message for a URL that carries a user name or password: the URL it names is redacted, so the password is
 * never printed. Such a URL cannot be sent (fetch refuses it), so it is refused before any request.
 */
export function userInfoInUrlMessage(url: string): string {
  return (
    `The url ${redactUrl(url)} is written with a user name or password in it ("user:password@host"), which is ` +
    "never sent: remove them from `url` and set the `username` and `password` options instead."
  );
}

/** Whether `url` carries a user name or password (`https://user:secret@host/`). */
export function hasUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
  }
}

/**
 * Maps a failed response to our errors: 404/410 → NotFoundError, 412 → PreconditionFailedError, 401/403 →
 * AccessDeniedError (with a hint), anything else → InvalidResponseError. The message names method and URL (and
 * what the host's interpretation adds); the cause ({@link HttpStatusError}) and InvalidResponseError carry the
 * body cut to 4 KiB.
 */
export function statusError(method: string, response: JudgedResponse, href?: string): VdirsyncerError {
  const url = redactUrl(response.url);
  const body = response.body.slice(0, BODY_LIMIT);
  const cause = new HttpStatusError(method, url, response.status, body);
  const said = response.interpretation;
  const answered = `${method} ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const what = said?.detail ? `${answered}: ${said.detail}` : `${answered}.`;
  if (isUsageLimited(response)) {
    // Still refused after the retries: a quota, not these credentials, is the problem.
    return new InvalidResponseError(what, {
      cause,
      body,
      hint: said?.hint ?? USAGE_LIMIT_HINT,
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
    case 403:
      return new AccessDeniedError(what, {
        cause,
        hint:
          said?.hint ?? (response.status === 401 ? (response.authHint ?? UNAUTHORIZED_HINT) : FORBIDDEN_HINT),
        context: { location: url },
      });
    default: {
      // A 5xx is the server's own failure, not an answer we misread: say what helps.
      const hint = said?.hint ?? (response.status >= 500 ? SERVER_ERROR_HINT : undefined);
      return new InvalidResponseError(what, {
        cause,
        body,
        ...(hint !== undefined ? { hint } : {}),
        context: { location: url },
      });
    }
  }
}

/**
 * No HTTP answer came back: the server could not be reached, did not answer in time, or its certificate was refused.
 * Its code is `INVALID_RESPONSE` like any unusable answer; discovery tells it apart, because asking the same server
 * at another URL cannot help.
 */
export class UnansweredError extends InvalidResponseError {}
