/**
 * Server profiles: listing and batching choices keyed on what a server shows of its behaviour (the HTTP version
 * it answers with, the classes of its `DAV` header), never on the name of the software that serves it.
 * The choices were measured with `bench/listing-probe.mjs` and `bench/dav-sync.mjs` (numbers in bench/README.md)
 * on the servers that show each behaviour here: Radicale 3.1.8 and Xandikos 0.2.8.
 */

/** What a server has shown of itself in its answers so far. */
export interface ObservedServer {
  /** The HTTP version of the first answer's status line (`"1.0"`, `"1.1"`), once a connection answered. */
  httpVersion: string | undefined;
  /** The classes of the first `DAV` header seen (`1`, `2`, `calendar-access`, `sync-collection` …), lower case. */
  davClasses: ReadonlySet<string> | undefined;
  /** True once an answer said `Connection: close`. */
  connectionClose: boolean;
  /** Records what one answer's headers show. */
  see(headers: Headers): void;
}

/** A fresh record of what a server showed. */
export function observedServer(): ObservedServer {
  return {
    httpVersion: undefined,
    davClasses: undefined,
    connectionClose: false,
    see(headers) {
      if (this.davClasses === undefined) {
        const dav = headers.get("dav");
        if (dav) {
          this.davClasses = new Set(
            dav
              .split(",")
              .map((c) => c.trim().toLowerCase())
              .filter((c) => c !== ""),
          );
        }
      }
      if (/\bclose\b/i.test(headers.get("connection") ?? "")) this.connectionClose = true;
    },
  };
}

/** True when every request costs the server a new connection (HTTP/1.0 without keep-alive, `Connection: close`). */
export function closesConnections(server: Pick<ObservedServer, "httpVersion" | "connectionClose">): boolean {
  return server.httpVersion === "1.0" || server.connectionClose;
}

/** True when the profile still depends on the DAV classes, which no answer has shown yet. */
export function needsDavClasses(server: Pick<ObservedServer, "httpVersion" | "davClasses">): boolean {
  return server.davClasses === undefined && server.httpVersion !== "1.0";
}

/** Per-server choices (see the file comment). */
export interface ServerProfile {
  /**
   * The behaviour the profile is chosen by: `"one-request-per-connection"` (HTTP/1.0 answers),
   * `"announced-sync"` (`sync-collection` among the `DAV` classes), `"standard"` (anything else).
   */
  name: "one-request-per-connection" | "announced-sync" | "standard";
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

// Measured on collections of 10,000 events (1,000 in brackets).
const PROFILES: Record<ServerProfile["name"], ServerProfile> = {
  // A server answering HTTP/1.0 takes a new connection per request and, as measured, serves them one at a time:
  // fewest requests wins. Radicale 3.1.8 (answers HTTP/1.0): getctag 0.27 s (0.05 s); the sync-token property
  // 6-13 s the first time (it writes a history entry per item), 0.4 s after; PROPFIND Depth 1 21 s; one
  // calendar-query with all data 0.6 s (0.07 s), about what a sync-collection delta alone costs (0.6 s). Listing
  // by query when getctag changed is the cheapest path and never pays the token's first cost. Multiget of 100
  // hrefs 0.02 s: large batches.
  "one-request-per-connection": {
    name: "one-request-per-connection",
    multigetBatchSize: 250,
    multigetConcurrency: 2,
    syncTokens: false,
    initialListing: "query+data",
    fullListing: "query+data",
    syncTokenAsTag: false,
    queryAboveHrefs: Number.POSITIVE_INFINITY,
  },
  // A server that names sync-collection among its DAV classes treats tokens as a first-class feature. Xandikos
  // 0.2.8 (does so): getctag and the sync-token property 0.13 s, a sync-collection delta 0.2-0.3 s, PROPFIND
  // Depth 1 0.6 s, one calendar-query with all data 2.4-3.0 s (0.27 s); its sync-collection answers
  // calendar-data with 404, and a multiget costs ~0.1 s per href at 10,000 (~11 ms at 1,000): per href it pays
  // about 1/25 of a whole query at either size, so more than 25 hrefs are read by the query.
  "announced-sync": {
    name: "announced-sync",
    multigetBatchSize: 50,
    multigetConcurrency: 4,
    syncTokens: true,
    initialListing: "query+data",
    fullListing: "propfind",
    syncTokenAsTag: true,
    queryAboveHrefs: 25,
  },
  // Nothing measured: RFC 6578 as written, multiget in small batches.
  standard: {
    name: "standard",
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
 * Picks the profile for what a server showed: HTTP/1.0 answers → `one-request-per-connection`; `sync-collection`
 * among the `DAV` classes → `announced-sync`; anything else (or nothing seen yet) → `standard`.
 */
export function profileFor(
  server: Pick<ObservedServer, "httpVersion" | "davClasses"> | undefined,
): ServerProfile {
  if (server?.httpVersion === "1.0") return PROFILES["one-request-per-connection"];
  if (server?.davClasses?.has("sync-collection")) return PROFILES["announced-sync"];
  return PROFILES.standard;
}

/** How a collection of a server with this profile is listed, in words (for `check`). */
export function describeListing(profile: ServerProfile): string {
  if (!profile.syncTokens) return "getctag, then one query with every item's data (no sync tokens)";
  const first =
    profile.initialListing === "query+data" ? "one query with every item's data" : "sync-collection";
  const more =
    profile.queryAboveHrefs === Number.POSITIVE_INFINITY
      ? "multiget"
      : `multiget, or one query above ${profile.queryAboveHrefs} items`;
  return `getctag or sync-token, then sync-collection deltas (first listing: ${first}; items by ${more})`;
}
