/**
 * The http storage at run time: one GET of the feed per sync (or one conditional GET that answers 304), split into
 * items whose UIDs are replaced by their content hashes, as vdirsyncer's `storage/http.py` does.
 */
import {
  type CollectionInfo,
  CollectionNotFoundError,
  type FetchedItem,
  InvalidResponseError,
  Item,
  type ItemFailure,
  type ItemRef,
  isVdirsyncerError,
  NotFoundError,
  type ReadableCollection,
  type Storage,
  type StorageContext,
  splitCollection,
} from "@vdirsyncer/core";
import {
  type DavResponse,
  type DavSessionOptions,
  HttpSession,
  pyUrljoin,
  redactUrl,
  statusError,
  toDavSessionOptions,
} from "@vdirsyncer/dav";
import { conditionalHeaders, decodeFeed, decodeTag, encodeTag, validatorOf } from "./feed.ts";
import { runFilterHook } from "./filter-hook.ts";
import { type HttpOptions, normalizeFeedUrl } from "./options.ts";

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
}

class Feed implements HttpCollection {
  readonly url: string;
  readonly #session: HttpSession;
  readonly #options: HttpOptions;
  readonly #ctx: StorageContext;
  /** What tags are made for: a stored tag from other settings is never used as a validator. */
  readonly #settings: string;
  /** The last listing, which get() and getMany() serve (vdirsyncer's `_items`). */
  #items: Listing | undefined;
  /** A listing that collectionTag() fetched and the next list() uses instead of fetching again. */
  #pending: Listing | undefined;

  constructor(url: string, session: HttpSession, options: HttpOptions, ctx: StorageContext) {
    this.url = url;
    this.#session = session;
    this.#options = options;
    this.#ctx = ctx;
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
    const response = await this.#session.request({ method: "GET", url: this.url, headers });
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

/**
 * Builds an http storage from validated options.
 *
 * `open(null)` reads the configured URL; `open(collection)` reads `urljoin(url, collection.href)`, as vdirsyncer
 * does with a `collection` argument (pass the collection name as its href).
 * @param session overrides of session options that no config key sets (e.g. the `onRequest` test hook)
 * @throws {UserError} unreadable `verify`/`auth_cert` files or bad auth settings
 */
export function createHttpStorage(
  options: HttpOptions,
  ctx: StorageContext,
  session?: Partial<DavSessionOptions>,
): Storage<HttpCollection> {
  const http = new HttpSession({ ...toDavSessionOptions(options, ctx), ...session });
  return {
    open: (collection: CollectionInfo | null) =>
      new Feed(
        collection === null ? options.url : normalizeFeedUrl(pyUrljoin(options.url, collection.href)),
        http,
        options,
        ctx,
      ),
    close: () => http.close(),
  };
}
