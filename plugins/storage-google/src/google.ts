/**
 * The Google storages: Google's CalDAV and CardDAV endpoints through `@vdirsyncer/dav`, with OAuth instead of a
 * password and Google's quirks (spec/dav.md, Google).
 */
import type {
  CheckReport,
  CollectionInfo,
  CollectionRef,
  Item,
  JsonValue,
  Logger,
  MetaKey,
  OpenOptions,
  StatsSink,
  StorageContext,
} from "@vdirsyncer/core";
import { UnsupportedError, UserError } from "@vdirsyncer/core";
import { expandPath } from "@vdirsyncer/core/compat";
import {
  buildXml,
  checkDav,
  DAV_CONCURRENCY,
  type DavCollection,
  type DavCollectionOptions,
  type DavSessionOptions,
  discoverCollections,
  el,
  HttpSession,
  NS,
  openDavCollection,
  parseXml,
  pyUnquote,
  pyUrljoin,
  refUrl,
  statusError,
  type XmlElement,
} from "@vdirsyncer/dav";
import { caldavCollectionOptions } from "@vdirsyncer/storage-caldav";
import type { AuthorizeUi } from "./authorize.ts";
import { ENDPOINTS_ENV, GOOGLE_SCOPES, type GoogleEndpoints, resolveEndpoints } from "./endpoints.ts";
import { googleSessionOptions } from "./google-session.ts";
import { sharedGoogleAuth } from "./oauth.ts";
import { GoogleCalendarOptions, GoogleContactsOptions } from "./options.ts";
import { type RateLimit, sharedBucket, TokenBucket } from "./rate-limit.ts";
import { loadToken } from "./token-file.ts";

/** vdirsyncer's message for `collections = null` on a storage that needs a collection, word for word. */
export const COLLECTION_REQUIRED =
  "One or more storages don't support `collections = null`. " +
  'You probably want to set `collections = ["from a", "from b"]`.';

/** Settings that no config key sets: for tests and hosts that drive the authorisation themselves. */
export interface GoogleOverrides {
  /** Endpoints replacing Google's (after {@link resolveEndpoints}). */
  endpoints?: Partial<GoogleEndpoints>;
  /** How the first authorisation talks to the user. */
  ui?: AuthorizeUi;
  /** A rate limit of this storage alone, instead of the one shared by every storage of the token file. */
  rateLimit?: RateLimit;
  /** DAV session options, e.g. the `onRequest` hook, or fewer `maxAttempts` and a shorter `retryBaseMs`. */
  session?: Partial<DavSessionOptions>;
  /** The clock of token expiry, in milliseconds. */
  now?: () => number;
}

/** The calendar name Google's collection URLs carry: the second-to-last path segment, unquoted (`/caldav/v2/<id>/events/`). */
export function googleCalendarName(url: string): string {
  const parts = new URL(url).pathname.replace(/\/+$/, "").split("/");
  parts.pop();
  return pyUnquote(parts.pop() ?? "");
}

const TASKS = /^BEGIN:(VTODO|VJOURNAL)\r?$/m;

// Values of the endpoints variable already warned about in this process. A run creates a storage per section and
// per collection; one warning says it, five bury the output.
const warnedEndpoints = new Set<string>();

/** Refuses tasks and journal entries before Google does (with an opaque error) . */
function refuseTasks(item: Item, href?: string): void {
  const found = TASKS.exec(item.raw);
  if (found) {
    throw new UnsupportedError(
      `Google Calendar does not store ${found[1]} components, so ${href ?? `the item with UID ${item.uid ?? item.ident}`} cannot be written there.`,
    );
  }
}

/** The metadata Google calendars have: CalDAV's displayname and Apple's calendar-color (as vdirsyncer). */
export const CALENDAR_META: readonly MetaKey[] = ["displayname", "color"];

function checkedKey(key: MetaKey): MetaKey {
  if (!CALENDAR_META.includes(key)) {
    throw new UnsupportedError(
      `Google calendars have no ${key} metadata; only ${CALENDAR_META.join(" and ")}.`,
    );
  }
  return key;
}

/** Methods passed through to the DAV collection, bound to it (it keeps its state in private fields). */
const PASSED = ["list", "get", "getMany", "collectionTag", "changes", "delete", "flush"] as const;

/**
 * The DAV collection as a Google one: tasks refused up front on calendars (Google has no VTODO/VJOURNAL), and
 * metadata only where Google has it (calendars: PROPPATCH of displayname and color; contacts: no PROPPATCH).
 */
