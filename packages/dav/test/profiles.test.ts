import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { type FetchedItem, Item, type ItemFailure, isVdirsyncerError } from "@vdirsyncer/core";
import { sampleContact, sampleEvent } from "@vdirsyncer/test-servers";
import { type ServerInfo, testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createDavCollection,
  createDavSession,
  type DavKind,
  type HttpSession,
  observedServer,
  openDavCollection,
  profileFor,
} from "../src/index.ts";
import { http10Server, type LocalServer, localServer, multistatus } from "./local.ts";

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A fresh collection holding `n` items, and a second handle on it (new session) that records its requests. */
async function seeded(server: ServerInfo, kind: DavKind, n: number, via?: string) {
  const fileext = kind === "calendar" ? ".ics" : ".vcf";
  const auth = { username: server.username, password: server.password };
  const writer = createDavSession({ url: server.url, ...auth });
  const info = await createDavCollection(writer, kind, `p-${randomUUID().slice(0, 8)}`);
  const w = openDavCollection(writer, info.href, { kind, fileext });
  const written = new Map<string, { etag: string | undefined; item: Item }>();
  for (let i = 0; i < n; i++) {
    const item = new Item(kind === "calendar" ? sampleEvent(`p${i}`) : sampleContact(`p${i}`));
    const { href, etag } = await w.upload(item);
    written.set(href, { etag, item });
  }
  const requests: string[] = [];
  const url = via ?? server.url;
  const session = createDavSession({ url, ...auth, onRequest: (e) => requests.push(e.method) });
  const href = new URL(new URL(info.href).pathname, url).toString();
  const collection = openDavCollection(session, href, { kind, fileext, multigetBatchSize: 7 });
  return { collection, writer: w, written, requests, info };
}

const items = (results: (FetchedItem | ItemFailure)[]) =>
  new Map(results.filter((r): r is FetchedItem => "item" in r).map((r) => [r.href, r]));

