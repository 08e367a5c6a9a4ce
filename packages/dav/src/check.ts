/**
 * `check()` of a DAV account: can the server be reached, does TLS hold, are the credentials taken, which
 * collections are there, and how they will be listed. Every failure becomes a result with a hint; nothing throws.
 */
import type { CheckReport, CheckResult, CollectionInfo } from "@vdirsyncer/core";
import { isVdirsyncerError } from "@vdirsyncer/core";
import type { DavKind } from "./api.ts";
import { discoverCollections } from "./discovery.ts";
import {
  FORBIDDEN_HINT,
  redactUrl,
  statusError,
  TLS_FAILURES,
  UNAUTHORIZED_HINT,
  UnansweredError,
} from "./http-errors.ts";
import { findProp, parseMultistatus, propResponses, propText } from "./multistatus.ts";
import { closesConnections, describeListing, profileFor } from "./profiles.ts";
import { errorCode } from "./retry.ts";
import type { HttpSession } from "./session.ts";
import { buildXml, el, NS } from "./xml.ts";

/** What a check needs besides the session. */
export interface DavCheckOptions {
  kind: DavKind;
  /** The collections, when the storage discovers them its own way (Google's address books). */
  discover?: () => AsyncIterable<CollectionInfo>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const hintOf = (error: unknown) =>
  isVdirsyncerError(error) && error.hint !== undefined ? { hint: error.hint } : {};

function tlsDetail(http: HttpSession, verifyCa: boolean, pinned: boolean): string {
  if (pinned && verifyCa)
    return "the certificate is signed by the CA in `verify` and matches `verify_fingerprint`";
  if (pinned) return "the certificate matches `verify_fingerprint`";
  if (verifyCa) return "the certificate is signed by the CA in `verify`";
  return `the certificate of ${new URL(http.url).host} is trusted by the system's CAs`;
}

/**
 * Checks a DAV account step by step and stops at the first step that failed (later steps could only fail too).
 * MUST NOT throw.
 */
export async function checkDav(
  http: HttpSession,
  options: DavCheckOptions & { verify?: boolean; pinned?: boolean },
): Promise<CheckReport> {
  const results: CheckResult[] = [];
  const report: CheckReport = { results, collections: [] };
  const where = redactUrl(http.url);
  const https = http.url.startsWith("https:");
  const body = buildXml(el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.DAV, "resourcetype"))));
  let status: number;
  try {
    const res = await http.request({
      method: "PROPFIND",
      url: http.url,
      headers: { depth: "0" },
      body,
      maxAttempts: 1,
    });
    status = res.status;
    results.push({ aspect: "reachable", ok: true, detail: `${where} answered HTTP ${res.status}.` });
    if (https) {
      results.push({
        aspect: "tls",
        ok: true,
        detail: `${tlsDetail(http, options.verify === true, options.pinned === true)}.`,
      });
    }
    if (res.status === 401 || res.status === 403) {
      const error = statusError("PROPFIND", res);
      results.push({
        aspect: "authentication",
        ok: false,
        detail: error.message,
        hint: error.hint ?? (res.status === 401 ? (res.authHint ?? UNAUTHORIZED_HINT) : FORBIDDEN_HINT),
      });
      return report;
    }
  } catch (error) {
    const code = errorCode((error as { cause?: unknown }).cause);
    if (error instanceof UnansweredError && code !== undefined && TLS_FAILURES[code] !== undefined) {
      results.push({ aspect: "reachable", ok: true, detail: `${where} answered the TLS handshake.` });
      results.push({ aspect: "tls", ok: false, detail: message(error), ...hintOf(error) });
    } else if (error instanceof UnansweredError) {
      results.push({ aspect: "reachable", ok: false, detail: message(error), ...hintOf(error) });
    } else {
      // The auth layer itself failed before a request went out (e.g. a missing or refused authorisation).
      results.push({ aspect: "authentication", ok: false, detail: message(error), ...hintOf(error) });
    }
    return report;
  }
  const credentials =
    http.authMode === "none"
      ? "no credentials are configured and none were asked for"
      : `the server accepted the ${http.authMode === "hook" ? "access token" : `${http.authMode} credentials`}`;
  results.push({ aspect: "authentication", ok: true, detail: `HTTP ${status}: ${credentials}.` });

  const kindName = options.kind === "calendar" ? "calendar" : "address book";
  try {
    const found: CollectionInfo[] = [];
    for await (const info of options.discover?.() ?? discoverCollections(http, options.kind))
      found.push(info);
    report.collections = found;
    const names = found.map((c) => c.id).join(", ");
    results.push({
      aspect: "collections",
      ok: true,
      detail:
        found.length === 0
          ? `No ${kindName} found under ${where}.`
          : `${found.length} ${kindName}${found.length === 1 ? "" : "s"}: ${names}.`,
      ...(found.length === 0
        ? {
            hint: `Create one on the server, or let \`vdirsyncer discover\` create it (a collection named in \`collections\`).`,
          }
        : {}),
    });
  } catch (error) {
    results.push({ aspect: "collections", ok: false, detail: message(error), ...hintOf(error) });
    return report;
  }

  const first = report.collections[0];
  const profile = profileFor(await http.observe());
  let listing = describeListing(profile);
  const shown = [
    http.observed.httpVersion === "1.0" ? "answers HTTP/1.0" : undefined,
    closesConnections(http.observed) ? "a new connection per request" : undefined,
    http.observed.davClasses?.has("sync-collection") ? "announces sync-collection" : undefined,
  ].filter((s) => s !== undefined);
  if (first !== undefined) {
    try {
      const probe = buildXml(
        el(NS.DAV, "propfind", el(NS.DAV, "prop", el(NS.CS, "getctag"), el(NS.DAV, "supported-report-set"))),
      );
      const res = await http.request({
        method: "PROPFIND",
        url: first.href,
        headers: { depth: "0" },
        body: probe,
      });
      if (res.status === 207) {
        const self = propResponses(parseMultistatus(res.body, "PROPFIND", res.url, http.log), res.url)[0];
        const ctag = self ? propText(self.props, NS.CS, "getctag") !== undefined : false;
        const reports = self ? findProp(self.props, NS.DAV, "supported-report-set") : undefined;
        const sync = reports ? JSON.stringify(reports).includes('"name":"sync-collection"') : false;
        shown.push(
          ctag ? "getctag" : "no getctag",
          sync ? "sync-collection report" : "no sync-collection report",
        );
        if (!ctag && !sync) listing = "a full listing on every sync (no getctag, no sync-collection)";
      }
    } catch (error) {
      http.log.debug(
        `check: could not read the listing properties of ${redactUrl(first.href)}: ${message(error)}`,
      );
    }
  }
  report.listing = listing;
  results.push({
    aspect: "listing",
    ok: true,
    detail: `${listing}${shown.length ? `; the server shows: ${shown.join(", ")}` : ""}.`,
  });
  return report;
}
