/**
 * A CalDAV/CardDAV collection over one URL: the storage contract's methods, put together from the listing,
 * multiget, write and metadata parts of this package.
 */
import {
  type ChangeSet,
  type FetchedItem,
  Item,
  type ItemFailure,
  type ItemRef,
  type MetaKey,
  NotFoundError,
  UnsupportedError,
  type Written,
} from "@vdirsyncer/core";
import type { DavCollection, DavCollectionOptions, DavSession } from "./api.ts";
import { generateHref } from "./href.ts";
import { redactUrl } from "./http-errors.ts";
import {
  filteredListing,
  isFiltered,
  propfindListing,
  queryWithData,
  syncCollection,
  syncTokenProperty,
} from "./listing.ts";
import { readMeta, writeMeta } from "./meta.ts";
import { readHrefs } from "./multiget.ts";
import { findProp, propResponses, propText } from "./multistatus.ts";
import { HttpSession, type RequestScope } from "./session.ts";
import { CollectionTransport } from "./transport.ts";
import { deleteItem, putItem } from "./writes.ts";
import { el, NS } from "./xml.ts";

export { isServerDefaultName, metaKeys } from "./meta.ts";

/**
 * Returns the session as the {@link HttpSession} it is. A foreign {@link DavSession} (one not made by
 * `createDavSession()`) is refused: our requests need the session's retries, auth hooks and buffered answers, which
 * a bare `fetch` does not give. Hosts that need other auth use the session's `authorization` hook instead.
 * @throws {TypeError} the session was not made by `createDavSession()`
 */
export function httpSession(session: DavSession): HttpSession {
  if (session instanceof HttpSession) return session;
  throw new TypeError("openDavCollection needs a session made by createDavSession().");
}

/** A CalDAV/CardDAV collection over one URL (see {@link DavCollection}). */
export class DavCollectionImpl implements DavCollection {
  readonly url: string;
  readonly #t: CollectionTransport;
  #supportsSync: boolean | undefined;
  /**
   * Items that came with a listing by query (see `ServerProfile.initialListing` and `fullListing`), served by
   * `getMany` without another request and dropped once served or written.
   */
  readonly #prefetched = new Map<string, { etag: string; text: string }>();
  /** The `sync-token` property `collectionTag()` read last (servers without getctag); the initial listing may start from it. */
  #tagSyncToken: string | undefined;

  /** @param scope where this collection's requests are counted, and what stops them */
  constructor(session: DavSession, url: string, options: DavCollectionOptions, scope: RequestScope = {}) {
    this.#t = new CollectionTransport(httpSession(session), url, options, scope);
    this.url = this.#t.url;
  }

