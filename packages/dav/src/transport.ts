/**
 * What every part of a DAV collection shares: its URL, its kind, the session, and the scope its requests are
 * counted and stopped by.
 */
import { CollectionNotFoundError, type Logger } from "@vdirsyncer/core";
import type { DavCollectionOptions } from "./api.ts";
import { normalizeHref } from "./href.ts";
import { redactUrl, statusError } from "./http-errors.ts";
import { parseMultistatus, propResponses } from "./multistatus.ts";
import { profileFor, type ServerProfile } from "./profiles.ts";
import type { DavResponse, HttpSession, RequestScope } from "./session.ts";
import { buildXml, el, NS, type XmlElement, type XmlNode } from "./xml.ts";

/** One collection's view of the session. */
export class CollectionTransport {
  readonly http: HttpSession;
  /** The collection URL, with a trailing `/`. */
  readonly url: string;
  readonly opts: DavCollectionOptions;
  readonly scope: RequestScope;
  /** `text/calendar` or `text/vcard`. */
  readonly mimetype: string;
  /** The `fetch` handed to tsdav for this collection's requests. */
  readonly fetch: typeof fetch;

  constructor(http: HttpSession, url: string, opts: DavCollectionOptions, scope: RequestScope) {
    this.http = http;
    this.url = `${http.resolve(url).replace(/\/+$/, "")}/`;
    this.opts = opts;
    this.scope = scope;
    this.mimetype = opts.kind === "calendar" ? "text/calendar" : "text/vcard";
    // Unscoped collections share the session's own fetch.
    this.fetch = scope.stats || scope.signal ? http.fetchFor(scope) : http.fetch;
  }

  get log(): Logger {
    return this.http.log;
  }

  /** The profile of what the server shows (see {@link HttpSession.observe}). */
  async profile(): Promise<ServerProfile> {
    return profileFor(await this.http.observe(this.scope));
  }

  /** vdirsyncer's normalised form of an href of this collection. */
  normalize(href: string): string {
    return normalizeHref(this.url, href);
  }

  /** The absolute URL of an href. */
  abs(href: string): string {
    return new URL(href, this.url).toString();
  }

  contentTypeMatches(type: string | undefined): boolean {
    if (type === undefined) return true;
    const subtype = this.mimetype.split("/")[1] as string;
    return type.includes(subtype);
  }

  send(
    method: string,
    url: string,
    body?: XmlNode | string,
    headers: Record<string, string> = {},
    maxAttempts?: number,
  ): Promise<DavResponse> {
    return this.http.request({
      method,
      url,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : buildXml(body),
      ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      ...this.scope,
    });
  }

  /**
   * A request that must answer 207, parsed.
   * @throws {CollectionNotFoundError} the collection URL itself answered 404 or 410
   */
  async multistatus(
    method: string,
    url: string,
    body: XmlNode,
    headers: Record<string, string>,
  ): Promise<{ res: DavResponse; root: XmlElement }> {
    const res = await this.send(method, url, body, headers);
    if (res.status !== 207) throw this.failure(method, res, url);
    const root = parseMultistatus(res.body, method, res.url, this.log);
    if (url === this.url) {
      // Xandikos answers a request on a missing collection with 207 and a 404 for the collection itself.
      const own = this.normalize(this.url);
      // Its href there is the absolute URL percent-encoded as a whole (`http%3A//host/…`).
      const decoded = (href: string) => {
        try {
          return decodeURIComponent(href);
        } catch {
          return href;
        }
      };
      const gone = propResponses(root, res.url).find(
        (r) => (r.href === own || decoded(r.rawHref) === this.url) && (r.status === 404 || r.status === 410),
      );
      if (gone) throw this.failure(method, { ...res, status: gone.status as number, statusText: "" }, url);
    }
    return { res, root };
  }

  /** The error of a failed answer; a 404/410 for the collection itself says the collection does not exist. */
  failure(method: string, res: DavResponse, requested: string = this.url) {
    if ((res.status === 404 || res.status === 410) && requested === this.url) {
      const where = redactUrl(this.url);
      return new CollectionNotFoundError(where, {
        message: `The collection ${where} does not exist (${method} answered ${res.status}).`,
        cause: statusError(method, res),
      });
    }
    return statusError(method, res);
  }

  /** The namespace and name of the item-data property of this kind. */
  dataProp(): [string, string] {
    return this.opts.kind === "calendar" ? [NS.CALDAV, "calendar-data"] : [NS.CARDDAV, "address-data"];
  }

  /** The item-data element to ask for (vCard 4.0 with `useVcard4`). */
  dataElement(): XmlNode {
    if (this.opts.kind === "calendar") return el(NS.CALDAV, "calendar-data");
    return this.opts.useVcard4
      ? el(NS.CARDDAV, "address-data", { "content-type": "text/vcard", version: "4.0" })
      : el(NS.CARDDAV, "address-data");
  }
}