/** A proxy in front of `target` that drops the `Server` header, so the client cannot tell which server it is. */
async function anonymised(target: string): Promise<LocalServer> {
  const proxy = await localServer((req, res, body) => {
    const upstream = httpRequest(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (up) => {
        const headers = { ...up.headers };
        delete headers.server;
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    upstream.end(body);
  });
  onTestFinished(() => proxy.close());
  return proxy;
}

/** Radicale's record of sync tokens in a collection folder: it exists once anyone asked for the token. */
const radicaleTokenHistory = (server: ServerInfo, collectionHref: string) =>
  join(
    server.dataDir,
    "collections",
    "collection-root",
    new URL(collectionHref).pathname,
    ".Radicale.cache",
    "sync-token",
  );

describe("profileFor", () => {
  const seen = (httpVersion: string | undefined, dav: string | undefined) => {
    const server = observedServer();
    server.httpVersion = httpVersion;
    if (dav !== undefined) server.see(new Headers({ dav }));
    return server;
  };

  it("chooses by behaviour: HTTP/1.0 answers, sync-collection among the DAV classes, else the standard", () => {
    // Xandikos 0.2.8's DAV header; it answers HTTP/1.1.
    const announced = profileFor(
      seen(
        "1.1",
        "1, 2, 3, calendar-access, calendar-auto-scheduling, addressbook, extended-mkcol, add-member, sync-collection, quota",
      ),
    );
    expect(announced).toMatchObject({
      name: "announced-sync",
      syncTokens: true,
      initialListing: "query+data",
    });
    expect(announced.queryAboveHrefs).toBe(25);
    // Radicale 3.1.8 answers HTTP/1.0.
    const serial = profileFor(seen("1.0", "1, 2, 3, calendar-access, addressbook, extended-mkcol"));
    expect(serial).toMatchObject({
      name: "one-request-per-connection",
      syncTokens: false,
      fullListing: "query+data",
    });
    expect(serial.syncTokenAsTag).toBe(false);
    // The same classes over HTTP/1.1 (a proxy in front, or another server): nothing measured, RFC 6578.
    const standard = profileFor(seen("1.1", "1, 2, 3, calendar-access, addressbook, extended-mkcol"));
    expect(standard).toMatchObject({
      name: "standard",
      syncTokens: true,
      initialListing: "sync-collection",
      fullListing: "propfind",
      syncTokenAsTag: true,
      queryAboveHrefs: Number.POSITIVE_INFINITY,
    });
    expect(profileFor(undefined).name).toBe("standard");
    expect(profileFor(observedServer()).name).toBe("standard");
  });

  it("the Server header plays no part: a WSGIServer answering HTTP/1.1 is standard", async () => {
    const s = await localServer((_q, res) => {
      res.writeHead(207, { server: "WSGIServer/0.2 CPython/3.11.2", dav: "1, 2, 3, calendar-access" });
      res.end(multistatus("/cal/", '<getctag xmlns="http://calendarserver.org/ns/">1</getctag>'));
    });
    onTestFinished(() => s.close());
    const http = createDavSession({ url: s.url }) as HttpSession;
    onTestFinished(() => http.close());
    await openDavCollection(http, `${s.url}cal/`, { kind: "calendar", fileext: ".ics" }).collectionTag?.();
    expect(http.observed.httpVersion).toBe("1.1");
    expect(profileFor(http.observed).name).toBe("standard");
  });

  it.each([
    ["radicale", "one-request-per-connection", "1.0"],
    ["xandikos", "announced-sync", "1.1"],
  ] as const)("%s is given the profile measured on it (%s)", async (kind, name, version) => {
    const server = testServers()[kind];
    const http = createDavSession({
      url: server.url,
      username: server.username,
      password: server.password,
    }) as HttpSession;
    onTestFinished(() => http.close());
    const info = await createDavCollection(http, "calendar", `p-${randomUUID().slice(0, 8)}`);
    await openDavCollection(http, info.href, { kind: "calendar", fileext: ".ics" }).collectionTag?.();
    await http.observe();
    expect(http.observed.httpVersion).toBe(version);
    expect(profileFor(http.observed).name).toBe(name);
  });
});

describe("radicale: getctag, then one query with all data, never a sync token", () => {
  const server = () => testServers().radicale;

  it.each(["calendar", "addressbook"] as const)(
    "%s: the tag is one PROPFIND, changes() is unsupported, list() carries the data for getMany",
    async (kind) => {
      const { collection, written, requests, info } = await seeded(server(), kind, 7);
      const tag = await collection.collectionTag?.();
      expect(tag).toBeTruthy();
      expect(requests).toEqual(["PROPFIND"]);
      await expect(collection.changes?.(undefined)).rejects.toSatisfy((e) =>
        isVdirsyncerError(e, "UNSUPPORTED"),
      );
      const listed = new Map((await collect(collection.list())).map((r) => [r.href, r.etag]));
      expect(listed).toEqual(new Map([...written].map(([href, w]) => [href, w.etag])));
      expect(requests).toEqual(["PROPFIND", "REPORT"]);
      const got = items(await collect(collection.getMany?.([...written.keys()]) ?? []));
      expect(requests).toEqual(["PROPFIND", "REPORT"]);
      for (const [href, w] of written) {
        expect(got.get(href)?.item.hash).toBe(w.item.hash);
        expect(got.get(href)?.etag).toBe(w.etag);
      }
      // Radicale writes its token history only when someone asks for a sync-token: nobody did.
      expect(existsSync(radicaleTokenHistory(server(), info.href))).toBe(false);
      // Served once: a second read goes to the server again.
      await collect(collection.getMany?.([...written.keys()].slice(0, 2)) ?? []);
      expect(requests.slice(2)).toEqual(["REPORT"]);
    },
  );

  it("the tag changes with another client's write; our own write is never served stale", async () => {
    const { collection, writer, written, requests } = await seeded(server(), "calendar", 3);
    const [first, second] = [...written.keys()] as [string, string];
    const t0 = await collection.collectionTag?.();
    await collect(collection.list());
    expect(await collection.collectionTag?.()).toBe(t0);
    const mine = await collection.update(
      first,
      new Item(sampleEvent("p0", "mine")),
      written.get(first)?.etag ?? "",
    );
    const before = requests.length;
    const got = items(await collect(collection.getMany?.([first]) ?? []));
    expect(requests.slice(before)).toEqual(["REPORT"]);
    expect(got.get(first)?.item.raw).toContain("SUMMARY:mine");
    expect(got.get(first)?.etag).toBe(mine.etag);
    const t1 = await collection.collectionTag?.();
    expect(t1).not.toBe(t0);
    const theirs = await writer.update(
      second,
      new Item(sampleEvent("p1", "theirs")),
      written.get(second)?.etag ?? "",
    );
    expect(await collection.collectionTag?.()).not.toBe(t1);
    const listed = new Map((await collect(collection.list())).map((r) => [r.href, r.etag]));
    expect(listed.get(second)).toBe(theirs.etag);
    expect(items(await collect(collection.getMany?.([second]) ?? [])).get(second)?.item.raw).toContain(
      "theirs",
    );
  });

  it("a filtered listing still queries per item type with etags only", async () => {
    const { info } = await seeded(server(), "calendar", 2);
    const requests: string[] = [];
    const session = createDavSession({
      url: server().url,
      username: server().username,
      password: server().password,
      onRequest: (e) => requests.push(e.method),
    });
    const c = openDavCollection(session, info.href, {
      kind: "calendar",
      fileext: ".ics",
      itemTypes: ["VEVENT"],
    });
    await c.collectionTag?.();
    expect((await collect(c.list())).length).toBe(2);
    expect(requests).toEqual(["PROPFIND", "REPORT"]);
    await collect(c.getMany?.([...(await collect(c.list())).map((r) => r.href)]) ?? []);
    expect(requests.slice(2)).toEqual(["REPORT", "REPORT"]); // the listing, then a multiget
  });
});

describe("a server with no measured behaviour (Radicale behind a proxy that answers HTTP/1.1) keeps RFC 6578", () => {
  const server = () => testServers().radicale;

  it("changes() lists by sync-collection and continues as a delta; list() is a PROPFIND", async () => {
    const proxy = await anonymised(server().url);
    const { collection, writer, written, requests } = await seeded(server(), "calendar", 3, proxy.url);
    expect(await collection.collectionTag?.()).toBeTruthy();
    const initial = await collection.changes?.(undefined);
    expect(new Map(initial?.changed.map((r) => [r.href, r.etag]))).toEqual(
      new Map([...written].map(([href, w]) => [href, w.etag])),
    );
    expect(requests).toEqual(["PROPFIND", "REPORT"]);
    const [first, second] = [...written.keys()] as [string, string];
    const u = await writer.update(first, new Item(sampleEvent("p0", "new")), written.get(first)?.etag ?? "");
    await writer.delete(second, written.get(second)?.etag ?? "");
    const delta = await collection.changes?.(initial?.token);
    expect(delta?.changed).toEqual([{ href: first, etag: u.etag }]);
    expect(delta?.removed).toEqual([second]);
    const before = requests.length;
    expect((await collect(collection.list())).length).toBe(2);
    expect(requests.slice(before)).toEqual(["PROPFIND"]);
    const bogus =
      "http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000";
    await expect(collection.changes?.(bogus)).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "SYNC_TOKEN_EXPIRED"),
    );
  });
});

