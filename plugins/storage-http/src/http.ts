/**
 * The http storage at run time: one GET of the feed per sync (or one conditional GET that answers 304), split into
 * items whose UIDs are replaced by their content hashes, as vdirsyncer's `storage/http.py` does.
 */
import {
  type CheckReport,
  type CheckResult,
  CollectionNotFoundError,
  type CollectionRef,
  type FetchedItem,
  InvalidResponseError,
  Item,
  type ItemFailure,
  type ItemRef,
  isVdirsyncerError,
  NotFoundError,
  type OpenOptions,
  type ReadableCollection,
  type StorageContext,
  splitCollection,
  UserError,
} from "@vdirsyncer/core";
import {
  type DavResponse,
  type DavSessionOptions,
  FINGERPRINT_HINT,
  HttpSession,
  pyUrljoin,
  type RequestScope,
  redactUrl,
  statusError,
  TLS_EXPIRED_HINT,
  TLS_HINT,
  TLS_HOSTNAME_HINT,
  toDavSessionOptions,
  UnansweredError,
} from "@vdirsyncer/dav";
import { conditionalHeaders, decodeFeed, decodeTag, encodeTag, validatorOf } from "./feed.ts";
import { runFilterHook } from "./filter-hook.ts";
import { type HttpOptions, normalizeFeedUrl } from "./options.ts";
import { interpretFeedError } from "./quota.ts";

/** One listing of the feed: href (= etag = content hash) → item with its UID replaced. */
type Listing = Map<string, Item>;

/** The answer of one GET: not modified, or a listing with the validator to store. */
type Fetched = { notModified: true } | { notModified: false; listing: Listing; tag: string };

/** A feed opened as a collection: the read side of the storage contract, plus `collectionTag`. */
export interface HttpCollection extends ReadableCollection {
  /** The feed URL this collection reads (`webcal` already turned into `https`, a collection name resolved). */
  readonly url: string;
  collectionTag(previous?: string): Promise<string | undefined>;
  getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure>;
  changes?: undefined;
  watch?: undefined;
  getMeta?: undefined;
}

class Feed implements HttpCollection {
  readonly url: string;
  readonly #session: HttpSession;
  readonly #options: HttpOptions;
  readonly #ctx: StorageContext;
  readonly #scope: RequestScope;
  /** What tags are made for: a stored tag from other settings is never used as a validator. */
  readonly #settings: string;
  /** The last listing, which get() and getMany() serve (vdirsyncer's `_items`). */
  #items: Listing | undefined;
  /** A listing that collectionTag() fetched and the next list() uses instead of fetching again. */
  #pending: Listing | undefined;

  constructor(
    url: string,
    session: HttpSession,
    options: HttpOptions,
    ctx: StorageContext,
    scope: RequestScope,
  ) {
    this.url = url;
    this.#session = session;
    this.#options = options;
    this.#ctx = ctx;
    this.#scope = scope;
    this.#settings = JSON.stringify([url, options.filter_hook ?? null]);
  }