  #keep(listed: { ref: ItemRef; text: string | undefined }[]): ItemRef[] {
    return listed.map(({ ref, text }) => {
      if (text !== undefined) this.#prefetched.set(ref.href, { etag: ref.etag, text });
      return ref;
    });
  }

  /**
   * PROPFIND Depth 1, or one calendar-query per item type when filters are set (vdirsyncer's rules). Where the
   * profile says so (`fullListing: "query+data"`), an unfiltered listing is one query with every item's data
   * instead, which `getMany` then serves.
   * @throws {CollectionNotFoundError} the collection does not exist
   */
  async *list(): AsyncIterable<ItemRef> {
    const t = this.#t;
    if (isFiltered(t)) {
      if (t.opts.kind === "calendar") {
        yield* filteredListing(t, new Set());
        return;
      }
    } else if ((await t.profile()).fullListing === "query+data") {
      this.#prefetched.clear();
      yield* this.#keep(await queryWithData(t));
      return;
    }
    yield* await propfindListing(t);
  }

  /**
   * `getctag` (CalendarServer) alone: the `sync-token` property is never asked with it, because some servers
   * compute that one from every item (Radicale: 6-13 s for 10,000 the first time). A server without getctag gets
   * a second PROPFIND for the `sync-token` property where that is cheap (`syncTokenAsTag`) and supported;
   * otherwise the tag is `undefined` and the engine lists.
   * @throws {CollectionNotFoundError} the collection does not exist
   */
  async collectionTag(): Promise<string | undefined> {
    const t = this.#t;
    this.#tagSyncToken = undefined;
    const body = el(
      NS.DAV,
      "propfind",
      el(NS.DAV, "prop", el(NS.CS, "getctag"), el(NS.DAV, "supported-report-set")),
    );
    const { res, root } = await t.multistatus("PROPFIND", t.url, body, { depth: "0" });
    const self = propResponses(root, res.url)[0];
    if (!self) return undefined;
    const reports = findProp(self.props, NS.DAV, "supported-report-set");
    if (reports && reports.children.length > 0) {
      this.#supportsSync = JSON.stringify(reports).includes('"name":"sync-collection"');
    }
    const ctag = propText(self.props, NS.CS, "getctag");
    if (ctag !== undefined) return ctag;
    // The profile is known now: the PROPFIND above was answered.
    const profile = await t.profile();
    if (!profile.syncTokenAsTag || !profile.syncTokens || this.#supportsSync === false) return undefined;
    this.#tagSyncToken = await syncTokenProperty(t);
    return this.#tagSyncToken;
  }

  /**
   * RFC 6578 sync-collection, following 507 truncation until complete. `undefined` = initial listing.
   * @throws {UnsupportedError} filters are set, the server has no sync-collection, or its profile lists by
   *   getctag and one query instead (cheaper there than any token path)
   * @throws {SyncTokenExpiredError} the server rejected the token (`DAV:valid-sync-token`)
   * @throws {CollectionNotFoundError} the collection does not exist
   */
  async changes(token: string | undefined): Promise<ChangeSet> {
    const t = this.#t;
    if (isFiltered(t)) throw new UnsupportedError("sync-collection cannot apply item_types or a time range.");
    if (this.#supportsSync === false)
      throw new UnsupportedError(`${redactUrl(t.url)} does not support sync-collection.`);
    const profile = await t.profile();
    if (!profile.syncTokens) {
      throw new UnsupportedError(
        `${redactUrl(t.url)} is listed by getctag and one query instead of sync tokens (cheaper on this server).`,
      );
    }
    if (token === undefined) {
      this.#prefetched.clear();
      if (profile.initialListing === "query+data") return this.#initialByQuery();
    }
    return syncCollection(t, token, () => {
      this.#supportsSync = false;
    });
  }

  /**
   * The initial listing as the `sync-token` property (the one `collectionTag()` read, else one PROPFIND), then
   * one calendar-query/addressbook-query carrying every item's data (kept for `getMany`). The token is read
   * first, so that a change made while the query runs is reported again by the next delta instead of lost.
   * @throws {UnsupportedError} the collection has no `sync-token` property (the engine then lists in full)
   */
  async #initialByQuery(): Promise<ChangeSet> {
    // A sync-token collectionTag() read just before (a server without getctag) is older than the query, hence
    // just as safe, and saves a request.
    const token = this.#tagSyncToken ?? (await syncTokenProperty(this.#t));
    this.#tagSyncToken = undefined;
    if (!token) throw new UnsupportedError(`${redactUrl(this.url)} has no sync-token property.`);
    return { token, changed: this.#keep(await queryWithData(this.#t)), removed: [] };
  }

  async get(href: string): Promise<FetchedItem> {
    for await (const result of this.getMany([href])) {
      if ("item" in result) return result;
      throw result.error;
    }
    throw new NotFoundError(href);
  }

  /**
   * Items served from the last listing by query where possible, the rest by bounded, concurrent multiget (or one
   * query, see `queryAboveHrefs`). Missing hrefs yield a NotFound ItemFailure.
   */
  async *getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure> {
    const wanted: string[] = [];
    const unique = new Set<string>();
    for (const href of hrefs) {
      if (unique.has(href)) continue;
      unique.add(href);
      if (this.#t.normalize(href) !== href) {
        const message = `${href} is not a normalised href of ${redactUrl(this.url)}.`;
        yield { href, error: new NotFoundError(href, { message }) };
        continue;
      }
      const hit = this.#prefetched.get(href);
      if (hit === undefined) {
        wanted.push(href);
        continue;
      }
      this.#prefetched.delete(href);
      yield { href, etag: hit.etag, item: new Item(hit.text) };
    }
    yield* readHrefs(this.#t, wanted);
  }

  /** `If-None-Match: *` PUT to `<ident><fileext>` (or a uuid4 href when the ident is not URL-safe). */
  async upload(item: Item): Promise<Written> {
    const href = this.#t.normalize(generateHref(item.ident) + this.#t.opts.fileext);
    this.#prefetched.delete(href);
    return { href, etag: await putItem(this.#t, href, item, undefined) };
  }

  /** `If-Match` PUT. @throws {WrongEtagError} on 412 */
  async update(href: string, item: Item, etag: string): Promise<Pick<Written, "etag">> {
    if (!etag) throw new TypeError("etag must be given and must not be None.");
    this.#prefetched.delete(href);
    return { etag: await putItem(this.#t, href, item, etag) };
  }

  /** DELETE with `If-Match` (without it only when no etag is known, with a warning). */
  async delete(href: string, etag: string): Promise<void> {
    this.#prefetched.delete(href);
    await deleteItem(this.#t, href, etag);
  }

  getMeta(key: MetaKey): Promise<string | undefined> {
    return readMeta(this.#t, key);
  }

  setMeta(key: MetaKey, value: string | undefined): Promise<void> {
    return writeMeta(this.#t, key, value);
  }
}
