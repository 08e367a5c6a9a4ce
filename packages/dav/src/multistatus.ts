import { InvalidResponseError, type Logger } from "@vdirsyncer/core";
import { normalizeHref } from "./href.ts";
import { redactUrl } from "./http-errors.ts";
import { child, children, cleanControlChars, descendants, NS, parseXml, type XmlElement } from "./xml.ts";

/**
 * One `DAV:response` of a multistatus, with the `propstat/prop` children merged: those of 2xx propstats, of
 * propstats without a status and of 404 ones (vdirsyncer merges those too; they are empty). A property whose
 * propstat says anything else (403, 424, 500, …) is not in `props` but in `failed`, with that status.
 */
export interface PropResponse {
  /** As sent by the server. */
  rawHref: string;
  /** Normalised as vdirsyncer does. */
  href: string;
  /** The response-level `DAV:status` code (sync-collection removals, multiget 404s), if any. */
  status: number | undefined;
  /** The children of every usable `propstat/prop`, in document order. */
  props: XmlElement[];
  /** Properties the server failed to give, `{namespace}name` → the propstat's status code. */
  failed: Map<string, number>;
  /** The whole response element, for error conditions. */
  element: XmlElement;
}

/** The code of an HTTP status line such as `HTTP/1.1 404 Not Found`. */
export function statusCode(line: string | undefined): number | undefined {
  const m = line ? /^\s*HTTP\/\S+\s+(\d{3})/.exec(line) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses a multistatus body after removing invalid control characters (with a warning).
 * @throws {InvalidResponseError} the body is not XML, or its root is not `DAV:multistatus`
 */
export function parseMultistatus(
  body: string,
  method: string,
  url: string,
  log: Logger,
  clean = true,
): XmlElement {
  const text = clean ? cleanControlChars(body, (m) => log.warn(`${m} (${method} ${redactUrl(url)})`)) : body;
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (cause) {
    throw new InvalidResponseError(
      `${method} ${redactUrl(url)} answered with invalid XML: ${(cause as Error).message}`,
      {
        cause,
        body,
        context: { location: redactUrl(url) },
      },
    );
  }
  if (root.ns !== NS.DAV || root.name !== "multistatus") {
    throw new InvalidResponseError(
      `${method} ${redactUrl(url)} answered with a <${root.name}> document instead of a DAV multistatus.`,
      { body, context: { location: redactUrl(url) } },
    );
  }
  return root;
}

/** Every `DAV:response` (at any depth, as vdirsyncer) with its href normalised against `base`. */
export function propResponses(root: XmlElement, base: string): PropResponse[] {
  const out: PropResponse[] = [];
  for (const response of descendants(root, NS.DAV, "response")) {
    const rawHref = child(response, NS.DAV, "href")?.text.trim();
    if (!rawHref) continue;
    const props: XmlElement[] = [];
    const failed = new Map<string, number>();
    for (const propstat of children(response, NS.DAV, "propstat")) {
      const code = statusCode(child(propstat, NS.DAV, "status")?.text);
      const usable = code === undefined || (code >= 200 && code < 300) || code === 404;
      for (const prop of children(propstat, NS.DAV, "prop")) {
        if (usable) props.push(...prop.children);
        else for (const p of prop.children) failed.set(`{${p.ns}}${p.name}`, code);
      }
    }
    out.push({
      rawHref,
      href: normalizeHref(base, rawHref),
      status: statusCode(child(response, NS.DAV, "status")?.text),
      props,
      failed,
      element: response,
    });
  }
  return out;
}

/**
 * The status code with which the server failed to give a property of `r` (a propstat that is neither 2xx nor
 * 404), when it gave no usable copy of it; `undefined` when it did not fail.
 */
export function propFailure(r: PropResponse, ns: string, name: string): number | undefined {
  const code = r.failed.get(`{${ns}}${name}`);
  if (code === undefined || findProp(r.props, ns, name) !== undefined) return undefined;
  return code;
}

/**
 * The error for a response whose needed property failed: names the request, the collection, the href and the
 * status. A listing throws it (an item the server failed to describe must not look deleted); a read reports
 * it for that href.
 */
export function failedPropError(
  method: string,
  url: string,
  r: PropResponse,
  name: string,
  code: number,
): InvalidResponseError {
  return new InvalidResponseError(
    `${method} ${redactUrl(url)} answered ${code} for the ${name} of ${redactUrl(r.href)} (a 207 multistatus whose propstat failed).`,
    { context: { href: r.href, location: redactUrl(url) } },
  );
}

/** The first property with that name whose text is not blank, else the first one. */
export function findProp(props: readonly XmlElement[], ns: string, name: string): XmlElement | undefined {
  let first: XmlElement | undefined;
  for (const p of props) {
    if (p.ns !== ns || p.name !== name) continue;
    first ??= p;
    if (p.text.trim() !== "" || p.children.length > 0) return p;
  }
  return first;
}

/** The trimmed text of a property, `undefined` when absent or blank. */
export function propText(props: readonly XmlElement[], ns: string, name: string): string | undefined {
  const text = findProp(props, ns, name)?.text.trim();
  return text ? text : undefined;
}

/** Whether `resourcetype` contains the given type. */
export function hasResourceType(props: readonly XmlElement[], ns: string, name: string): boolean {
  return props.some(
    (p) =>
      p.ns === NS.DAV && p.name === "resourcetype" && p.children.some((c) => c.ns === ns && c.name === name),
  );
}
