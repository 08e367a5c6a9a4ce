/**
 * Real-server helpers for the dav-*.test.ts files: an isolated account per test on the Radicale and Xandikos
 * that the global setup started (or a fresh Xandikos), and raw WebDAV requests to set up and inspect the server
 * side without going through the code under test.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { startXandikos, type TestServer } from "@vdirsyncer/test-servers";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import { afterEach } from "vitest";

/** The DAV storage types under test. */
export type DavType = "caldav" | "carddav";
/** The servers under test. */
export type ServerName = "radicale" | "xandikos";

/** One account on a server that no other test sees. */
export interface Account {
  server: ServerName;
  /** The URL the storage section is configured with (the server root). */
  url: string;
  username?: string;
  password?: string;
  /** The home-set URL of `type`'s collections. */
  home(type: DavType): string;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

let users = 0;

/**
 * A new account. On Radicale: a new user in the shared server's htpasswd file (read on every login), so its
 * principal and home set are empty. Xandikos has one user and no auth, so each test gets its own server,
 * stopped after the test; its `--defaults` calendar and address book are deleted first.
 */
export async function account(server: ServerName): Promise<Account> {
  if (server === "radicale") {
    const { radicale } = testServers();
    const username = `u${process.pid}x${++users}x${Math.random().toString(36).slice(2, 8)}`;
    appendFileSync(join(radicale.dataDir, "users"), `${username}:secret-${username}\n`);
    return {
      server,
      url: radicale.url,
      username,
      password: `secret-${username}`,
      home: () => `${radicale.url}${username}/`,
    };
  }
  const started: TestServer = await startXandikos();
  stops.push(() => started.stop());
  const acc: Account = {
    server,
    url: started.url,
    home: (type) => (type === "caldav" ? started.homes.calendar : started.homes.addressbook),
  };
  const dav = new RawDav(acc);
  await dav.request("DELETE", `${acc.home("caldav")}calendar/`, { expect: [204, 200] });
  await dav.request("DELETE", `${acc.home("carddav")}addressbook/`, { expect: [204, 200] });
  return acc;
}

/** A minimal vCard 3.0 with `uid`. */
export function contact(uid: string, name = uid): string {
  return `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`;
}

/** A minimal VEVENT calendar with `uid` (Radicale wants a DTSTART). */
export function event(uid: string, summary = uid): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20240101T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
}

/** An item of `type` with `uid` whose text contains `text`. */
export function item(type: DavType, uid: string, text = uid): string {
  return type === "caldav" ? event(uid, text) : contact(uid, text);
}

/** The file extension of `type`'s items in a vdir. */
export function fileext(type: DavType): string {
  return type === "caldav" ? ".ics" : ".vcf";
}

