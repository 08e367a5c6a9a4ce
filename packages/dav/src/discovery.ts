import {
  type CollectionInfo,
  InvalidResponseError,
  isVdirsyncerError,
  UnsupportedError,
} from "@vdirsyncer/core";
import { pyQuote, pyUnquote, pyUrljoin } from "@vdirsyncer/core/compat";
import tsdav, { type DAVResponse } from "tsdav";
import type { DavCollection, DavCollectionOptions, DavKind, DavSession } from "./api.ts";
import { DavCollectionImpl, httpSession } from "./collection.ts";
import { redactUrl, statusError, UnansweredError } from "./http-errors.ts";
import { hasResourceType, parseMultistatus, propResponses, propText } from "./multistatus.ts";
import type { HttpSession, RequestScope } from "./session.ts";
import { buildXml, child, descendants, el, NS, type XmlNode } from "./xml.ts";

/**
 * True for the failures a discovery step may pass over to try the next URL: the HTTP and XML errors vdirsyncer
 * passes over. Refused credentials, a failure of the auth layer (e.g. a refused OAuth authorisation: asking again
 * would start a second one) and a server that did not answer at all will not get better at another URL.
 */
function worthTryingElsewhere(error: unknown): boolean {
  if (!isVdirsyncerError(error)) return false;
  if (error.code === "USER" || error.code === "ACCESS_DENIED") return false;
  return !(error instanceof UnansweredError);
}

function kindNs(kind: DavKind): [string, string] {
  return kind === "calendar" ? [NS.CALDAV, "calendar"] : [NS.CARDDAV, "addressbook"];
}

/** The collection name vdirsyncer derives from a URL: the last non-empty path segment, unquoted. */
export function collectionName(url: string): string {
  const segments = new URL(url).pathname.split("/").filter((s) => s !== "");
  return pyUnquote(segments.at(-1) ?? "");
}

/** PROPFIND Depth 1 on `url`, returning the collections of `kind` it lists (vdirsyncer's home-set step). */
async function collectionsAt(http: HttpSession, url: string, kind: DavKind): Promise<CollectionInfo[]> {
  const body = buildXml(
    el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "resourcetype"), el(NS.DAV, "displayname"))),
  );
  const res = await http.request({ method: "PROPFIND", url, headers: { depth: "1" }, body });
  if (res.status !== 207) throw statusError("PROPFIND", res);
  const root = parseMultistatus(res.body, "PROPFIND", res.url, http.log);
  const [ns, name] = kindNs(kind);
  const out: CollectionInfo[] = [];
  const seen = new Set<string>();
  for (const r of propResponses(root, res.url)) {
    if (!hasResourceType(r.props, ns, name)) continue;
    const href = pyUrljoin(res.url, r.rawHref);
    if (seen.has(href)) continue;
    seen.add(href);
    const displayName = propText(r.props, NS.DAV, "displayname");
    out.push({
      id: collectionName(href),
      href,
      config: { url: href },
      ...(displayName ? { displayName } : {}),
    });
  }
  return out;
}

async function findPrincipal(http: HttpSession, kind: DavKind): Promise<string> {
  const body = buildXml(el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "current-user-principal"))));
  const ask = async (url: string) => {
    const res = await http.request({ method: "PROPFIND", url, headers: { depth: "0" }, body });
    if (res.status !== 207) throw statusError("PROPFIND", res);
    return { res, root: parseMultistatus(res.body, "PROPFIND", res.url, http.log) };
  };
  let answer: Awaited<ReturnType<typeof ask>>;
  try {
    answer = await ask(http.url);
  } catch (error) {
    if (!worthTryingElsewhere(error)) throw error;
    http.log.debug(`Trying the well-known URI for ${kind} discovery.`);
    answer = await ask(
      pyUrljoin(http.url, kind === "calendar" ? "/.well-known/caldav" : "/.well-known/carddav"),
    );
  }
  const principal = descendants(answer.root, NS.DAV, "current-user-principal")
    .map((p) => child(p, NS.DAV, "href")?.text.trim())
    .find((h) => h);
  // Synology has no current-user-principal: the URL itself is the principal.
  if (!principal) return answer.res.url;
  return `${pyUrljoin(answer.res.url, principal).replace(/\/+$/, "")}/`;
}