  async collectionTag(previous?: string): Promise<string | undefined> {
    const validator = decodeTag(this.#settings, previous);
    const fetched = await this.#fetch(conditionalHeaders(validator));
    if (fetched.notModified) {
      // Only sent with a validator from `previous`, so `previous` still describes the feed.
      if (validator === undefined || previous === undefined) {
        throw new InvalidResponseError(
          `GET ${redactUrl(this.url)} answered 304 to an unconditional request.`,
        );
      }
      this.#ctx.log.debug(`${this.#ctx.instance}: ${redactUrl(this.url)} is unchanged (304).`);
      return previous;
    }
    this.#items = fetched.listing;
    this.#pending = fetched.listing;
    return fetched.tag;
  }

  async *list(): AsyncIterable<ItemRef> {
    let listing = this.#pending;
    this.#pending = undefined;
    if (listing === undefined) {
      const fetched = await this.#fetch({});
      if (fetched.notModified)
        throw new InvalidResponseError(
          `GET ${redactUrl(this.url)} answered 304 to an unconditional request.`,
        );
      listing = fetched.listing;
    }
    this.#items = listing;
    for (const href of listing.keys()) yield { href, etag: href };
  }

  async get(href: string): Promise<FetchedItem> {
    const item = (await this.#listing()).get(href);
    if (item === undefined) throw new NotFoundError(href);
    return { href, etag: href, item };
  }

  async *getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure> {
    if (hrefs.length === 0) return;
    const listing = await this.#listing();
    for (const href of new Set(hrefs)) {
      const item = listing.get(href);
      // Reported per href, so that the items that are there still arrive.
      yield item === undefined ? { href, error: new NotFoundError(href) } : { href, etag: href, item };
    }
  }

  /** The last listing; like vdirsyncer, a get() before any list() lists first. */
  async #listing(): Promise<Listing> {
    if (this.#items === undefined) for await (const _ of this.list());
    return this.#items as Listing;
  }

  async #fetch(headers: Record<string, string>): Promise<Fetched> {
    const response = await this.#session.request({ method: "GET", url: this.url, headers, ...this.#scope });
    if (response.status === 304) return { notModified: true };
    if (response.status === 404 || response.status === 410) {
      const message = `GET ${redactUrl(response.url)} answered ${response.status}: there is no feed at this URL.`;
      throw new CollectionNotFoundError(redactUrl(response.url), {
        message,
        cause: statusError("GET", response),
      });
    }
    if (response.status < 200 || response.status > 299) throw statusError("GET", response);
    const listing = await this.#parse(response);
    return {
      notModified: false,
      listing,
      tag: encodeTag(this.#settings, validatorOf(response.headers, listing.keys())),
    };
  }

  async #parse(response: DavResponse): Promise<Listing> {
    const url = redactUrl(response.url);
    const text = decodeFeed({
      url: response.url,
      contentType: response.headers.get("content-type"),
      bytes: response.bytes,
      text: response.body,
    });
    let raws: string[];
    try {
      raws = splitCollection(text).map((item) => item.raw);
    } catch (error) {
      if (!isVdirsyncerError(error)) throw error;
      throw new InvalidResponseError(`The feed at ${url} cannot be split into items: ${error.message}`, {
        cause: error,
        context: { location: url },
      });
    }
    const hook = this.#options.filter_hook;
    if (hook) raws = await runFilterHook(hook, raws, this.#ctx.log);
    const listing: Listing = new Map();
    for (const raw of raws) {
      if (raw.trim() === "") continue;
      const item = new Item(raw);
      let withHashUid: Item;
      try {
        // The hash ignores UID and DTSTAMP: feeds that make both up on every request do not churn (0.13.0).
        withHashUid = item.withUid(item.hash);
      } catch (error) {
        if (!isVdirsyncerError(error)) throw error;
        const from = hook ? `the output of filter_hook ${hook} for an item of ${url}` : `an item of ${url}`;
        throw new InvalidResponseError(`Cannot read ${from}: ${error.message}`, {
          cause: error,
          context: { location: url },
        });
      }
      // vdirsyncer quirk, kept: a later item with the same content replaces the earlier one.
      listing.set(item.hash, withHashUid);
    }
    return listing;
  }
}

/** The storage {@link createHttpStorage} returns. */
export interface HttpStorage {
  readonly concurrency: number;
  open(ref: CollectionRef | null, options: OpenOptions): HttpCollection;
  check(): Promise<CheckReport>;
  close(): Promise<void>;
}

const TLS_HINTS = new Set([TLS_HINT, TLS_HOSTNAME_HINT, TLS_EXPIRED_HINT, FINGERPRINT_HINT]);

/**
 * The feed URL a ref selects: its `config.url` (a `webcal://` one read as `https://`); without one, the
 * configured URL joined with the ref's id (vdirsyncer's `collection` argument of the http storage); the
 * configured URL for `null`.
 * @throws {UserError} `config.url` is not a string
 */
export function feedUrl(options: HttpOptions, ref: CollectionRef | null): string {
  if (ref === null) return options.url;
  const url = ref.config.url;
  if (url === undefined || url === null) return normalizeFeedUrl(pyUrljoin(options.url, ref.id));
  if (typeof url !== "string" || url === "") {
    throw new UserError(
      `The feed ${ref.id} has no usable url in its cached configuration (${JSON.stringify(url)}).`,
    );
  }
  return normalizeFeedUrl(url);
}

/**
 * One GET of the configured feed, reported: reachable, TLS (https), authentication, the feed as the one
 * collection, and whether later syncs can be answered 304. Never throws.
 */
async function checkFeed(http: HttpSession, options: HttpOptions): Promise<CheckReport> {
  const results: CheckResult[] = [];
  const report: CheckReport = { results, collections: [] };
  const where = redactUrl(options.url);
  let response: DavResponse;
  try {
    response = await http.request({ method: "GET", url: options.url, maxAttempts: 1 });
  } catch (error) {
    const hint = (error as { hint?: string }).hint;
    const tls = error instanceof UnansweredError && hint !== undefined && TLS_HINTS.has(hint);
    if (tls) results.push({ aspect: "reachable", ok: true, detail: `${where} answered the TLS handshake.` });
    results.push({
      aspect: tls ? "tls" : "reachable",
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      ...(hint !== undefined ? { hint } : {}),
    });
    return report;
  }
  results.push({ aspect: "reachable", ok: true, detail: `${where} answered HTTP ${response.status}.` });
  if (options.url.startsWith("https:"))
    results.push({ aspect: "tls", ok: true, detail: "The certificate was accepted." });
  if (response.status === 401 || response.status === 403) {
    const error = statusError("GET", response);
    results.push({
      aspect: "authentication",
      ok: false,
      detail: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    });
    return report;
  }
  const credentials =
    options.username && options.password ? "the credentials were accepted" : "no credentials needed";
  results.push({ aspect: "authentication", ok: true, detail: `HTTP ${response.status}: ${credentials}.` });
  if (response.status < 200 || response.status > 299) {
    const error = statusError("GET", response);
    results.push({
      aspect: "collections",
      ok: false,
      detail: error.message,
      hint:
        response.status === 404 || response.status === 410
          ? "Check the feed's URL."
          : (error.hint ?? "Check the feed's URL."),
    });
    return report;
  }
  let items: number;
  try {
    items = splitCollection(response.body).length;
  } catch (error) {
    results.push({
      aspect: "collections",
      ok: false,
      detail: `The answer of ${where} is not an iCalendar or vCard feed: ${error instanceof Error ? error.message : String(error)}`,
      hint: "Check that the URL is the feed itself (an .ics or .vcf address), not a web page about it.",
    });
    return report;
  }
  report.collections = [{ id: "feed", href: options.url, config: {} }];
  results.push({
    aspect: "collections",
    ok: true,
    detail: `One feed with ${items} item${items === 1 ? "" : "s"}.`,
  });
  const validator = validatorOf(response.headers, []);
  report.listing =
    validator.kind === "items"
      ? "one full GET per sync (the server sends neither ETag nor Last-Modified)"
      : `one conditional GET per sync (${validator.kind === "etag" ? "ETag" : "Last-Modified"}), answered 304 while unchanged`;
  results.push({ aspect: "listing", ok: true, detail: `${report.listing}.` });
  return report;
}

/**
 * Builds an http storage from validated options.
 *
 * `open(null)` reads the configured URL; `open(ref)` the URL {@link feedUrl} gives. One call at a time.
 * @param session overrides of session options that no config key sets (e.g. the `onRequest` test hook)
 * @throws {UserError} unreadable `verify`/`auth_cert` files or bad auth settings
 */
export function createHttpStorage(
  options: HttpOptions,
  ctx: StorageContext,
  session?: Partial<DavSessionOptions>,
): HttpStorage {
  const http = new HttpSession({
    ...toDavSessionOptions(options, ctx),
    stats: ctx.stats,
    interpretError: interpretFeedError,
    ...session,
  });
  return {
    concurrency: 1,
    open: (ref: CollectionRef | null, { signal, stats }: OpenOptions) =>
      new Feed(feedUrl(options, ref), http, options, ctx, { signal, stats }),
    check: () => checkFeed(http, options),
    close: () => http.close(),
  };
}