function xmlEscape(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The `<response>` elements of a multistatus, each as href plus its inner text. */
function responses(body: string): { href: string; xml: string }[] {
  const out: { href: string; xml: string }[] = [];
  for (const m of body.matchAll(
    /<(?:[A-Za-z0-9]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[A-Za-z0-9]+:)?response>/g,
  )) {
    const xml = m[1] as string;
    const href = /<(?:[A-Za-z0-9]+:)?href>([^<]*)</.exec(xml)?.[1];
    if (href !== undefined) out.push({ href: decodeURIComponent(href.trim()), xml });
  }
  return out;
}

/** The text of the first element named `local` (any prefix) in `xml`, unescaped; undefined when absent or empty. */
function prop(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[A-Za-z0-9]+:)?${local}\\b[^>/]*>([^<]*)<`).exec(xml);
  const text = m?.[1]
    ?.replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&");
  return text === undefined || text === "" ? undefined : text;
}

/** Raw WebDAV requests with the account's credentials: the tests' independent view of the server. */
export class RawDav {
  readonly account: Account;
  constructor(account: Account) {
    this.account = account;
  }

  /** Sends one request (10 s bound) and checks its status. */
  async request(
    method: string,
    url: string,
    options: { body?: string; headers?: Record<string, string>; expect?: number[] } = {},
  ): Promise<{ status: number; body: string; headers: Headers }> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.account.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.account.username}:${this.account.password}`).toString("base64")}`;
    }
    if (options.body !== undefined) headers["content-type"] ??= "application/xml; charset=utf-8";
    const res = await fetch(url, {
      method,
      headers,
      body: options.body,
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.text();
    if (options.expect && !options.expect.includes(res.status)) {
      throw new Error(`${method} ${url} answered ${res.status}: ${body.slice(0, 500)}`);
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** The URL of collection `name` of `type`. */
  collectionUrl(type: DavType, name: string): string {
    return `${this.account.home(type)}${encodeURIComponent(name)}/`;
  }

  /** Creates a collection (MKCALENDAR, or an extended MKCOL for an address book). */
  async create(type: DavType, name: string, displayname?: string): Promise<string> {
    const url = this.collectionUrl(type, name);
    const dn = displayname === undefined ? "" : `<D:displayname>${xmlEscape(displayname)}</D:displayname>`;
    if (type === "caldav") {
      await this.request("MKCALENDAR", url, {
        body: `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>${dn}</D:prop></D:set></C:mkcalendar>`,
        expect: [201],
      });
    } else {
      await this.request("MKCOL", url, {
        body: `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><R:addressbook/></D:resourcetype>${dn}</D:prop></D:set></D:mkcol>`,
        expect: [201],
      });
    }
    return url;
  }

  /** The names of the collections of `type` in the home set (other resources left out). */
  async collections(type: DavType): Promise<string[]> {
    const home = this.account.home(type);
    const res = await this.request("PROPFIND", home, {
      headers: { depth: "1" },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>',
      expect: [207],
    });
    const kind = type === "caldav" ? "calendar" : "addressbook";
    return responses(res.body)
      .filter((r) => new RegExp(`<(?:[A-Za-z0-9]+:)?${kind}\\s*/>`).test(r.xml))
      .map((r) => r.href.replace(/\/+$/, "").split("/").at(-1) as string)
      .sort();
  }

  /** PUTs an item as `<name>` into the collection; returns its URL. */
  async put(type: DavType, collection: string, name: string, text: string): Promise<string> {
    const url = `${this.collectionUrl(type, collection)}${name}`;
    await this.request("PUT", url, {
      body: text,
      headers: { "content-type": type === "caldav" ? "text/calendar" : "text/vcard" },
      expect: [201, 204, 200],
    });
    return url;
  }

  /** Deletes an item. */
  async delete(type: DavType, collection: string, name: string): Promise<void> {
    await this.request("DELETE", `${this.collectionUrl(type, collection)}${name}`, { expect: [204, 200] });
  }

  /** The items of a collection: file name → text (GET of each, so the test sees exactly what is stored). */
  async items(type: DavType, collection: string): Promise<Record<string, string>> {
    const url = this.collectionUrl(type, collection);
    const res = await this.request("PROPFIND", url, {
      headers: { depth: "1" },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>',
      expect: [207],
    });
    const out: Record<string, string> = {};
    for (const r of responses(res.body)) {
      if (r.href.endsWith("/")) continue;
      const name = r.href.split("/").at(-1) as string;
      const base = new URL(url);
      out[name] = (await this.request("GET", new URL(r.href, base).toString(), { expect: [200] })).body;
    }
    return out;
  }

  /** The collection's displayname, color and description as the server reports them. */
  async meta(
    type: DavType,
    collection: string,
  ): Promise<{ displayname?: string; color?: string; description?: string }> {
    const res = await this.request("PROPFIND", this.collectionUrl(type, collection), {
      headers: { depth: "0" },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:R="urn:ietf:params:xml:ns:carddav"><D:prop><D:displayname/><I:calendar-color/><C:calendar-description/><R:addressbook-description/></D:prop></D:propfind>',
      expect: [207],
    });
    const xml = responses(res.body)[0]?.xml ?? "";
    const out: { displayname?: string; color?: string; description?: string } = {};
    const dn = prop(xml, "displayname");
    const color = prop(xml, "calendar-color");
    const description = prop(xml, "calendar-description") ?? prop(xml, "addressbook-description");
    if (dn !== undefined) out.displayname = dn;
    if (color !== undefined) out.color = color;
    if (description !== undefined) out.description = description;
    return out;
  }

  /** Sets properties of a collection with PROPPATCH. */
  async setMeta(
    type: DavType,
    collection: string,
    values: { displayname?: string; color?: string },
  ): Promise<void> {
    const props = [
      values.displayname === undefined
        ? ""
        : `<D:displayname>${xmlEscape(values.displayname)}</D:displayname>`,
      values.color === undefined ? "" : `<I:calendar-color>${xmlEscape(values.color)}</I:calendar-color>`,
    ].join("");
    await this.request("PROPPATCH", this.collectionUrl(type, collection), {
      body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop>${props}</D:prop></D:set></D:propertyupdate>`,
      expect: [207],
    });
  }
}

/** The requests a `-vdebug` run made, from the session's debug lines `METHOD url -> status (ms)`. */
export function requestsOf(stderr: string): { method: string; url: string; status: number }[] {
  const out: { method: string; url: string; status: number }[] = [];
  for (const m of stderr.matchAll(/^debug: ([A-Z]+) (\S+) -> (\d+) \(\d+ ms\)$/gm)) {
    out.push({ method: m[1] as string, url: m[2] as string, status: Number(m[3]) });
  }
  return out;
}
