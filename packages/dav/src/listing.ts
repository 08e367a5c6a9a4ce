/**
 * How a DAV collection is listed: PROPFIND Depth 1, calendar-query per item type (filters), one query with every
 * item's data, and RFC 6578 sync-collection with 507 truncation.
 */
import {
  type ChangeSet,
  InvalidResponseError,
  type ItemRef,
  SyncTokenExpiredError,
  UnsupportedError,
  type VdirsyncerError,
} from "@vdirsyncer/core";
import { redactUrl, statusError } from "./http-errors.ts";
import {
  failedPropError,
  findProp,
  hasResourceType,
  type PropResponse,
  parseMultistatus,
  propFailure,
  propResponses,
  propText,
} from "./multistatus.ts";
import type { DavResponse } from "./session.ts";
import type { CollectionTransport } from "./transport.ts";
import { buildXml, child, el, NS } from "./xml.ts";

/** An item listed with its data (`undefined` when the server left the data out). */
export interface ListedWithData {
  ref: ItemRef;
  text: string | undefined;
}

function formatDate(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/** True when `item_types` or a time range narrows the listing. */
export function isFiltered(t: CollectionTransport): boolean {
  return (t.opts.itemTypes?.length ?? 0) > 0 || t.opts.timeRange !== undefined;
}

/**
 * Throws when the server failed (a non-2xx, non-404 propstat) to give the etag of a member of the listing: such
 * an item must not look deleted, so the whole listing fails, naming the href and the status.
 */
function checkListed(method: string, url: string, r: PropResponse): void {
  const code = propFailure(r, NS.DAV, "getetag");
  if (code !== undefined) throw failedPropError(method, url, r, "getetag", code);
}

/** Applies vdirsyncer's listing filter to the responses of a PROPFIND/REPORT. */
export function listedRefs(
  t: CollectionTransport,
  responses: PropResponse[],
  seen: Set<string>,
  method = "PROPFIND",
): ItemRef[] {
  const out: ItemRef[] = [];
  const own = t.normalize(t.url);
  for (const r of responses) {
    if (r.href !== own) checkListed(method, t.url, r);
    if (seen.has(r.href)) {
      t.log.debug(`Skipping duplicate href ${redactUrl(r.href)}.`);
      continue;
    }
    seen.add(r.href);
    if (r.props.length === 0) continue;
    if (hasResourceType(r.props, NS.DAV, "collection")) continue;
    const etag = propText(r.props, NS.DAV, "getetag");
    if (!etag) {
      t.log.warn(`Skipping ${redactUrl(r.href)}: the server sent no etag for it.`);
      continue;
    }
    if (!t.contentTypeMatches(propText(r.props, NS.DAV, "getcontenttype"))) continue;
    out.push({ href: r.href, etag });
  }
  return out;
}

/** One calendar-query per item type (all of `VTODO`, `VEVENT` when only a range is set), vdirsyncer's rules. */
export async function* filteredListing(t: CollectionTransport, seen: Set<string>): AsyncIterable<ItemRef> {
  const types = t.opts.itemTypes?.length ? t.opts.itemTypes : ["VTODO", "VEVENT"];
  for (const type of types) {
    const range = t.opts.timeRange;
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
    const { res, root } = await t.multistatus("REPORT", t.url, body, { depth: "1" });
    yield* listedRefs(t, propResponses(root, res.url), seen, "REPORT");
  }
}

/** PROPFIND Depth 1 of the collection. */
export async function propfindListing(t: CollectionTransport): Promise<ItemRef[]> {
  const body = el(
    NS.DAV,
    "propfind",
    el(NS.DAV, "prop", el(NS.DAV, "resourcetype"), el(NS.DAV, "getcontenttype"), el(NS.DAV, "getetag")),
  );
  const { res, root } = await t.multistatus("PROPFIND", t.url, body, { depth: "1" });
  return listedRefs(t, propResponses(root, res.url), new Set());
}

/**
 * One calendar-query/addressbook-query for every item with its etag and data, filtered as a listing is
 * (vdirsyncer's rules).
 */
export async function queryWithData(t: CollectionTransport): Promise<ListedWithData[]> {
  const prop = el(NS.DAV, "prop", el(NS.DAV, "getetag"), el(NS.DAV, "getcontenttype"), t.dataElement());
  const body =
    t.opts.kind === "calendar"
      ? el(
          NS.CALDAV,
          "calendar-query",
          prop,
          el(NS.CALDAV, "filter", el(NS.CALDAV, "comp-filter", { name: "VCALENDAR" })),
        )
      : el(NS.CARDDAV, "addressbook-query", prop);
  const { res, root } = await t.multistatus("REPORT", t.url, body, { depth: "1" });
  const [dataNs, dataName] = t.dataProp();
  const seen = new Set<string>();
  const out: ListedWithData[] = [];
  for (const r of propResponses(root, res.url)) {
    for (const ref of listedRefs(t, [r], seen, "REPORT")) {
      out.push({ ref, text: findProp(r.props, dataNs, dataName)?.text || undefined });
    }
  }
  return out;
}

/** The `sync-token` property (PROPFIND Depth 0); `undefined` when the collection has none. */
export async function syncTokenProperty(t: CollectionTransport): Promise<string | undefined> {
  const body = el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "sync-token")));
  const { res, root } = await t.multistatus("PROPFIND", t.url, body, { depth: "0" });
  const self = propResponses(root, res.url)[0];
  const code = self ? propFailure(self, NS.DAV, "sync-token") : undefined;
  if (self && code !== undefined) throw failedPropError("PROPFIND", t.url, self, "sync-token", code);
  return self ? propText(self.props, NS.DAV, "sync-token") : undefined;
}