/** The home set of the session's account (principal, then `calendar-home-set` / `addressbook-home-set`). */
export async function findHome(session: DavSession, kind: DavKind): Promise<string> {
  const http = httpSession(session);
  const principal = await findPrincipal(http, kind);
  const [ns, prop] =
    kind === "calendar" ? [NS.CALDAV, "calendar-home-set"] : [NS.CARDDAV, "addressbook-home-set"];
  const body = buildXml(el(NS.DAV, "propfind", el(NS.DAV, "prop", el(ns, prop))));
  const res = await http.request({ method: "PROPFIND", url: principal, headers: { depth: "0" }, body });
  if (res.status !== 207) throw statusError("PROPFIND", res);
  const root = parseMultistatus(res.body, "PROPFIND", res.url, http.log, false);
  const href = descendants(root, ns, prop)
    .map((h) => child(h, NS.DAV, "href")?.text.trim())
    .find((h) => h);
  if (!href)
    throw new InvalidResponseError("Couldn't find home-set.", {
      body: res.body,
      context: { location: redactUrl(principal) },
    });
  return `${pyUrljoin(res.url, href).replace(/\/+$/, "")}/`;
}

/**
 * vdirsyncer's discovery: the configured URL as a home set first, then principal → home set → its collections.
 *
 * MUST pass on at once, without trying further URLs, refused credentials, errors of the auth layer and a server
 * that did not answer.
 * @throws {AccessDeniedError} the credentials were refused
 * @throws {UserError} the session's `authorization` hook failed (e.g. the user refused an OAuth authorisation)
 * @throws {InvalidResponseError} the server answered something unusable (named with method and URL)
 */
export async function* discoverCollections(
  session: DavSession,
  kind: DavKind,
): AsyncIterable<CollectionInfo> {
  const http = httpSession(session);
  try {
    const direct = await collectionsAt(http, http.url, kind);
    if (direct.length > 0) {
      yield* direct;
      return;
    }
  } catch (error) {
    // vdirsyncer ignores HTTP and XML errors here (the URL may be a principal or the server root).
    if (!worthTryingElsewhere(error)) throw error;
  }
  http.log.debug("Given URL is not a homeset URL");
  const home = await findHome(session, kind);
  yield* await collectionsAt(http, home, kind);
}

/** The outcome of one creation request: enough for {@link statusError}. */
interface Created {
  status: number;
  statusText: string;
  body: string;
}

/** Reduces tsdav's parsed answer to one outcome: the first failing response, else the first one. */
function outcome(responses: DAVResponse[]): Created {
  const r = responses.find((x) => !x.ok) ?? responses[0];
  return {
    status: r?.status ?? 0,
    statusText: r?.statusText ?? "",
    // tsdav keeps the body of a failed answer as text (cut to 4 KiB); a parsed one is not needed for errors.
    body: typeof r?.raw === "string" ? r.raw : "",
  };
}

/**
 * Creates a collection named `id` under the home set (or at the configured URL for `null`) unless discovery
 * already finds it: MKCALENDAR for calendars when the server accepts it, else an extended MKCOL (RFC 5689),
 * with displayname and color set in the same request. Both go through tsdav (`makeCalendar`,
 * `makeCollection`) over the session's fetch, unless a value would not survive its XML writer.
 * @throws {UnsupportedError} the server refused both ways of creating it
 * @throws {AccessDeniedError} the server answered 401
 */
