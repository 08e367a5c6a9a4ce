/** Per-server choices, found by measuring (`bench/listing-probe.mjs`, `bench/dav-sync.mjs`; bench/README.md). */
export interface ServerProfile {
  name: "radicale" | "xandikos" | "unknown";
  /** hrefs per multiget REPORT. */
  multigetBatchSize: number;
  /** multiget REPORTs in flight. */
  multigetConcurrency: number;
  /**
   * Whether `changes()` uses RFC 6578 sync tokens. When false it throws `UnsupportedError`, so the engine
   * decides by `collectionTag()` (getctag) and lists with `list()` when that changed.
   */
  syncTokens: boolean;
  /**
   * How `changes(undefined)` (the initial listing, before the first sync or after a lost token) lists:
   * - `"sync-collection"`: etags only; the engine then reads the items by multiget;
   * - `"query+data"`: the `sync-token` property (Depth 0), then one calendar-query/addressbook-query with every
   *   item's data, which `getMany` then serves without a multiget.
   */
  initialListing: "sync-collection" | "query+data";
  /**
   * How `list()` lists when no filter is set: `"propfind"` (PROPFIND Depth 1, etags only) or `"query+data"`
   * (one query with every item's data, served to `getMany` as above).
   */
  fullListing: "propfind" | "query+data";
  /**
   * Whether `collectionTag()` may read the `sync-token` property when the server has no `getctag`; false where
   * that property is expensive.
   */
  syncTokenAsTag: boolean;
  /**
   * `getMany` of more hrefs than this (not served by a listing) reads the whole collection with one query with
   * data instead of multiget, for servers whose multiget costs more per href than the query per collection.
   */
  queryAboveHrefs: number;
}

// Measured with bench/listing-probe.mjs and bench/dav-sync.mjs on collections of 10,000 events (1,000 in brackets).
const PROFILES: Record<ServerProfile["name"], ServerProfile> = {
  // Radicale 3.1.8: getctag 0.27 s (0.05 s); the sync-token property 6-13 s the first time (it writes a history
  // entry per item), 0.4 s after; PROPFIND Depth 1 21 s; one calendar-query with all data 0.6 s (0.07 s), about
  // what a sync-collection delta alone costs (0.6 s). Listing by query when getctag changed is the cheapest path
  // and never pays the token's first cost. Multiget of 100 hrefs 0.02 s; one request at a time over HTTP/1.0:
  // large batches.
  radicale: {
    name: "radicale",
    multigetBatchSize: 250,
    multigetConcurrency: 2,
    syncTokens: false,
    initialListing: "query+data",
    fullListing: "query+data",
    syncTokenAsTag: false,
    queryAboveHrefs: Number.POSITIVE_INFINITY,
  },
  // Xandikos 0.2.8: getctag and the sync-token property 0.13 s, a sync-collection delta 0.2-0.3 s, PROPFIND
  // Depth 1 0.6 s, one calendar-query with all data 2.4-3.0 s (0.27 s); its sync-collection answers
  // calendar-data with 404, and a multiget costs ~0.1 s per href at 10,000 (~11 ms at 1,000): per href it pays
  // about 1/25 of a whole query at either size, so more than 25 hrefs are read by the query.
  xandikos: {
    name: "xandikos",
    multigetBatchSize: 50,
    multigetConcurrency: 4,
    syncTokens: true,
    initialListing: "query+data",
    fullListing: "propfind",
    syncTokenAsTag: true,
    queryAboveHrefs: 25,
  },
  // Nothing measured: RFC 6578 as written, multiget in small batches.
  unknown: {
    name: "unknown",
    multigetBatchSize: 50,
    multigetConcurrency: 4,
    syncTokens: true,
    initialListing: "sync-collection",
    fullListing: "propfind",
    syncTokenAsTag: true,
    queryAboveHrefs: Number.POSITIVE_INFINITY,
  },
};

/**
 * Picks a profile from the `Server` and `DAV` headers of the first answer (`"<server> | <dav>"`).
 * Neither names itself: Xandikos runs on aiohttp, Radicale on Python's WSGI server; anything else is unknown.
 */
export function profileFor(serverHeader: string | undefined): ServerProfile {
  const h = (serverHeader ?? "").toLowerCase();
  // Xandikos 0.2.8 says `Server: Python/3.11 aiohttp/3.8.4`; Radicale 3 `WSGIServer/0.2 CPython/3.11.2`.
  if (h.includes("xandikos") || h.includes("aiohttp")) return PROFILES.xandikos;
  if (h.includes("radicale") || h.includes("wsgiserver")) return PROFILES.radicale;
  return PROFILES.unknown;
}