/**
 * The error of a sync-collection REPORT that did not answer 207; `unsupported` is set when the answer says the
 * server has no sync-collection here.
 */
function syncError(
  t: CollectionTransport,
  res: DavResponse,
  token: string | undefined,
): { error: VdirsyncerError; unsupported: boolean } {
  const invalidToken = /valid-sync-token/.test(res.body);
  if (token !== undefined && invalidToken && [400, 403, 409, 412].includes(res.status)) {
    const error = new SyncTokenExpiredError(`${redactUrl(t.url)} rejected the sync token (${res.status}).`, {
      cause: statusError("REPORT", res),
    });
    return { error, unsupported: false };
  }
  // Xandikos 0.2.8 answers an unknown token with a bare 500: after a retry, a full listing is the safe cure.
  if (token !== undefined && res.status >= 500 && res.status !== 501 && res.status !== 507) {
    const error = new SyncTokenExpiredError(
      `${redactUrl(t.url)} failed on the sync token (${res.status}); listing in full.`,
      { cause: statusError("REPORT", res) },
    );
    return { error, unsupported: false };
  }
  if ([400, 403, 405, 409, 418, 422, 501].includes(res.status)) {
    const error = new UnsupportedError(
      `${redactUrl(t.url)} does not support sync-collection (REPORT answered ${res.status}).`,
      { cause: statusError("REPORT", res) },
    );
    return { error, unsupported: true };
  }
  return { error: t.failure("REPORT", res), unsupported: false };
}

/**
 * RFC 6578 sync-collection from `token` (`undefined` = everything), following 507 truncation until complete.
 * @param onUnsupported called when the server's answer says it has no sync-collection here
 * @throws {SyncTokenExpiredError} the server rejected the token (`DAV:valid-sync-token`, or Xandikos' bare 500)
 * @throws {UnsupportedError} the server has no sync-collection here
 */
export async function syncCollection(
  t: CollectionTransport,
  token: string | undefined,
  onUnsupported: () => void,
): Promise<ChangeSet> {
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
    const res = await t.send(
      "REPORT",
      t.url,
      buildXml(body),
      { depth: "0" },
      current !== undefined ? 2 : undefined,
    );
    if (res.status !== 207) {
      const { error, unsupported } = syncError(t, res, current);
      if (unsupported) onUnsupported();
      throw error;
    }
    const root = parseMultistatus(res.body, "REPORT", res.url, t.log);
    const next = child(root, NS.DAV, "sync-token")?.text.trim();
    if (!next) {
      throw new InvalidResponseError(
        `REPORT sync-collection ${redactUrl(t.url)} answered without a sync-token.`,
        {
          body: res.body,
        },
      );
    }
    let truncated = false;
    const own = t.normalize(t.url);
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
      checkListed("REPORT", t.url, r);
      if (hasResourceType(r.props, NS.DAV, "collection")) continue;
      if (!t.contentTypeMatches(propText(r.props, NS.DAV, "getcontenttype"))) continue;
      const etag = propText(r.props, NS.DAV, "getetag");
      if (!etag) {
        t.log.warn(`Skipping ${redactUrl(r.href)}: the server sent no etag for it.`);
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
  throw new InvalidResponseError(`sync-collection on ${redactUrl(t.url)} did not finish after 10000 pages.`);
}
