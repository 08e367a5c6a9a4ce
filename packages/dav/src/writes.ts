/**
 * Writes to a DAV collection through tsdav (PUT create/update, DELETE) over the collection's fetch, judged here:
 * conditional headers, 412 told apart as "gone" or "changed", refused items named, Xandikos' multistatus bodies.
 */
import {
  AlreadyExistsError,
  InvalidItemError,
  InvalidResponseError,
  type Item,
  isVdirsyncerError,
  NotFoundError,
  WrongEtagError,
} from "@vdirsyncer/core";
import tsdav from "tsdav";
import { redactText, redactUrl, statusError } from "./http-errors.ts";
import { propResponses, propText } from "./multistatus.ts";
import { type DavResponse, readResponse } from "./session.ts";
import type { CollectionTransport } from "./transport.ts";
import { el, NS, parseXml } from "./xml.ts";

/** Statuses with which a server refuses the item itself (its content, its name), not the request or the user. */
const REFUSED_ITEM = new Set([400, 403, 409, 415, 422]);
const ANSWER_LIMIT = 300;

/** The server's answer in a line: its body's text without markup, cut short. */
function answerText(res: DavResponse): string {
  const text = res.body
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > ANSWER_LIMIT ? `${text.slice(0, ANSWER_LIMIT)}…` : text;
}

/**
 * PUT through tsdav (`createObject` with `If-None-Match: *` when `etag` is undefined, else `updateObject` with
 * `If-Match`). tsdav hands a string `data` to the fetch untouched, so the body is `item.raw` byte for byte; its
 * answer is the raw Response (a 412 does not throw), judged here.
 * @returns the new etag, `undefined` when the server says none and a PROPFIND cannot tell either
 * @throws {AlreadyExistsError} a create answered 412
 * @throws {WrongEtagError|NotFoundError} an update answered 412 (changed, or gone)
 * @throws {InvalidItemError} the server refused the item (400, 403, 409, 415, 422), with its answer
 */
export async function putItem(
  t: CollectionTransport,
  href: string,
  item: Item,
  etag: string | undefined,
): Promise<string | undefined> {
  const url = t.abs(href);
  const headers = { "content-type": `${t.mimetype}; charset=utf-8` };
  const fetch = t.fetch;
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
    throw etag === undefined ? new AlreadyExistsError(href) : await preconditionFailed(t, href, etag);
  }
  if (REFUSED_ITEM.has(res.status) && res.interpretation === undefined) {
    const said = answerText(res);
    throw new InvalidItemError(
      `The server refused the item ${href}: PUT ${redactUrl(url)} answered ${res.status}` +
        `${res.statusText ? ` ${res.statusText}` : ""}${said ? `: ${said}` : "."}`,
      {
        href,
        location: redactUrl(t.url),
        cause: statusError("PUT", res, href),
        hint:
          res.status === 403
            ? "The server does not let this item be written here (a read-only calendar or address book, or content it forbids); see its answer above."
            : "The server does not accept this item as it is (its content or its name); fix or remove it on the other side, or see the server's log for why.",
      },
    );
  }
  if (res.status >= 400 || res.status < 200) throw statusError("PUT", res, href);
  checkPutBody(res, url, href);
  return res.headers.get("etag") ?? (await etagOf(t, href));
}

/** Xandikos answers PUT with a multistatus; any per-resource error status in it fails the write. */
function checkPutBody(res: DavResponse, url: string, href: string): void {
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
        `PUT ${redactUrl(url)}: server error ${code} in its multistatus answer.`,
        {
          body: res.body,
          context: { href },
        },
      );
    }
  }
}

/** PROPFIND Depth 0 of one item: `gone`, or its current etag (`undefined` when the answer has none). */
async function probe(
  t: CollectionTransport,
  href: string,
): Promise<{ gone: boolean; etag?: string | undefined }> {
  const { res, root } = await t.multistatus(
    "PROPFIND",
    t.abs(href),
    el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "getetag"))),
    { depth: "0" },
  );
  const responses = propResponses(root, res.url);
  // Xandikos 0.2.8 answers 207 with a response-level 404 instead of a plain 404.
  if (responses.some((r) => r.status === 404 || r.status === 410)) return { gone: true };
  const first = responses[0];
  return { gone: false, etag: first ? propText(first.props, NS.DAV, "getetag") : undefined };
}

/** The etag of one item by PROPFIND Depth 0, when a PUT answer carried none; `undefined` if that fails. */
async function etagOf(t: CollectionTransport, href: string): Promise<string | undefined> {
  try {
    return (await probe(t, href)).etag;
  } catch (error) {
    t.log.debug(
      `Could not read the etag of ${redactUrl(href)} after PUT: ${redactText((error as Error).message)}`,
    );
    return undefined;
  }
}

/** DELETE through tsdav with `If-Match` (without it only when no etag is known, with a warning). */
export async function deleteItem(t: CollectionTransport, href: string, etag: string): Promise<void> {
  if (!etag) t.log.warn(`Deleting ${redactUrl(href)} without If-Match: no etag is known for it.`);
  const url = t.abs(href);
  // tsdav's deleteObject drops If-Match for an empty etag itself; passing none keeps that explicit.
  const res = await readResponse(
    await tsdav.deleteObject({ url, ...(etag ? { etag } : {}), fetch: t.fetch }),
    url,
  );
  if (res.status === 412) throw await preconditionFailed(t, href, etag);
  if (res.status >= 400) throw statusError("DELETE", res, href);
}

/**
 * A 412 on `If-Match` means "gone" or "changed"; servers answer 412 for both (RFC 7232 §3.1). One PROPFIND
 * Depth 0, only on this error path, tells which (and the etag found), so the engine gets NotFoundError or
 * WrongEtagError as the contract says.
 */
async function preconditionFailed(
  t: CollectionTransport,
  href: string,
  etag: string,
): Promise<NotFoundError | WrongEtagError> {
  let found: string | undefined;
  try {
    const state = await probe(t, href);
    if (state.gone) return new NotFoundError(href);
    found = state.etag;
  } catch (error) {
    if (isVdirsyncerError(error, "NOT_FOUND") || isVdirsyncerError(error, "COLLECTION_NOT_FOUND")) {
      return new NotFoundError(href);
    }
  }
  // The expected etag is only worth saying next to the one found.
  return new WrongEtagError(href, found !== undefined && etag ? { expected: etag, actual: found } : {});
}
