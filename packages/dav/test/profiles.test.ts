import { randomUUID } from "node:crypto";
import { type FetchedItem, Item, type ItemFailure } from "@vdirsyncer/core";
import { sampleContact, sampleEvent } from "@vdirsyncer/test-servers";
import { type ServerInfo, testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it } from "vitest";
import {
  createDavCollection,
  createDavSession,
  type DavKind,
  openDavCollection,
  profileFor,
} from "../src/index.ts";

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A fresh collection holding `n` items, and a second handle on it (new session) that records its requests. */
async function seeded(server: ServerInfo, kind: DavKind, n: number) {
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
  const session = createDavSession({
    url: server.url,
    ...auth,
    onRequest: (e) => requests.push(e.method),
  });
  const collection = openDavCollection(session, info.href, { kind, fileext });
  return { collection, writer: w, written, requests };
}

const items = (results: (FetchedItem | ItemFailure)[]) =>
  new Map(results.filter((r): r is FetchedItem => "item" in r).map((r) => [r.href, r]));

describe("profileFor", () => {
  it("recognises the servers by their Server header and gives each its initial listing", () => {
    expect(profileFor("Python/3.11 aiohttp/3.8.4 | 1, 2, 3, calendar-access").initialListing).toBe(
      "query+data",
    );
    expect(profileFor("WSGIServer/0.2 CPython/3.11.2 | 1, 2, 3").initialListing).toBe("query+data");
    const unknown = profileFor("nginx | 1, 3, calendar-access");
    expect(unknown.name).toBe("unknown");
    expect(unknown.initialListing).toBe("sync-collection");
    expect(profileFor(undefined).name).toBe("unknown");
  });
});

describe.each(["radicale", "xandikos"] as const)("%s: the initial listing carries the data", (name) => {
  const server = () => testServers()[name];

  it.each(["calendar", "addressbook"] as const)(
    "%s: changes(undefined) then getMany reads every item without a multiget",
    async (kind) => {
      const { collection, written, requests } = await seeded(server(), kind, 7);
      await collection.collectionTag?.(); // as the engine does first; it also tells the session the server
      const initial = await collection.changes?.(undefined);
      expect(new Map(initial?.changed.map((r) => [r.href, r.etag]))).toEqual(
        new Map([...written].map(([href, w]) => [href, w.etag])),
      );
      // The collection tag (its sync-token is reused), then one query with all data.
      expect(requests).toEqual(["PROPFIND", "REPORT"]);
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
    // Any first request tells the session which server it is; without collectionTag() before, the sync-token
    // comes from its own PROPFIND.
    await collect(collection.list());
    const initial = await collection.changes?.(undefined);
    expect(initial?.token).toBeTruthy();
    expect(requests).toEqual(["PROPFIND", "PROPFIND", "REPORT"]);
    // Our own write through the prefetching handle drops its copy; another client's write is seen by the delta.
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
});