describe("xandikos: the initial listing carries the data; deltas by sync-collection", () => {
  const server = () => testServers().xandikos;

  it.each(["calendar", "addressbook"] as const)(
    "%s: changes(undefined) then getMany reads every item without a multiget",
    async (kind) => {
      const { collection, written, requests } = await seeded(server(), kind, 7);
      await collection.collectionTag?.(); // as the engine does first
      const initial = await collection.changes?.(undefined);
      expect(new Map(initial?.changed.map((r) => [r.href, r.etag]))).toEqual(
        new Map([...written].map(([href, w]) => [href, w.etag])),
      );
      // getctag; OPTIONS once per session (Xandikos sends its DAV classes only there); the sync-token property
      // (read before the query, so nothing is lost); one query with all data.
      expect(requests).toEqual(["PROPFIND", "OPTIONS", "PROPFIND", "REPORT"]);
      const before = requests.length;
      const got = items(await collect(collection.getMany?.([...written.keys()]) ?? []));
      expect(requests.length).toBe(before);
      expect(got.size).toBe(7);
      for (const [href, w] of written) {
        expect(got.get(href)?.item.hash).toBe(w.item.hash);
        expect(got.get(href)?.etag).toBe(w.etag);
      }
      // Served once: a second read goes to the server again.
      const again = await collect(collection.getMany?.([...written.keys()].slice(0, 2)) ?? []);
      expect(again.length).toBe(2);
      expect(requests.slice(before)).toEqual(["REPORT"]);
    },
  );

  it("the initial token continues as a delta, and a write in between is never served stale", async () => {
    const { collection, writer, written, requests } = await seeded(server(), "calendar", 3);
    const [first, second] = [...written.keys()] as [string, string];
    await collect(collection.list()); // the first listing asks the server's DAV classes first (OPTIONS)
    const initial = await collection.changes?.(undefined);
    expect(initial?.token).toBeTruthy();
    expect(requests).toEqual(["OPTIONS", "PROPFIND", "PROPFIND", "REPORT"]);
    const mine = await collection.update(
      first,
      new Item(sampleEvent("p0", "mine")),
      written.get(first)?.etag ?? "",
    );
    const theirs = await writer.update(
      second,
      new Item(sampleEvent("p1", "theirs")),
      written.get(second)?.etag ?? "",
    );
    const before = requests.length;
    const got = items(await collect(collection.getMany?.([first]) ?? []));
    expect(requests.slice(before)).toEqual(["REPORT"]);
    expect(got.get(first)?.item.raw).toContain("SUMMARY:mine");
    expect(got.get(first)?.etag).toBe(mine.etag);
    const delta = await collection.changes?.(initial?.token);
    expect(new Map(delta?.changed.map((r) => [r.href, r.etag]))).toEqual(
      new Map([
        [first, mine.etag],
        [second, theirs.etag],
      ]),
    );
    expect(delta?.removed).toEqual([]);
  });

  it("getMany of more than 25 hrefs reads them from one query; fewer go by multiget", async () => {
    const { collection, written, requests, info } = await seeded(server(), "calendar", 30);
    await collection.collectionTag?.();
    const hrefs = [...written.keys()];
    const missing = `${new URL(info.href).pathname}nope.ics`;
    const before = requests.length;
    const results = await collect(collection.getMany?.([...hrefs, missing]) ?? []);
    // OPTIONS once per session, then one query: multiget in batches of 7 would take 5.
    expect(requests.slice(before)).toEqual(["OPTIONS", "REPORT"]);
    const got = items(results);
    expect(got.size).toBe(30);
    for (const [href, w] of written) {
      expect(got.get(href)?.item.hash).toBe(w.item.hash);
      expect(got.get(href)?.etag).toBe(w.etag);
    }
    const failures = results.filter((r): r is ItemFailure => "error" in r);
    expect(failures.map((f) => f.href)).toEqual([missing]);
    expect(isVdirsyncerError(failures[0]?.error, "NOT_FOUND")).toBe(true);
    const mid = requests.length;
    expect(items(await collect(collection.getMany?.(hrefs.slice(0, 10)) ?? [])).size).toBe(10);
    expect(requests.slice(mid)).toEqual(["REPORT", "REPORT"]); // 10 hrefs, batches of 7
  });
});