function googleCollection(inner: DavCollection, kind: GoogleKind): GoogleCollection {
  const outer: Record<string, unknown> = { url: inner.url };
  const methods = inner as unknown as Record<string, unknown>;
  for (const name of PASSED) {
    const fn = methods[name];
    if (typeof fn === "function") outer[name] = fn.bind(inner);
  }
  if (kind === "calendar") {
    const { getMeta, setMeta } = inner;
    outer.getMeta = async (key: MetaKey) => getMeta.call(inner, checkedKey(key));
    outer.setMeta = async (key: MetaKey, value: string | undefined) =>
      setMeta.call(inner, checkedKey(key), value);
  }
  outer.upload = async (item: Item) => {
    if (kind === "calendar") refuseTasks(item);
    return inner.upload(item);
  };
  outer.update = async (href: string, item: Item, etag: string) => {
    if (kind === "calendar") refuseTasks(item, href);
    return inner.update(href, item, etag);
  };
  return outer as unknown as GoogleCollection;
}

/** What a Google storage holds. */
export type GoogleKind = "calendar" | "addressbook";

/** A Google collection: a DAV collection whose metadata methods exist on calendars only. */
export type GoogleCollection<K extends GoogleKind = GoogleKind> = K extends "calendar"
  ? DavCollection
  : Omit<DavCollection, "getMeta" | "setMeta"> & { getMeta?: undefined; setMeta?: undefined };

/** The storage {@link createGoogleStorage} returns. */
export interface GoogleStorage<K extends GoogleKind = GoogleKind> {
  readonly concurrency: number;
  open(ref: CollectionRef | null, options: OpenOptions): GoogleCollection<K>;
  discover(): AsyncIterable<CollectionInfo>;
  check(): Promise<CheckReport>;
  close(): Promise<void>;
}

/** A `fetch` for the OAuth token endpoint whose requests count on `stats`. */
function countingFetch(stats: StatsSink): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await globalThis.fetch(input, init);
    stats.add("requests");
    if (typeof init?.body === "string") stats.add("bytesSent", Buffer.byteLength(init.body));
    else if (init?.body instanceof URLSearchParams)
      stats.add("bytesSent", Buffer.byteLength(init.body.toString()));
    const length = Number(res.headers.get("content-length") ?? 0);
    if (length > 0) stats.add("bytesReceived", length);
    return res;
  }) as typeof fetch;
}

/** Keys no collection may change: one session and one token file serve every collection of a storage. */
const ACCOUNT_KEYS = ["token_file", "client_id", "client_secret"] as const;

function directChildren(node: XmlElement, ns: string, name: string): XmlElement[] {
  return node.children.filter((c) => c.ns === ns && c.name === name);
}

/**
 * Google's contacts discovery: one PROPFIND Depth 1 on the well-known URL, where every answer is an address book
 * (Google sends no `resourcetype`; principal and home-set requests answer 404). vdirsyncer counts every response;
 * we leave out vCards (a `.vcf` name, or a vCard type without a trailing slash) and, when others are listed, the answer for the requested URL itself, which then is the
 * home and not a collection.
 */
async function* discoverAddressBooks(session: HttpSession, wellKnown: string, log: Logger) {
  const body = buildXml(
    el(
      NS.DAV,
      "propfind",
      el(NS.DAV, "prop", el(NS.DAV, "resourcetype"), el(NS.DAV, "displayname"), el(NS.DAV, "getcontenttype")),
    ),
  );
  const res = await session.request({ method: "PROPFIND", url: wellKnown, headers: { depth: "1" }, body });
  if (res.status !== 207) throw statusError("PROPFIND", res);
  const root = parseXml(res.body);
  const found: CollectionInfo[] = [];
  const seen = new Set<string>();
  const self = new URL(res.url).pathname.replace(/\/+$/, "");
  let selfInfo: CollectionInfo | undefined;
  for (const response of directChildren(root, NS.DAV, "response")) {
    const rawHref = directChildren(response, NS.DAV, "href")[0]?.text.trim();
    if (!rawHref) continue;
    const href = pyUrljoin(res.url, rawHref);
    if (seen.has(href)) continue;
    seen.add(href);
    const props = directChildren(response, NS.DAV, "propstat").flatMap((ps) =>
      directChildren(ps, NS.DAV, "prop"),
    );
    const prop = (name: string) =>
      props
        .flatMap((p) => directChildren(p, NS.DAV, name))
        .find((x) => x.text.trim() !== "")
        ?.text.trim();
    const type = prop("getcontenttype");
    // An item, not a collection: a .vcf name, or a vCard type without the trailing slash of a collection
    // (Radicale gives its address books the type text/vcard too).
    const path = new URL(href).pathname;
    if (/\.vcf$/i.test(path) || (type !== undefined && /vcard/i.test(type) && !path.endsWith("/"))) continue;
    const segments = new URL(href).pathname.split("/").filter((s) => s !== "");
    const displayName = prop("displayname");
    const info: CollectionInfo = {
      id: pyUnquote(segments.at(-1) ?? ""),
      href,
      config: { url: href },
      ...(displayName ? { displayName } : {}),
    };
    if (new URL(href).pathname.replace(/\/+$/, "") === self) selfInfo = info;
    else found.push(info);
  }
  if (found.length === 0 && selfInfo) found.push(selfInfo);
  log.debug(`Google contacts discovery found ${found.length} address book(s).`);
  yield* found;
}

