/**
 * Access tokens for the Google storages: loaded from `token_file`, obtained by the first authorisation when there
 * is none, refreshed before they expire (and once after a 401), and saved back after every change.
 */
import { AccessDeniedError, InvalidResponseError, type Logger, UserError } from "@vdirsyncer/core";
import { type AuthorizeUi, obtainAuthorizationCode } from "./authorize.ts";
import { loadToken, type StoredToken, saveToken, scopeList } from "./token-file.ts";

/** Refresh this long before `expires_at`, so that a token does not expire between check and use. */
const EXPIRY_MARGIN_S = 60;
const TOKEN_TIMEOUT_MS = 30_000;

/** What a {@link GoogleAuth} needs. */
export interface GoogleAuthOptions {
  /** Absolute path of the token file. */
  tokenFile: string;
  clientId: string;
  clientSecret: string;
  /** The OAuth scope asked for in the first authorisation. */
  scope: string;
  /** What is being authorised, for the instructions (`Google Calendar`). */
  what: string;
  authorizeUrl: string;
  tokenUrl: string;
  log: Logger;
  fetch: typeof fetch;
  signal?: AbortSignal;
  ui?: AuthorizeUi;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** The token endpoint's answer (RFC 6749 §5.1, §5.2). */
interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  token_type?: string;
  error?: string;
  error_description?: string;
  [key: string]: unknown;
}

/**
 * The OAuth state of one token file. Concurrent callers share one load, one authorisation and one refresh; a
 * failure only the user can fix (a refusal, a revoked refresh token, an unreadable file) is final for the process.
 *
 * MUST save every new token before handing it out, and MUST NOT log tokens, the client secret or codes.
 */
export class GoogleAuth {
  readonly #o: GoogleAuthOptions;
  #token: StoredToken | undefined;
  #loaded = false;
  #pending: Promise<string> | undefined;
  /** A failure the user has to fix (refused, revoked, unreadable file): repeated, never retried in this run. */
  #fatal: UserError | undefined;