describe("collectionTag() on servers without getctag", () => {
  const tokenOnly =
    (server: string) => (req: { method?: string }, res: import("node:http").ServerResponse, body: string) => {
      res.writeHead(207, { server });
      const props = body.includes("sync-token") ? "<sync-token>t1</sync-token>" : "";
      res.end(
        multistatus(
          "/cal/",
          `${props}<supported-report-set><supported-report><report><sync-collection/></report></supported-report></supported-report-set>`,
        ),
      );
      void req;
    };

  it("reads the sync-token property in a second PROPFIND where that is cheap", async () => {
    const s = await localServer(tokenOnly("nginx"));
    onTestFinished(() => s.close());
    const c = openDavCollection(createDavSession({ url: s.url }), `${s.url}cal/`, {
      kind: "calendar",
      fileext: ".ics",
    });
    expect(await c.collectionTag?.()).toBe("t1");
    // No DAV header on the PROPFIND: the session asks OPTIONS once before choosing.
    expect(s.seen.map((r) => r.method)).toEqual(["PROPFIND", "OPTIONS", "PROPFIND"]);
  });

  it("is undefined on a server answering HTTP/1.0, whose sync-token property is expensive (Radicale's)", async () => {
    const s = await http10Server((_method, body) => ({
      status: 207,
      headers: { "content-type": "application/xml" },
      body: multistatus(
        "/cal/",
        `${body.includes("sync-token") ? "<sync-token>t1</sync-token>" : ""}<supported-report-set><supported-report><report><sync-collection/></report></supported-report></supported-report-set>`,
      ),
    }));
    onTestFinished(() => s.close());
    const c = openDavCollection(createDavSession({ url: s.url }), `${s.url}cal/`, {
      kind: "calendar",
      fileext: ".ics",
    });
    expect(await c.collectionTag?.()).toBeUndefined();
    expect(s.seen.map((r) => r.method)).toEqual(["PROPFIND"]);
  });
});