/**
 * Creates a Google storage of `kind` from validated options.
 *
 * `open(info)` opens `info.href`; `open(null)` opens the `url` discovery put in the options and, without one,
 * MUST throw vdirsyncer's `collections = null` message: a Google account has no default collection.
 * There is no `createCollection()`: Google has neither MKCALENDAR nor MKCOL.
 * @throws {UserError} `VDIRSYNCER_GOOGLE_ENDPOINTS` is malformed
 */
export function createGoogleStorage<K extends GoogleKind>(
  kind: K,
  options: GoogleCalendarOptions | GoogleContactsOptions,
  ctx: StorageContext,
  overrides: GoogleOverrides = {},
): GoogleStorage<K> {
  const endpoints = {
    ...resolveEndpoints(process.env, (m) => {
      const raw = process.env[ENDPOINTS_ENV] ?? "";
      if (warnedEndpoints.has(raw)) return;
      warnedEndpoints.add(raw);
      ctx.log.warn(m);
    }),
    ...overrides.endpoints,
  };
  const tokenFile = expandPath(options.token_file, { absolute: true });
  const tokens = sharedGoogleAuth({
    tokenFile,
    clientId: options.client_id,
    clientSecret: options.client_secret,
    scope: GOOGLE_SCOPES[kind],
    what: kind === "calendar" ? "Google Calendar" : "Google Contacts",
    authorizeUrl: endpoints.authorize,
    tokenUrl: endpoints.token,
    log: ctx.log,
    fetch: countingFetch(ctx.stats),
    signal: ctx.signal,
    ...(overrides.ui ? { ui: overrides.ui } : {}),
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  const bucket = overrides.rateLimit ? new TokenBucket(overrides.rateLimit) : sharedBucket(tokenFile);
  const base = kind === "calendar" ? endpoints.caldav : endpoints.carddav;
  const session = new HttpSession({
    url: base,
    // vdirsyncer sends the client id as User-Agent to Google.
    useragent: options.client_id,
    log: ctx.log,
    signal: ctx.signal,
    stats: ctx.stats,
    ...googleSessionOptions({ tokens, bucket, tokenFile, log: ctx.log }),
    ...overrides.session,
  });
  const collectionOptions = (o: GoogleCalendarOptions | GoogleContactsOptions): DavCollectionOptions => {
    if (kind !== "calendar") return { kind: "addressbook", fileext: ".vcf" };
    const calendar = o as GoogleCalendarOptions;
    return caldavCollectionOptions({
      url: base,
      start_date: calendar.start_date ?? null,
      end_date: calendar.end_date ?? null,
      item_types: calendar.item_types ?? [],
    });
  };
  const configured = collectionOptions(options);
  /** The collection options for a ref's config: its filters (calendars) merged over the section's. */
  const optionsFor = (config: Readonly<Record<string, JsonValue>>): DavCollectionOptions => {
    if (Object.keys(config).every((k) => k === "url")) return configured;
    const schema = kind === "calendar" ? GoogleCalendarOptions : GoogleContactsOptions;
    const checked = schema.safeParse({ ...options, ...config });
    if (!checked.success) {
      throw new UserError(
        `Invalid cached collection configuration: ${checked.error.issues.map((i) => i.message).join("; ")}`,
      );
    }
    for (const key of ACCOUNT_KEYS) {
      if (checked.data[key] !== options[key]) {
        throw new UserError(
          `The cached configuration of a collection sets ${key}, which must be the same for every collection of a storage.`,
        );
      }
    }
    return collectionOptions(checked.data);
  };
  const discover =
    kind === "calendar"
      ? async function* () {
          for await (const info of discoverCollections(session, "calendar")) {
            yield { ...info, id: googleCalendarName(info.href) };
          }
        }
      : () => discoverAddressBooks(session, endpoints.carddav, ctx.log);
  return {
    concurrency: DAV_CONCURRENCY,
    open: (ref: CollectionRef | null, { signal, stats }: OpenOptions): GoogleCollection<K> => {
      const url = refUrl(ref, options.url ?? "");
      if (!url) throw new UserError(COLLECTION_REQUIRED);
      const inner = openDavCollection(session, url, optionsFor(ref?.config ?? {}), { signal, stats });
      return googleCollection(inner, kind) as unknown as GoogleCollection<K>;
    },
    discover,
    check: async () => {
      // An authorisation is interactive: a check never starts one, it says how to.
      if ((await loadToken(tokenFile).catch(() => undefined)) === undefined) {
        return {
          results: [
            {
              aspect: "authentication",
              ok: false,
              detail: `No Google token in ${tokenFile} yet.`,
              hint: "Run `vdirsyncer discover` to authorise this storage in a browser; the token is then kept in token_file.",
            },
          ],
          collections: [],
        };
      }
      return checkDav(session, { kind, discover });
    },
    close: () => session.close(),
  };
}
