import {
  AlreadyExistsError,
  type ChangeSet,
  type FetchedItem,
  InvalidResponseError,
  Item,
  type ItemFailure,
  type ItemRef,
  isVdirsyncerError,
  type MetaKey,
  NotFoundError,
  normalizeMetaValue,
  SyncTokenExpiredError,
  UnsupportedError,
  type VdirsyncerError,
  type Written,
  WrongEtagError,
} from "@vdirsyncer/core";
import { pyUnquote } from "@vdirsyncer/core/compat";
import tsdav from "tsdav";
import type { DavCollection, DavCollectionOptions, DavSession } from "./api.ts";
import { generateHref, normalizeHref } from "./href.ts";
import {
  findProp,
  hasResourceType,
  parseMultistatus,
  propResponses,
  propText,
  statusCode,
} from "./multistatus.ts";
import { profileFor, type ServerProfile } from "./profiles.ts";
import {
  type DavResponse,
  HttpSession,
  HttpStatusError,
  readResponse,
  redactUrl,
  statusError,
} from "./session.ts";
import { buildXml, child, el, NS, parseXml, type XmlNode } from "./xml.ts";

/** Metadata keys and their properties per kind (spec/dav.md, Metadata properties). */
const META_PROPS: Record<"calendar" | "addressbook", Partial<Record<MetaKey, [string, string]>>> = {
  calendar: {
    displayname: [NS.DAV, "displayname"],
    color: [NS.ICAL, "calendar-color"],
    description: [NS.CALDAV, "calendar-description"],
    order: [NS.ICAL, "calendar-order"],
  },
  addressbook: {
    displayname: [NS.DAV, "displayname"],
    description: [NS.CARDDAV, "addressbook-description"],
  },
};

/** The metadata keys a collection of that kind supports. */
export function metaKeys(kind: "calendar" | "addressbook"): MetaKey[] {
  return Object.keys(META_PROPS[kind]) as MetaKey[];
}

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