  constructor(options: GoogleAuthOptions) {
    this.#o = options;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * A usable access token: the stored one while it is valid, else a refreshed one, else one from the first
   * authorisation (which prints a URL and waits for the user).
   * @throws {UserError} the token file is unreadable, the refresh token was revoked or expired, or the user refused
   */
  accessToken(): Promise<string> {
    const token = this.#token;
    if (this.#loaded && token?.access_token && !this.#expired(token))
      return Promise.resolve(token.access_token);
    return this.#once(async () => {
      if (!this.#loaded) {
        this.#token = await loadToken(this.#o.tokenFile);
        this.#loaded = true;
      }
      const current = this.#token;
      if (current?.access_token && !this.#expired(current)) return current.access_token;
      if (current?.refresh_token) return this.#refresh(current);
      return this.#authorize();
    });
  }

  /**
   * A new access token after the server refused `rejected` (401): refreshes unless another request already did.
   * @throws {AccessDeniedError} there is no refresh token to try
   * @throws {UserError} the refresh token was revoked or expired
   */
  refreshAfterRejection(rejected: string): Promise<string> {
    return this.#once(async () => {
      const current = this.#token;
      if (current?.access_token && current.access_token !== rejected) return current.access_token;
      if (!current?.refresh_token) {
        throw new AccessDeniedError(
          "Google refused the access token and the token file has no refresh token.",
          {
            hint: `Delete ${this.#o.tokenFile} and run vdirsyncer again to authorise anew.`,
          },
        );
      }
      return this.#refresh(current);
    });
  }

  #once(work: () => Promise<string>): Promise<string> {
    const previous = this.#pending ?? Promise.resolve("");
    // A run opens a storage per collection, all on this token file: without this, each would start another
    // authorisation or refresh that is bound to fail the same way. (Discovery no longer swallows these errors.)
    const guarded = async () => {
      if (this.#fatal) throw this.#fatal;
      try {
        return await work();
      } catch (error) {
        if (error instanceof UserError) this.#fatal = error;
        throw error;
      }
    };
    const next = previous.catch(() => "").then(guarded);
    this.#pending = next;
    const clear = () => {
      if (this.#pending === next) this.#pending = undefined;
    };
    next.then(clear, clear);
    return next;
  }

  #expired(token: StoredToken): boolean {
    // No expires_at (a hand-made file): use the token until the server refuses it, then refresh.
    if (typeof token.expires_at !== "number") return false;
    return token.expires_at - EXPIRY_MARGIN_S <= this.#now() / 1000;
  }

  async #post(form: Record<string, string>, what: string): Promise<{ status: number; answer: TokenAnswer }> {
    const url = this.#o.tokenUrl;
    const timeout = AbortSignal.timeout(TOKEN_TIMEOUT_MS);
    let res: Response;
    try {
      res = await this.#o.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams(form).toString(),
        signal: this.#o.signal ? AbortSignal.any([timeout, this.#o.signal]) : timeout,
      });
    } catch (cause) {
      throw new InvalidResponseError(
        `${what} failed: POST ${url} could not be sent (${(cause as Error).message}).`,
        {
          cause,
          context: { location: url },
        },
      );
    }
    const text = await res.text();
    let answer: TokenAnswer;
    try {
      answer = JSON.parse(text) as TokenAnswer;
    } catch (cause) {
      throw new InvalidResponseError(`${what} failed: POST ${url} answered ${res.status} without JSON.`, {
        cause,
        context: { location: url },
      });
    }
    this.#o.log.debug(`POST ${url} -> ${res.status}`);
    return { status: res.status, answer: typeof answer === "object" && answer !== null ? answer : {} };
  }

  /** Turns a token endpoint error into a message that says what to do. */
  #failure(what: string, status: number, answer: TokenAnswer): Error {
    const file = this.#o.tokenFile;
    const error = answer.error ?? `HTTP ${status}`;
    const detail = answer.error_description ? ` (${answer.error_description})` : "";
    if (answer.error === "invalid_grant" && what === "Refreshing the access token") {
      return new UserError(
        `Google refused the refresh token in ${file} (invalid_grant${detail}): it was revoked, or it expired, ` +
          'which Google does after 7 days for apps whose publishing status is "Testing".',
        {
          hint:
            'Set the app\'s publishing status to "In production" in the Google Cloud console (Google Auth Platform ' +
            `→ Audience, or "OAuth consent screen" → Publish app), then delete ${file} and run vdirsyncer again to authorise anew.`,
        },
      );
    }
    if (answer.error === "invalid_client" || answer.error === "unauthorized_client") {
      return new UserError(`${what} failed: Google refused client_id or client_secret (${error}${detail}).`, {
        hint: 'Copy both from the OAuth client (type "Desktop app") in the Google Cloud console.',
      });
    }
    if (answer.error !== undefined) {
      return new UserError(`${what} failed: Google answered ${error}${detail}.`, {
        hint: 'The OAuth client must be of type "Desktop app"; delete the token file and authorise again if this persists.',
      });
    }
    return new InvalidResponseError(`${what} failed: POST ${this.#o.tokenUrl} answered ${status}.`, {
      context: { location: this.#o.tokenUrl },
    });
  }

  /** Stores a token endpoint answer in vdirsyncer's token-file shape and saves it. */
  async #store(answer: TokenAnswer, previous: StoredToken | undefined): Promise<string> {
    const { error: _e, error_description: _d, ...fields } = answer;
    const token: StoredToken = { ...previous, ...fields };
    // Google sends no refresh token with a refresh: the old one stays valid.
    token.refresh_token = answer.refresh_token ?? previous?.refresh_token;
    if (token.refresh_token === undefined) delete token.refresh_token;
    token.scope = scopeList(answer.scope ?? previous?.scope ?? this.#o.scope);
    token.token_type = answer.token_type ?? previous?.token_type ?? "Bearer";
    if (typeof answer.expires_in === "number") token.expires_at = this.#now() / 1000 + answer.expires_in;
    await saveToken(this.#o.tokenFile, token);
    this.#token = token;
    return token.access_token as string;
  }

  async #refresh(current: StoredToken): Promise<string> {
    const what = "Refreshing the access token";
    this.#o.log.debug(`Refreshing the Google access token of ${this.#o.tokenFile}.`);
    const { status, answer } = await this.#post(
      {
        grant_type: "refresh_token",
        refresh_token: current.refresh_token as string,
        client_id: this.#o.clientId,
        client_secret: this.#o.clientSecret,
      },
      what,
    );
    if (status !== 200 || !answer.access_token) throw this.#failure(what, status, answer);
    return this.#store(answer, current);
  }

  async #authorize(): Promise<string> {
    const what = "Exchanging the authorisation code";
    const grant = await obtainAuthorizationCode({
      authorizeUrl: this.#o.authorizeUrl,
      clientId: this.#o.clientId,
      scope: this.#o.scope,
      what: this.#o.what,
      log: this.#o.log,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      ...(this.#o.ui ? { ui: this.#o.ui } : {}),
    });
    const { status, answer } = await this.#post(
      {
        grant_type: "authorization_code",
        code: grant.code,
        redirect_uri: grant.redirectUri,
        client_id: this.#o.clientId,
        client_secret: this.#o.clientSecret,
        code_verifier: grant.codeVerifier,
      },
      what,
    );
    if (status !== 200 || !answer.access_token) throw this.#failure(what, status, answer);
    if (!answer.refresh_token) {
      this.#o.log.warn(
        'Google sent no refresh token, so vdirsyncer will have to ask again in an hour: the OAuth client must be of type "Desktop app".',
      );
    }
    const access = await this.#store(answer, undefined);
    this.#o.log.info(`Saved the Google token to ${this.#o.tokenFile}.`);
    return access;
  }
}

const shared = new Map<string, GoogleAuth>();

/**
 * The {@link GoogleAuth} of a token file, shared by every storage of this process that uses the same file, client
 * and scope, so that several collections authorise once and refresh once (vdirsyncer could ask twice).
 */
export function sharedGoogleAuth(options: GoogleAuthOptions): GoogleAuth {
  const key = [options.tokenFile, options.clientId, options.scope, options.tokenUrl].join("\0");
  let auth = shared.get(key);
  if (auth === undefined) {
    auth = new GoogleAuth(options);
    shared.set(key, auth);
  }
  return auth;
}
