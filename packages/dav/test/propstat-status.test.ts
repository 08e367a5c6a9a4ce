/**
 * A 207 multistatus whose propstat carries a failure status (500, 403, …) for a property the listing or the
 * read needs: that href is an error naming URL and status, never an item with the failed properties, and
 * never an item that looks deleted.
 */
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterEach, describe, expect, it } from "vitest";
import { createDavSession, openDavCollection } from "../src/index.ts";
import { parseMultistatus, propFailure, propResponses } from "../src/multistatus.ts";
import { type LocalServer, localServer } from "./local.ts";

const opts = { kind: "calendar" as const, fileext: ".ics" };
const event = (uid: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

const propstat = (prop: string, status: string) =>
  `<propstat><prop>${prop}</prop><status>HTTP/1.1 ${status}</status></propstat>`;

/** A calendar at /cal/ with a.ics (fine) and b.ics, whose propstats say `bStatus`. */
function calendar(bStatus: string): (method: string, body: string, depth: string | undefined) => string {
  return (method, body, depth) => {
    const self = `<response><href>/cal/</href>${propstat("<resourcetype><collection/><C:calendar/></resourcetype>", "200 OK")}</response>`;
    if (method === "PROPFIND" && depth === "0")
      return `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">${self}</multistatus>`;
    const multiget = /calendar-multiget/.test(body);
    const item = (name: string, status: string) =>
      `<response><href>/cal/${name}.ics</href>${propstat(
        `<getetag>"${name}1"</getetag>${multiget ? `<C:calendar-data>${event(name)}</C:calendar-data>` : "<getcontenttype>text/calendar</getcontenttype><resourcetype/>"}`,
        status,
      )}</response>`;
    return `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">${multiget ? "" : self}${item("a", "200 OK")}${item("b", bStatus)}</multistatus>`;
  };
}

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(answer: ReturnType<typeof calendar>): Promise<string> {
  server = await localServer((req, res, body) => {
    if (req.method !== "PROPFIND" && req.method !== "REPORT") return res.writeHead(405).end();
    const depth = req.headers.depth as string | undefined;
    res
      .writeHead(207, { "content-type": "application/xml; charset=utf-8" })
      .end(answer(req.method, body, depth));
  });
  return `${server.url}cal/`;
}

describe("a propstat that failed", () => {
  it("is kept out of the properties and reported with its status", () => {
    const root = parseMultistatus(
      `<multistatus xmlns="DAV:"><response><href>/x.ics</href>${propstat('<getetag>"1"</getetag>', "500 Internal Server Error")}${propstat("<getcontenttype/>", "404 Not Found")}</response></multistatus>`,
      "PROPFIND",
      "http://127.0.0.1/",
      { debug() {}, info() {}, warn() {}, error() {} } as never,
    );
    const [r] = propResponses(root, "http://127.0.0.1/");
    expect(r?.props.map((p) => p.name)).toEqual(["getcontenttype"]);
    expect(r && propFailure(r, "DAV:", "getetag")).toBe(500);
    expect(r && propFailure(r, "DAV:", "getcontenttype")).toBeUndefined();
  });

  it("for an item's etag in the listing fails the listing, naming the URL, the href and the status", async () => {
    const url = await serve(calendar("500 Internal Server Error"));
    const c = openDavCollection(createDavSession({ url }), url, opts);
    const listed: string[] = [];
    const error = await (async () => {
      for await (const ref of c.list()) listed.push(ref.href);
    })().catch((e: unknown) => e);
    expect(isVdirsyncerError(error, "INVALID_RESPONSE"), String(error)).toBe(true);
    expect(String(error)).toContain(`${url} answered 500 for the getetag of /cal/b.ics`);
  });

  it("a 403 propstat fails the same way; a 404 one is only a missing property", async () => {
    const url = await serve(calendar("403 Forbidden"));
    const c = openDavCollection(createDavSession({ url }), url, opts);
    const error = await (async () => {
      for await (const _ of c.list()) {
      }
    })().catch((e: unknown) => e);
    expect(String(error)).toContain("answered 403 for the getetag of /cal/b.ics");
  });

  it("in a multiget is an error for that href only; the other item is read", async () => {
    const url = await serve(calendar("500 Internal Server Error"));
    const c = openDavCollection(createDavSession({ url }), url, opts);
    const got: { href: string; uid?: string; error?: string }[] = [];
    for await (const r of c.getMany?.(["/cal/a.ics", "/cal/b.ics"]) ?? []) {
      got.push(
        "error" in r
          ? { href: r.href, error: `${r.error.code}: ${r.error.message}` }
          : { href: r.href, uid: r.item.uid },
      );
    }
    expect(got).toEqual([
      { href: "/cal/a.ics", uid: "a" },
      {
        href: "/cal/b.ics",
        error: `INVALID_RESPONSE: REPORT ${url} answered 500 for the getetag of /cal/b.ics (a 207 multistatus whose propstat failed).`,
      },
    ]);
  });
});
