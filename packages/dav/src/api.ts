/**
 * The public shape of `@vdirsyncer/dav`, fixed first so that the CalDAV and CardDAV plugins can be written against
 * it while the layer is built. The implementations live in the other files of this package.
 */
import type { CollectionInfo, Logger, StatsSink, WritableCollection } from "@vdirsyncer/core";
import type { ErrorInterpretation } from "./http-errors.ts";

/** The session options every DAV storage takes (spec/config.md §7.3), keys in our casing. */
export interface DavSessionOptions {
  /** Base, principal, home-set or collection URL; a trailing `/` is added (vdirsyncer does the same). */
  url: string;
  username?: string;
  password?: string;
  /** `null`/absent means basic when both username and password are set. */
  auth?: "basic" | "digest" | null;
  /** Path to a PEM CA bundle that replaces the system CAs. */
  verify?: string | null;
  /** SHA-256 hex fingerprint of the server's leaf certificate (colons allowed); honoured together with `verify`. */
  verifyFingerprint?: string | null;
  /** Client certificate: one combined PEM file, or `[cert, key]`. */
  authCert?: string | readonly [string, string] | null;
  /** @default "vdirsyncer/<version>" */
  useragent?: string;
  /** Per-request timeout. @default 60_000 */
  timeoutMs?: number;
  /**
   * Attempts for retryable failures, honouring Retry-After: 429 and quota answers (every method),
   * 5xx, timeouts and network errors (safe methods). Certificate failures are never retried. @default 5
   */
  maxAttempts?: number;
  /** Base of the jittered exponential backoff between retries (full jitter, capped at `retryMaxMs`). @default 1000 */
  retryBaseMs?: number;
  /** Longest backoff between two attempts when the server sends no `Retry-After`. @default 10_000 */
  retryMaxMs?: number;
  /** Longest `Retry-After` wait honoured; longer values are cut to this. @default 60_000 */
  retryAfterCapMs?: number;
  /** Most requests in flight at once for this session (all its collections together). @default 16 */
  maxConcurrency?: number;
  /**
   * The `Authorization` header value of each attempt (e.g. `Bearer …` from an OAuth token store), instead of
   * Basic/Digest from `username`/`password`. Called before every attempt, retries included; MAY wait (a first
   * authorisation); what it throws (e.g. a `UserError`) ends the request unchanged. `undefined` sends none.
   */
  authorization?: () => Promise<string | undefined>;
  /**
   * Called on a 401 with the `Authorization` value that was refused; `true` sends the request again, once per
   * request (a fresh `authorization()` value is asked for). MAY throw to end the request (e.g. a revoked token).
   */
  onUnauthorized?: (used: string | undefined) => Promise<boolean>;
  /** The hint of the AccessDeniedError for a 401. @default "Check username and password, and `auth` …" */
  authHint?: string;
  /** Called before every attempt, retries included, outside the concurrency limit: e.g. a client-side rate limit. */
  beforeRequest?: () => Promise<void>;
  /**
   * Reads what an error answer (status 400 or more) says beyond its status, e.g. a service's JSON error body: a
   * quota refusal (retried for every method), the server's own words for the message, a better hint. Called once
   * per answer; MUST NOT throw.
   */
  interpretError?: (response: {
    status: number;
    headers: Headers;
    body: string;
  }) => ErrorInterpretation | undefined;
  /** Where requests that belong to no collection (discovery, creation, checks) report their cost. */
  stats?: StatsSink;
  log?: Logger;
  signal?: AbortSignal;
  /** Test hook: called after every HTTP exchange (method, URL, status), e.g. to count requests. Never sees bodies or credentials. */
  onRequest?: (event: { method: string; url: string; status: number; ms: number }) => void;
}

/** What a DAV collection holds. */
export type DavKind = "calendar" | "addressbook";

/** Options of one opened DAV collection. */
export interface DavCollectionOptions {
  kind: DavKind;
  /** Extension for generated hrefs: `.ics` (calendars) or `.vcf` (address books). */
  fileext: string;
  /** CalDAV `item_types`: one calendar-query per type instead of PROPFIND (spec/dav.md, List). */
  itemTypes?: readonly string[];
  /** CalDAV `start_date`/`end_date`, already evaluated. */
  timeRange?: { start: Date; end: Date };
  /** CardDAV `use_vcard_4`: ask for vCard 4.0 in multiget. */
  useVcard4?: boolean;
  /** hrefs per multiget REPORT (shrinks after a timeout or 5xx). @default from the server profile */
  multigetBatchSize?: number;
  /** multiget REPORTs in flight at once. @default from the server profile */
  multigetConcurrency?: number;
}

/**
 * A DAV collection: the storage contract (list, get, getMany, upload, update, delete, getMeta, setMeta,
 * collectionTag, changes) over one collection URL. `changes()` throws UnsupportedError when the server has no
 * sync-collection or a filter is set; SyncTokenExpiredError on an invalid token.
 */
export type DavCollection = WritableCollection &
  Required<Pick<WritableCollection, "getMany" | "collectionTag" | "changes" | "getMeta" | "setMeta">> & {
    readonly url: string;
    watch?: undefined;
  };

/** Signatures of the functions `index.ts` exports (implemented in the other files). */
export interface DavApi {
  /** A session: auth (basic, real digest), TLS pins, timeouts, retries, connection reuse. Credentials never logged. */
  createDavSession(options: DavSessionOptions): DavSession;
  /** RFC 6764/4791/6352 discovery as spec/dav.md (home set first, then principal, well-known). `config` is `{ url }`. */
  discoverCollections(session: DavSession, kind: DavKind): AsyncIterable<CollectionInfo>;
  /** Creates a collection under the home set (MKCALENDAR / extended MKCOL), returning it; `null` = the configured URL. */
  createDavCollection(
    session: DavSession,
    kind: DavKind,
    id: string | null,
    props?: { displayName?: string; color?: string },
  ): Promise<CollectionInfo>;
  /** Opens one collection URL; its requests count against `scope.stats` and stop with `scope.signal`. */
  openDavCollection(
    session: DavSession,
    url: string,
    options: DavCollectionOptions,
    scope?: { stats?: StatsSink; signal?: AbortSignal },
  ): DavCollection;
  /** vdirsyncer's `_normalize_href` (Python urljoin + quote(unquote(x), "/@")), bit for bit. */
  normalizeHref(base: string, href: string): string;
}

/** An HTTP session against one DAV server. */
export interface DavSession {
  /** The configured URL with a trailing `/`. */
  readonly url: string;
  /** A `fetch` that adds auth, TLS settings, the user agent, timeouts and retries (for tsdav and our own requests). */
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}