function formatDate(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/**
 * True when `value` is the displayname a server makes up for a collection that has none: Radicale reports the
 * collection's path (`user/work`), Xandikos its last segment (`work`). Such a name was never chosen by anyone, so
 * it reads as unset; otherwise the first metasync after creating a collection (which sets no name) would see two
 * different names and report a conflict.
 */
export function isServerDefaultName(collectionUrl: string, value: string): boolean {
  const path = pyUnquote(new URL(collectionUrl).pathname.replace(/^\/+|\/+$/g, ""));
  return value === path || value === path.split("/").at(-1);
}

/** A CalDAV/CardDAV collection over one URL (see {@link DavCollection}). */
export class DavCollectionImpl implements DavCollection {
  readonly url: string;
  readonly #http: HttpSession;
  readonly #opts: DavCollectionOptions;
  readonly #mimetype: string;
  #supportsSync: boolean | undefined;
  /**
   * Items that came with a listing by query (see `ServerProfile.initialListing` and `fullListing`), served by
   * `getMany` without another request and dropped once served or written.
   */
  readonly #prefetched = new Map<string, { etag: string; text: string }>();
  /** The `sync-token` property `collectionTag()` read last (servers without getctag); the initial listing may start from it. */
  #tagSyncToken: string | undefined;

  constructor(session: DavSession, url: string, options: DavCollectionOptions) {
    this.#http = httpSession(session);
    this.url = `${this.#http.resolve(url).replace(/\/+$/, "")}/`;
    this.#opts = options;
    this.#mimetype = options.kind === "calendar" ? "text/calendar" : "text/vcard";
  }

  get #log() {
    return this.#http.log;
  }

  get #profile(): ServerProfile {
    return profileFor(this.#http.serverHeader);
  }

  #normalize(href: string): string {
    return normalizeHref(this.url, href);
  }

  #abs(href: string): string {
    return new URL(href, this.url).toString();
  }

  #contentTypeMatches(type: string | undefined): boolean {
    if (type === undefined) return true;
    const subtype = this.#mimetype.split("/")[1] as string;
    return type.includes(subtype);
  }

  async #send(
    method: string,
    url: string,
    body?: XmlNode | string,
    headers: Record<string, string> = {},
  ): Promise<DavResponse> {
    return this.#http.request({
      method,
      url,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : buildXml(body),
    });
  }

  async #multistatus(method: string, url: string, body: XmlNode, headers: Record<string, string>) {
    const res = await this.#send(method, url, body, headers);
    if (res.status !== 207) throw statusError(method, res);
    return { res, root: parseMultistatus(res.body, method, res.url, this.#log) };
  }

  /** Applies vdirsyncer's listing filter to the responses of a PROPFIND/REPORT. */
  #refs(responses: ReturnType<typeof propResponses>, seen: Set<string>): ItemRef[] {
    const out: ItemRef[] = [];
    for (const r of responses) {
      if (seen.has(r.href)) {
        this.#log.debug(`Skipping duplicate href ${r.href}.`);
        continue;
      }
      seen.add(r.href);
      if (r.props.length === 0) continue;
      if (hasResourceType(r.props, NS.DAV, "collection")) continue;
      const etag = propText(r.props, NS.DAV, "getetag");
      if (!etag) {
        this.#log.warn(`Skipping ${r.href}: the server sent no etag for it.`);
        continue;
      }
      if (!this.#contentTypeMatches(propText(r.props, NS.DAV, "getcontenttype"))) continue;
      out.push({ href: r.href, etag });
    }
    return out;
  }

  #filtered(): boolean {
    return (this.#opts.itemTypes?.length ?? 0) > 0 || this.#opts.timeRange !== undefined;
  }

  /**
   * PROPFIND Depth 1, or one calendar-query per item type when filters are set (vdirsyncer's rules). Where the
   * profile says so (`fullListing: "query+data"`, Radicale), an unfiltered listing is one query with every item's
   * data instead, which `getMany` then serves.
   */
  async *list(): AsyncIterable<ItemRef> {
    const seen = new Set<string>();
    if (!this.#filtered() && this.#profile.fullListing === "query+data") {
      this.#prefetched.clear();
      for (const { ref, text } of await this.#queryWithData()) {
        if (text !== undefined) this.#prefetched.set(ref.href, { etag: ref.etag, text });
        yield ref;
      }
      return;
    }
    if (this.#opts.kind === "calendar" && this.#filtered()) {
      const types = this.#opts.itemTypes?.length ? this.#opts.itemTypes : ["VTODO", "VEVENT"];
      for (const type of types) {
        const range = this.#opts.timeRange;
        const inner = range
          ? el(
              NS.CALDAV,
              "comp-filter",
              { name: type },
              el(NS.CALDAV, "time-range", { start: formatDate(range.start), end: formatDate(range.end) }),
            )
          : el(NS.CALDAV, "comp-filter", { name: type });
        const body = el(
          NS.CALDAV,
          "calendar-query",
          el(NS.DAV, "prop", el(NS.DAV, "getcontenttype"), el(NS.DAV, "getetag")),
          el(NS.CALDAV, "filter", el(NS.CALDAV, "comp-filter", { name: "VCALENDAR" }, inner)),
        );
        const { res, root } = await this.#multistatus("REPORT", this.url, body, { depth: "1" });
        yield* this.#refs(propResponses(root, res.url), seen);
      }
      return;
    }
    const body = el(
      NS.DAV,
      "propfind",
      el(NS.DAV, "prop", el(NS.DAV, "resourcetype"), el(NS.DAV, "getcontenttype"), el(NS.DAV, "getetag")),
    );
    const { res, root } = await this.#multistatus("PROPFIND", this.url, body, { depth: "1" });
    yield* this.#refs(propResponses(root, res.url), seen);
  }

  /**
   * `getctag` (CalendarServer) alone: the `sync-token` property is never asked with it, because Radicale computes
   * that one from every item (6-13 s for 10,000 the first time). A server without getctag gets a second
   * PROPFIND for the `sync-token` property where that is cheap (`syncTokenAsTag`, any server but Radicale) and
   * supported; otherwise the tag is `undefined` and the engine lists.
   */
  async collectionTag(): Promise<string | undefined> {
    this.#tagSyncToken = undefined;
    const body = el(
      NS.DAV,
      "propfind",
      el(NS.DAV, "prop", el(NS.CS, "getctag"), el(NS.DAV, "supported-report-set")),
    );
    const { res, root } = await this.#multistatus("PROPFIND", this.url, body, { depth: "0" });
    const self = propResponses(root, res.url)[0];
    if (!self) return undefined;
    const reports = findProp(self.props, NS.DAV, "supported-report-set");
    if (reports && reports.children.length > 0) {
      this.#supportsSync = JSON.stringify(reports).includes('"name":"sync-collection"');
    }
    const ctag = propText(self.props, NS.CS, "getctag");
    if (ctag !== undefined) return ctag;
    // The profile is known now: the PROPFIND above was answered.
    const profile = this.#profile;
    if (!profile.syncTokenAsTag || !profile.syncTokens || this.#supportsSync === false) return undefined;
    this.#tagSyncToken = await this.#syncTokenProperty();
    return this.#tagSyncToken;
  }

  /** The `sync-token` property (PROPFIND Depth 0); `undefined` when the collection has none. */
  async #syncTokenProperty(): Promise<string | undefined> {
    const body = el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "sync-token")));
    const { res, root } = await this.#multistatus("PROPFIND", this.url, body, { depth: "0" });
    const self = propResponses(root, res.url)[0];
    return self ? propText(self.props, NS.DAV, "sync-token") : undefined;
  }

  /**
   * RFC 6578 sync-collection, following 507 truncation until complete. `undefined` = initial listing.
   * @throws {UnsupportedError} filters are set, the server has no sync-collection, or its profile lists by
   *   getctag and one query instead (Radicale: cheaper there than any token path)
   * @throws {SyncTokenExpiredError} the server rejected the token (`DAV:valid-sync-token`)
   */
  async changes(token: string | undefined): Promise<ChangeSet> {
    if (this.#filtered())
      throw new UnsupportedError("sync-collection cannot apply item_types or a time range.");
    if (this.#supportsSync === false)
      throw new UnsupportedError(`${redactUrl(this.url)} does not support sync-collection.`);
    if (!this.#profile.syncTokens) {
      throw new UnsupportedError(
        `${redactUrl(this.url)} is listed by getctag and one query instead of sync tokens (cheaper on this server).`,
      );
    }
    if (token === undefined) {
      this.#prefetched.clear();
      if (this.#profile.initialListing === "query+data") return this.#initialByQuery();
    }
    const changed = new Map<string, string>();
    const removed = new Set<string>();
    let current = token;
    for (let page = 0; page < 10_000; page++) {
      const body = el(
        NS.DAV,
        "sync-collection",
        el(NS.DAV, "sync-token", current ?? ""),
        el(NS.DAV, "sync-level", "1"),
        el(NS.DAV, "prop", el(NS.DAV, "getetag"), el(NS.DAV, "getcontenttype"), el(NS.DAV, "resourcetype")),
      );
      // With a token, one retry only: a failing delta is cured by a full listing, not by waiting.
      const res = await this.#http.request({
        method: "REPORT",
        url: this.url,
        headers: { depth: "0" },
        body: buildXml(body),
        ...(current !== undefined ? { maxAttempts: 2 } : {}),
      });
      if (res.status !== 207) throw this.#syncError(res, current);
      const root = parseMultistatus(res.body, "REPORT", res.url, this.#log);
      const next = child(root, NS.DAV, "sync-token")?.text.trim();
      if (!next) {
        throw new InvalidResponseError(
          `REPORT sync-collection ${redactUrl(this.url)} answered without a sync-token.`,
          {
            body: res.body,
          },
        );
      }
      let truncated = false;
      const own = this.#normalize(this.url);
      for (const r of propResponses(root, res.url)) {
        if (r.href === own) {
          // RFC 6578 §3.6: the collection itself with 507 means "more changes follow".
          if (r.status === 507 || JSON.stringify(r.element).includes("number-of-matches-within-limits"))
            truncated = true;
          continue;
        }
        if (r.status === 404) {
          changed.delete(r.href);
          removed.add(r.href);
          continue;
        }
        if (hasResourceType(r.props, NS.DAV, "collection")) continue;
        if (!this.#contentTypeMatches(propText(r.props, NS.DAV, "getcontenttype"))) continue;
        const etag = propText(r.props, NS.DAV, "getetag");
        if (!etag) {
          this.#log.warn(`Skipping ${r.href}: the server sent no etag for it.`);
          continue;
        }
        removed.delete(r.href);
        changed.set(r.href, etag);
      }
      if (!truncated || next === current) {
        return {
          token: next,
          changed: [...changed].map(([href, etag]) => ({ href, etag })),
          removed: [...removed],
        };
      }
      current = next;
    }
    throw new InvalidResponseError(
      `sync-collection on ${redactUrl(this.url)} did not finish after 10000 pages.`,
    );
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
    const token = this.#tagSyncToken ?? (await this.#syncTokenProperty());
    this.#tagSyncToken = undefined;
    if (!token) throw new UnsupportedError(`${redactUrl(this.url)} has no sync-token property.`);
    const changed: ItemRef[] = [];
    for (const { ref, text } of await this.#queryWithData()) {
      changed.push(ref);
      if (text !== undefined) this.#prefetched.set(ref.href, { etag: ref.etag, text });
    }
    return { token, changed, removed: [] };
  }

  /**
   * One calendar-query/addressbook-query for every item with its etag and data, filtered as a listing is
   * (vdirsyncer's rules); `text` is `undefined` when the server left the data out.
   */
  async #queryWithData(): Promise<{ ref: ItemRef; text: string | undefined }[]> {
    const calendar = this.#opts.kind === "calendar";
    const prop = el(NS.DAV, "prop", el(NS.DAV, "getetag"), el(NS.DAV, "getcontenttype"), this.#dataElement());
    const body = calendar
      ? el(
          NS.CALDAV,
          "calendar-query",
          prop,
          el(NS.CALDAV, "filter", el(NS.CALDAV, "comp-filter", { name: "VCALENDAR" })),
        )
      : el(NS.CARDDAV, "addressbook-query", prop);
    const { res, root } = await this.#multistatus("REPORT", this.url, body, { depth: "1" });
    const [dataNs, dataName] = this.#dataProp();
    const seen = new Set<string>();
    const out: { ref: ItemRef; text: string | undefined }[] = [];
    for (const r of propResponses(root, res.url)) {
      for (const ref of this.#refs([r], seen)) {
        out.push({ ref, text: findProp(r.props, dataNs, dataName)?.text || undefined });
      }
    }
    return out;
  }

  #syncError(res: DavResponse, token: string | undefined): VdirsyncerError {
    const invalidToken = /valid-sync-token/.test(res.body);
    if (token !== undefined && invalidToken && [400, 403, 409, 412].includes(res.status)) {
      return new SyncTokenExpiredError(`${redactUrl(this.url)} rejected the sync token (${res.status}).`, {
        cause: statusError("REPORT", res),
      });
    }
    // Xandikos 0.2.8 answers an unknown token with a bare 500: after a retry, a full listing is the safe cure.
    if (token !== undefined && res.status >= 500 && res.status !== 501 && res.status !== 507) {
      return new SyncTokenExpiredError(
        `${redactUrl(this.url)} failed on the sync token (${res.status}); listing in full.`,
        {
          cause: statusError("REPORT", res),
        },
      );
    }
    if ([400, 403, 405, 409, 418, 422, 501].includes(res.status)) {
      this.#supportsSync = false;
      return new UnsupportedError(
        `${redactUrl(this.url)} does not support sync-collection (REPORT answered ${res.status}).`,
        {
          cause: statusError("REPORT", res),
        },
      );
    }
    return statusError("REPORT", res);
  }

  async get(href: string): Promise<FetchedItem> {
    for await (const result of this.getMany([href])) {
      if ("item" in result) return result;
      throw result.error;
    }
    throw new NotFoundError(href);
  }

  /**
   * Bounded, concurrent multiget: batches of `multigetBatchSize` hrefs, `multigetConcurrency` in flight; a batch
   * that times out or gets a 5xx is split in halves and retried. Missing hrefs yield a NotFound ItemFailure.
   */
  async *getMany(hrefs: readonly string[]): AsyncIterable<FetchedItem | ItemFailure> {
    const wanted: string[] = [];
    const unique = new Set<string>();
    for (const href of hrefs) {
      if (unique.has(href)) continue;
      unique.add(href);
      if (this.#normalize(href) !== href) {
        yield {
          href,
          error: new NotFoundError(href, {
            message: `${href} is not a normalised href of ${redactUrl(this.url)}.`,
          }),
        };
        continue;
      }
      wanted.push(href);
    }
    if (this.#prefetched.size > 0) {
      const rest: string[] = [];
      for (const href of wanted) {
        const hit = this.#prefetched.get(href);
        if (hit === undefined) rest.push(href);
        else {
          this.#prefetched.delete(href);
          yield { href, etag: hit.etag, item: new Item(hit.text) };
        }
      }
      wanted.splice(0, wanted.length, ...rest);
    }
    if (wanted.length === 0) return;
    if (wanted.length > this.#profile.queryAboveHrefs) {
      yield* await this.#fromQuery(wanted);
      return;
    }
    const size = Math.max(1, this.#opts.multigetBatchSize ?? this.#profile.multigetBatchSize);
    const concurrency = Math.max(1, this.#opts.multigetConcurrency ?? this.#profile.multigetConcurrency);
    const batches: string[][] = [];
    for (let i = 0; i < wanted.length; i += size) batches.push(wanted.slice(i, i + size));

    // Workers push finished batches into a queue that this generator drains, so memory stays bounded by
    // the batches in flight plus those not yet consumed.
    const queue: (FetchedItem | ItemFailure)[][] = [];
    let wake: (() => void) | undefined;
    let running = 0;
    let failure: unknown;
    const worker = async () => {
      running++;
      try {
        for (let batch = batches.shift(); batch; batch = batches.shift()) {
          queue.push(await this.#fetchBatch(batch));
          wake?.();
        }
      } catch (error) {
        failure ??= error;
      } finally {
        running--;
        wake?.();
      }
    };
    for (let i = 0; i < Math.min(concurrency, batches.length); i++) void worker();
    for (;;) {
      const ready = queue.shift();
      if (ready) {
        yield* ready;
        continue;
      }
      if (failure) throw failure;
      if (running === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }

  /**
   * Reads `hrefs` out of one query for the whole collection (servers whose multiget costs more per href than
   * the query per collection, `queryAboveHrefs`). hrefs the query does not list yield a NotFound ItemFailure.
   */
  async #fromQuery(hrefs: string[]): Promise<(FetchedItem | ItemFailure)[]> {
    const answer = new Map<string, { etag: string; text: string | undefined }>();
    for (const { ref, text } of await this.#queryWithData()) answer.set(ref.href, { etag: ref.etag, text });
    return hrefs.map((href): FetchedItem | ItemFailure => {
      const got = answer.get(href);
      if (got === undefined) return { href, error: new NotFoundError(href) };
      if (got.text === undefined) {
        return {
          href,
          error: new InvalidResponseError(
            `${href}: the item content is missing from the server's query answer.`,
            {
              context: { href, location: redactUrl(this.url) },
            },
          ),
        };
      }
      return { href, etag: got.etag, item: new Item(got.text) };
    });
  }

  async #fetchBatch(batch: string[]): Promise<(FetchedItem | ItemFailure)[]> {
    try {
      return await this.#multiget(batch);
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      // Timeouts, dropped connections and 5xx are worth a smaller batch; a 4xx or bad XML is not.
      const transient =
        isVdirsyncerError(error, "INVALID_RESPONSE") &&
        (!(cause instanceof HttpStatusError) || cause.status >= 500);
      if (!transient) throw error;
      if (batch.length === 1) return [{ href: batch[0] as string, error: error as VdirsyncerError }];
      this.#log.warn(
        `multiget of ${batch.length} items failed (${(error as Error).message}); retrying in halves.`,
      );
      const half = Math.ceil(batch.length / 2);
      return [
        ...(await this.#fetchBatch(batch.slice(0, half))),
        ...(await this.#fetchBatch(batch.slice(half))),
      ];
    }
  }

  /** The namespace and name of the item-data property of this kind. */
  #dataProp(): [string, string] {
    return this.#opts.kind === "calendar" ? [NS.CALDAV, "calendar-data"] : [NS.CARDDAV, "address-data"];
  }

  /** The item-data element to ask for (vCard 4.0 with `useVcard4`). */
  #dataElement(): XmlNode {
    if (this.#opts.kind === "calendar") return el(NS.CALDAV, "calendar-data");
    return this.#opts.useVcard4
      ? el(NS.CARDDAV, "address-data", { "content-type": "text/vcard", version: "4.0" })
      : el(NS.CARDDAV, "address-data");
  }

  async #multiget(batch: string[]): Promise<(FetchedItem | ItemFailure)[]> {
    const calendar = this.#opts.kind === "calendar";
    const body = el(
      calendar ? NS.CALDAV : NS.CARDDAV,
      calendar ? "calendar-multiget" : "addressbook-multiget",
      el(NS.DAV, "prop", el(NS.DAV, "getetag"), this.#dataElement()),
      ...batch.map((href) => el(NS.DAV, "href", href)),
    );
    const { res, root } = await this.#multistatus("REPORT", this.url, body, { depth: "1" });
    const requested = new Set(batch);
    const out: (FetchedItem | ItemFailure)[] = [];
    const done = new Set<string>();
    const [dataNs, dataName] = this.#dataProp();
    for (const r of propResponses(root, res.url)) {
      if (!requested.has(r.href)) {
        this.#log.warn(`Server sent unsolicited item: ${r.href}`);
        continue;
      }
      if (done.has(r.href)) {
        this.#log.warn(`Server sent item twice: ${r.href}`);
        continue;
      }
      if (r.status !== undefined && r.status >= 400) continue; // reported as missing below
      const etag = propText(r.props, NS.DAV, "getetag");
      const data = findProp(r.props, dataNs, dataName);
      done.add(r.href);
      if (!data || (data.text === "" && data.children.length === 0)) {
        out.push({
          href: r.href,
          error: new InvalidResponseError(
            `${r.href}: the item content is missing from the server's multiget answer.`,
            {
              context: { href: r.href, location: redactUrl(this.url) },
            },
          ),
        });
        continue;
      }
      if (!etag) {
        out.push({
          href: r.href,
          error: new InvalidResponseError(`${r.href}: the server sent the item without an etag.`, {
            context: { href: r.href, location: redactUrl(this.url) },
          }),
        });
        continue;
      }
      out.push({ href: r.href, etag, item: new Item(data.text) });
    }
    for (const href of batch) {
      if (!done.has(href)) out.push({ href, error: new NotFoundError(href) });
    }
    return out;
  }

  /** `If-None-Match: *` PUT to `<ident><fileext>` (or a uuid4 href when the ident is not URL-safe). */
  async upload(item: Item): Promise<Written> {
    const href = this.#normalize(generateHref(item.ident) + this.#opts.fileext);
    const etag = await this.#put(href, item, undefined);
    return { href, etag };
  }

  /** `If-Match` PUT. @throws {WrongEtagError} on 412 */
  async update(href: string, item: Item, etag: string): Promise<Pick<Written, "etag">> {
    if (!etag) throw new TypeError("etag must be given and must not be None.");
    return { etag: await this.#put(href, item, etag) };
  }

  /**
   * PUT through tsdav (`createObject` with `If-None-Match: *` when `etag` is undefined, else `updateObject`
   * with `If-Match`), over the session's fetch. tsdav hands a string `data` to that fetch untouched, so the
   * body is `item.raw` byte for byte; its answer is the raw Response (a 412 does not throw), judged here.
   */
  async #put(href: string, item: Item, etag: string | undefined): Promise<string | undefined> {
    this.#prefetched.delete(href);
    const url = this.#abs(href);
    const headers = { "content-type": `${this.#mimetype}; charset=utf-8` };
    const fetch = this.#http.fetch;
    const res = await readResponse(
      etag === undefined
        ? await tsdav.createObject({
            url,
            data: item.raw,
            headers: { ...headers, "if-none-match": "*" },
            fetch,
          })
        : await tsdav.updateObject({ url, data: item.raw, etag, headers, fetch }),
      url,
    );
    if (res.status === 412) {
      throw etag === undefined ? new AlreadyExistsError(href) : await this.#preconditionFailed(href, etag);
    }
    if (res.status >= 400 || res.status < 200) throw statusError("PUT", res, href);
    this.#checkPutBody(res, href);
    return res.headers.get("etag") ?? (await this.#etagOf(href));
  }

  /** Xandikos answers PUT with a multistatus; any per-resource error status in it fails the write. */
  #checkPutBody(res: DavResponse, href: string): void {
    if (!res.body.includes("multistatus")) return;
    let root: ReturnType<typeof parseXml>;
    try {
      root = parseXml(res.body);
    } catch {
      return;
    }
    if (root.ns !== NS.DAV || root.name !== "multistatus") return;
    for (const s of JSON.stringify(root).matchAll(/HTTP\/[\d.]+ (\d{3})/g)) {
      const code = Number(s[1]);
      if (code < 200 || code >= 400) {
        throw new InvalidResponseError(
          `PUT ${redactUrl(this.#abs(href))}: server error ${code} in its multistatus answer.`,
          {
            body: res.body,
            context: { href },
          },
        );
      }
    }
  }

  /** The etag of one item by PROPFIND Depth 0, when a PUT answer carried none; `undefined` if that fails. */
  async #etagOf(href: string): Promise<string | undefined> {
    try {
      const { res, root } = await this.#multistatus(
        "PROPFIND",
        this.#abs(href),
        el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "getetag"))),
        {
          depth: "0",
        },
      );
      const r = propResponses(root, res.url)[0];
      return r ? propText(r.props, NS.DAV, "getetag") : undefined;
    } catch (error) {
      this.#log.debug(`Could not read the etag of ${href} after PUT: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** DELETE through tsdav with `If-Match` (without it only when no etag is known, with a warning). */
  async delete(href: string, etag: string): Promise<void> {
    if (!etag) this.#log.warn(`Deleting ${href} without If-Match: no etag is known for it.`);
    this.#prefetched.delete(href);
    const url = this.#abs(href);
    // tsdav's deleteObject drops If-Match for an empty etag itself; passing none keeps that explicit.
    const res = await readResponse(
      await tsdav.deleteObject({ url, ...(etag ? { etag } : {}), fetch: this.#http.fetch }),
      url,
    );
    if (res.status === 412) throw await this.#preconditionFailed(href, etag);
    if (res.status >= 400) throw statusError("DELETE", res, href);
  }

  /**
   * A 412 on `If-Match` means "gone" or "changed"; servers answer 412 for both (RFC 7232 §3.1). One PROPFIND
   * Depth 0, only on this error path, tells which, so the engine gets NotFoundError or WrongEtagError as the
   * contract says.
   */
  async #preconditionFailed(href: string, etag: string): Promise<NotFoundError | WrongEtagError> {
    try {
      const { res, root } = await this.#multistatus(
        "PROPFIND",
        this.#abs(href),
        el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "getetag"))),
        { depth: "0" },
      );
      // Xandikos 0.2.8 answers 207 with a response-level 404 instead of a plain 404.
      const gone = propResponses(root, res.url).some((r) => r.status === 404 || r.status === 410);
      if (gone) return new NotFoundError(href);
    } catch (error) {
      if (isVdirsyncerError(error, "NOT_FOUND")) return new NotFoundError(href);
    }
    return new WrongEtagError(href, { expected: etag });
  }

  #metaProp(key: MetaKey): [string, string] {
    const prop = META_PROPS[this.#opts.kind][key];
    if (!prop)
      throw new UnsupportedError(`The metadata key ${key} is not supported for ${this.#opts.kind}s.`);
    return prop;
  }

  /** PROPFIND Depth 0 for the property of `key`; `undefined` when absent or empty. */
  async getMeta(key: MetaKey): Promise<string | undefined> {
    const [ns, name] = this.#metaProp(key);
    const { res, root } = await this.#multistatus(
      "PROPFIND",
      this.url,
      el(NS.DAV, "propfind", el(NS.DAV, "prop", el(ns, name))),
      {
        depth: "0",
      },
    );
    for (const r of propResponses(root, res.url)) {
      for (const p of r.props) {
        if (p.ns === ns && p.name === name) {
          const value = normalizeMetaValue(p.text);
          if (value && !(key === "displayname" && isServerDefaultName(this.url, value))) return value;
        }
      }
    }
    return undefined;
  }

  /** PROPPATCH set (or remove for `undefined`) of the property of `key`. */
  async setMeta(key: MetaKey, value: string | undefined): Promise<void> {
    const [ns, name] = this.#metaProp(key);
    const op = value === undefined ? "remove" : "set";
    const body = el(
      NS.DAV,
      "propertyupdate",
      el(NS.DAV, op, el(NS.DAV, "prop", value === undefined ? el(ns, name) : el(ns, name, value))),
    );
    const res = await this.#send("PROPPATCH", this.url, body);
    if (res.status >= 400) throw statusError("PROPPATCH", res);
    if (res.status === 207) {
      const root = parseMultistatus(res.body, "PROPPATCH", res.url, this.#log);
      for (const s of JSON.stringify(root).matchAll(/HTTP\/[\d.]+ (\d{3})/g)) {
        const code = Number(s[1]);
        if (code >= 400 && !(value === undefined && code === 404)) {
          throw new InvalidResponseError(
            `PROPPATCH ${redactUrl(this.url)}: the server refused ${key} (${code}).`,
            { body: res.body },
          );
        }
      }
    }
  }
}

export { statusCode };