export async function createDavCollection(
  session: DavSession,
  kind: DavKind,
  id: string | null,
  props: { displayName?: string; color?: string } = {},
): Promise<CollectionInfo> {
  const http = httpSession(session);
  const name = id ?? collectionName(http.url);
  try {
    for await (const found of discoverCollections(session, kind)) {
      if (found.id === name) return found;
    }
  } catch (error) {
    // For null the configured URL itself is created, and while it is missing discovery may find no home set
    // from it (Xandikos 0.2.8: "Couldn't find home-set" below a missing path): create it there all the same.
    // Refused credentials and a server that did not answer still end here, as they would below.
    if (id !== null || !worthTryingElsewhere(error)) throw error;
    http.log.debug(
      `Discovery from ${redactUrl(http.url)} failed before creating it: ${(error as Error).message}`,
    );
  }
  const url = id === null ? http.url : `${pyUrljoin(await findHome(session, kind), pyQuote(id, "/@"))}/`;
  const [ns, type] = kindNs(kind);
  const color = kind === "calendar" ? props.color : undefined;
  const values = [props.displayName, color].filter((v) => v !== undefined);
  // xml-js, tsdav's XML writer, turns a literal `&amp;` in text into `&`: such values go in our own body.
  const viaTsdav = values.every((v) => !v.includes("&amp;"));
  const fetch = http.fetch;
  const ownRequest = async (method: string, body: XmlNode): Promise<Created> => {
    const res = await http.request({ method, url, body: buildXml(body) });
    return { status: res.status, statusText: res.statusText, body: res.body };
  };

  const propNodes = [
    ...(props.displayName !== undefined ? [el(NS.DAV, "displayname", props.displayName)] : []),
    ...(color !== undefined ? [el(NS.ICAL, "calendar-color", color)] : []),
  ];
  // The same properties for xml-js; unprefixed names get tsdav's `d:` (DAV:), `ca:` is Apple's iCal namespace.
  const tsdavProps: Record<string, { _text: string }> = {
    ...(props.displayName !== undefined ? { displayname: { _text: props.displayName } } : {}),
    ...(color !== undefined ? { "ca:calendar-color": { _text: color } } : {}),
  };
  const attempts: { method: string; send: () => Promise<Created> }[] = [];
  if (kind === "calendar") {
    attempts.push({
      method: "MKCALENDAR",
      send: async () =>
        viaTsdav
          ? outcome(await tsdav.makeCalendar({ url, props: tsdavProps, fetch }))
          : ownRequest(
              "MKCALENDAR",
              el(
                NS.CALDAV,
                "mkcalendar",
                ...(propNodes.length ? [el(NS.DAV, "set", el(NS.DAV, "prop", ...propNodes))] : []),
              ),
            ),
    });
  }
  attempts.push({
    method: "MKCOL",
    send: async () =>
      viaTsdav
        ? outcome(
            await tsdav.makeCollection({
              url,
              props: {
                resourcetype: {
                  collection: {},
                  [kind === "calendar" ? "c:calendar" : "card:addressbook"]: {},
                },
                ...tsdavProps,
              },
              fetch,
            }),
          )
        : ownRequest(
            "MKCOL",
            el(
              NS.DAV,
              "mkcol",
              el(
                NS.DAV,
                "set",
                el(
                  NS.DAV,
                  "prop",
                  el(NS.DAV, "resourcetype", el(NS.DAV, "collection"), el(ns, type)),
                  ...propNodes,
                ),
              ),
            ),
          ),
  });
  let last: Error | undefined;
  for (const attempt of attempts) {
    const res = await attempt.send();
    if (res.status >= 200 && res.status < 300) {
      return {
        id: name,
        href: url,
        config: { url },
        ...(props.displayName ? { displayName: props.displayName } : {}),
      };
    }
    last = statusError(attempt.method, { ...res, url });
    http.log.debug(`${attempt.method} ${redactUrl(url)} answered ${res.status}.`);
    if (res.status === 401) throw last;
  }
  throw new UnsupportedError(`Unable to create the ${kind} ${name} at ${redactUrl(url)}.`, { cause: last });
}

/**
 * Opens one collection URL as a storage collection. Sends nothing: a collection that does not exist is found by
 * the first call (CollectionNotFoundError).
 * @param scope where the collection's requests are counted (`stats`) and what stops them (`signal`)
 */
export function openDavCollection(
  session: DavSession,
  url: string,
  options: DavCollectionOptions,
  scope: RequestScope = {},
): DavCollection {
  return new DavCollectionImpl(session, url, options, scope);
}
