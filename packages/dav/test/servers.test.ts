import { randomUUID } from "node:crypto";
import { Item, isVdirsyncerError, type Logger } from "@vdirsyncer/core";
import { sampleContact, sampleEvent, startRadicale } from "@vdirsyncer/test-servers";
import { type ServerInfo, testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createDavCollection,
  createDavSession,
  type DavCollection,
  type DavKind,
  type DavSessionOptions,
  discoverCollections,
  openDavCollection,
} from "../src/index.ts";

interface Recorded {
  requests: { method: string; url: string; status: number }[];
  lines: string[];
}

function recorder(): Recorded & { log: Logger; onRequest: DavSessionOptions["onRequest"] } {
  const r: Recorded = { requests: [], lines: [] };
  const push = (level: string) => (m: string) => r.lines.push(`${level} ${m}`);
  return {
    ...r,
    log: { debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") },
    onRequest: (e) => r.requests.push({ method: e.method, url: e.url, status: e.status }),
  };
}

function sessionFor(server: ServerInfo, rec = recorder(), url = server.url) {
  const session = createDavSession({
    url,
    username: server.username,
    password: server.password,
    log: rec.log,
    onRequest: rec.onRequest,
  });
  return { session, rec };
}

async function freshCollection(server: ServerInfo, kind: DavKind, rec = recorder()) {
  const { session } = sessionFor(server, rec);
  const id = `t-${randomUUID().slice(0, 8)}`;
  const info = await createDavCollection(session, kind, id, { displayName: `Test ${id}` });
  const collection = openDavCollection(session, info.href, {
    kind,
    fileext: kind === "calendar" ? ".ics" : ".vcf",
  });
  return { session, info, collection, rec, id };
}

async function listAll(c: DavCollection) {
  const out = new Map<string, string>();
  for await (const ref of c.list()) out.set(ref.href, ref.etag);
  return out;
}

async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const event = (uid: string, summary?: string) => new Item(sampleEvent(uid, summary));

describe.each(["radicale", "xandikos"] as const)("%s", (kind) => {
  const server = () => testServers()[kind];

  it("discovers collections from the server root and creates new ones with a displayname", async () => {
    const { info, session, id } = await freshCollection(server(), "calendar");
    const rec = recorder();
    const { session: s2 } = sessionFor(server(), rec);
    const found = await collect(discoverCollections(s2, "calendar"));
    const mine = found.find((c) => c.id === id);
    expect(mine?.href).toBe(info.href);
    expect(mine?.displayName).toBe(`Test ${id}`);
    // vdirsyncer's sequence: root as home set (Depth 1), principal (Depth 0), home set (Depth 0), home (Depth 1).
    expect(rec.requests.map((r) => r.method)).toEqual(["PROPFIND", "PROPFIND", "PROPFIND", "PROPFIND"]);
    // creating it again finds the existing one
    const again = await createDavCollection(session, "calendar", id);
    expect(again.href).toBe(info.href);
    const books = await freshCollection(server(), "addressbook");
    const foundBooks = await collect(discoverCollections(s2, "addressbook"));
    expect(foundBooks.map((c) => c.id)).toContain(books.id);
    expect(foundBooks.map((c) => c.id)).not.toContain(id);
  });

  it("uploads, lists, gets, multigets, updates and deletes; 412s become our errors", async () => {
    const { collection, rec } = await freshCollection(server(), "calendar");
    expect(await listAll(collection)).toEqual(new Map());
    const a = await collection.upload(event("alpha"));
    expect(a.href).toMatch(/\/alpha\.ics$/);
    expect(a.etag).toBeTruthy();
    const b = await collection.upload(event("with@at sign"));
    expect(b.href).toMatch(/\/[0-9a-f-]{36}\.ics$/); // unsafe ident → uuid4 href
    const listed = await listAll(collection);
    expect(listed.get(a.href)).toBe(a.etag);
    expect(listed.size).toBe(2);

    const got = await collection.get(a.href);
    expect(got.item.uid).toBe("alpha");
    expect(got.etag).toBe(a.etag);
    expect(got.item.hash).toBe(event("alpha").hash);

    await expect(collection.upload(event("alpha"))).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "ALREADY_EXISTS"),
    );

    const before = rec.requests.length;
    expect(await collect(collection.getMany?.([]) ?? [])).toEqual([]);
    expect(rec.requests.length).toBe(before);

    const updated = await collection.update(a.href, event("alpha", "changed"), a.etag as string);
    expect(updated.etag).toBeTruthy();
    expect(updated.etag).not.toBe(a.etag);
    await expect(collection.update(a.href, event("alpha", "again"), a.etag as string)).rejects.toSatisfy(
      (e) => isVdirsyncerError(e, "WRONG_ETAG"),
    );
    await expect(collection.delete(a.href, a.etag as string)).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "WRONG_ETAG"),
    );
    await collection.delete(a.href, updated.etag as string);
    await expect(collection.get(a.href)).rejects.toSatisfy((e) => isVdirsyncerError(e, "NOT_FOUND"));
    expect([...(await listAll(collection)).keys()]).toEqual([b.href]);
  });

  it("multigets in bounded batches, reports missing hrefs as failures", async () => {
    const rec = recorder();
    const { session, info } = await freshCollection(server(), "calendar", rec);
    const c = openDavCollection(session, info.href, {
      kind: "calendar",
      fileext: ".ics",
      multigetBatchSize: 7,
      multigetConcurrency: 3,
    });
    const written = [];
    for (let i = 0; i < 23; i++) written.push(await c.upload(event(`m${i}`)));
    const missing = `${new URL(info.href).pathname}nope.ics`;
    const before = rec.requests.length;
    const results = await collect(
      c.getMany?.([...written.map((w) => w.href), missing, written[0]?.href as string]) ?? [],
    );
    const reports = rec.requests.slice(before).filter((r) => r.method === "REPORT");
    expect(reports.length).toBe(4); // 24 distinct hrefs / 7
    const items = results.filter((r) => "item" in r);
    expect(items.length).toBe(23);
    const failures = results.filter((r) => "error" in r);
    expect(failures.map((f) => f.href)).toEqual([missing]);
    expect(isVdirsyncerError(failures[0]?.error, "NOT_FOUND")).toBe(true);
  });

  it("sync-collection reports creations, updates and deletions; a bad token expires", async () => {
    const { collection } = await freshCollection(server(), "calendar");
    if (kind === "radicale") {
      // Radicale is listed by getctag and one query (profiles.test.ts runs this on it behind a nameless proxy).
      await collection.collectionTag?.();
      await expect(collection.changes?.(undefined)).rejects.toSatisfy((e) =>
        isVdirsyncerError(e, "UNSUPPORTED"),
      );
      return;
    }
    const initial = await collection.changes?.(undefined);
    expect(initial?.changed).toEqual([]);
    const a = await collection.upload(event("s1"));
    const b = await collection.upload(event("s2"));
    const d1 = await collection.changes?.(initial?.token);
    expect(new Set(d1?.changed.map((c) => c.href))).toEqual(new Set([a.href, b.href]));
    const u = await collection.update(a.href, event("s1", "new"), a.etag as string);
    await collection.delete(b.href, b.etag as string);
    const d2 = await collection.changes?.(d1?.token);
    expect(d2?.changed).toEqual([{ href: a.href, etag: u.etag }]);
    expect(d2?.removed).toEqual([b.href]);
    const d3 = await collection.changes?.(d2?.token);
    expect(d3?.changed).toEqual([]);
    expect(d3?.removed).toEqual([]);
    const full = await collection.changes?.(undefined);
    expect(full?.changed.map((c) => c.href)).toEqual([a.href]);
    const bogus = "0000000000000000000000000000000000000000";
    await expect(collection.changes?.(bogus)).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "SYNC_TOKEN_EXPIRED"),
    );
  });

  it("the collection tag changes with every write", async () => {
    const { collection } = await freshCollection(server(), "calendar");
    const t0 = await collection.collectionTag?.();
    const a = await collection.upload(event("c1"));
    const t1 = await collection.collectionTag?.();
    expect(t1).toBeTruthy();
    expect(t1).not.toBe(t0);
    expect(await collection.collectionTag?.()).toBe(t1);
    await collection.delete(a.href, a.etag as string);
    expect(await collection.collectionTag?.()).not.toBe(t1);
  });

  it("metadata round-trips, and a removed value reads as undefined", async () => {
    const { collection, id } = await freshCollection(server(), "calendar");
    expect(await collection.getMeta?.("displayname")).toBe(`Test ${id}`);
    await collection.setMeta?.("displayname", "2024");
    expect(await collection.getMeta?.("displayname")).toBe("2024");
    await collection.setMeta?.("color", "#FF0000FF");
    expect(await collection.getMeta?.("color")).toBe("#FF0000FF");
    if (kind === "radicale") {
      await collection.setMeta?.("color", undefined);
      expect(await collection.getMeta?.("color")).toBeUndefined();
    } else {
      // Xandikos 0.2.8 crashes on removing calendar-color (500); the error names the request.
      await expect(collection.setMeta?.("color", undefined)).rejects.toThrow(/PROPPATCH .* answered 500/);
    }
    if (kind === "radicale") {
      await collection.setMeta?.("description", "Some words");
      expect(await collection.getMeta?.("description")).toBe("Some words");
    } else {
      // Xandikos 0.2.8 refuses calendar-description with a 409 inside its 207: reported, not swallowed.
      await expect(collection.setMeta?.("description", "Some words")).rejects.toThrow(
        /refused description \(409\)/,
      );
    }
    const book = await freshCollection(server(), "addressbook");
    await expect(book.collection.getMeta?.("color")).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "UNSUPPORTED"),
    );
  });

  it("address books: vCards round-trip", async () => {
    const { collection } = await freshCollection(server(), "addressbook");
    const w = await collection.upload(new Item(sampleContact("card-1")));
    expect(w.href).toMatch(/\/card-1\.vcf$/);
    const got = await collection.get(w.href);
    expect(got.item.uid).toBe("card-1");
    expect([...(await listAll(collection)).keys()]).toEqual([w.href]);
  });

  it("odd hrefs (spaces, unicode, @, %2F) round-trip through list, get, update and delete", async () => {
    const { collection, info } = await freshCollection(server(), "calendar");
    const base = new URL(info.href).pathname;
    const { session } = sessionFor(server());
    // An encoded slash (%2F) cannot be created on either server (Radicale 403, Xandikos 404): normalizeHref's
    // unit tests cover it. A literal percent sign (%25) is the double-encoding trap (vdirsyncer #240).
    const names = ["with space.ics", "ümlaut-é.ics", "at@sign.ics", "100%25 percent.ics", "colon:plus+.ics"];
    for (const [i, name] of names.entries()) {
      const res = await session.fetch(
        new URL(`${base}${encodeURIComponent(decodeURIComponent(name)).replace("%40", "@")}`, info.href),
        {
          method: "PUT",
          headers: { "content-type": "text/calendar" },
          body: sampleEvent(`odd-${i}`),
        },
      );
      expect(res.status).toBeLessThan(300);
    }
    const listed = await listAll(collection);
    expect(listed.size).toBe(names.length);
    for (const [href, etag] of listed) {
      const got = await collection.get(href);
      expect(got.etag).toBe(etag);
      const updated = await collection.update(
        href,
        new Item(sampleEvent(got.item.uid as string, "changed")),
        etag,
      );
      await collection.delete(href, updated.etag as string);
    }
    expect((await listAll(collection)).size).toBe(0);
  });

  it("lists with calendar-query by item type and time range (comp-filter name attributes)", async () => {
    const { collection, session, info } = await freshCollection(server(), "calendar");
    const todo = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//vdirsyncer-ts//dav tests//EN",
      "BEGIN:VTODO",
      "UID:todo-1",
      "DTSTAMP:20240101T000000Z",
      "SUMMARY:Todo",
      "END:VTODO",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    const e = await collection.upload(event("event-1"));
    const t = await collection.upload(new Item(todo));
    const open = (options: { itemTypes?: string[]; timeRange?: { start: Date; end: Date } }) =>
      openDavCollection(session, info.href, { kind: "calendar", fileext: ".ics", ...options });
    expect([...(await listAll(open({ itemTypes: ["VTODO"] }))).keys()]).toEqual([t.href]);
    expect([...(await listAll(open({ itemTypes: ["VEVENT"] }))).keys()]).toEqual([e.href]);
    const around = { start: new Date("2024-01-01T00:00:00Z"), end: new Date("2024-01-03T00:00:00Z") };
    const later = { start: new Date("2030-01-01T00:00:00Z"), end: new Date("2030-01-03T00:00:00Z") };
    expect((await listAll(open({ itemTypes: ["VEVENT"], timeRange: around }))).has(e.href)).toBe(true);
    expect((await listAll(open({ itemTypes: ["VEVENT"], timeRange: later }))).size).toBe(0);
  });
});

describe("credentials", () => {
  it("never appear in logs at DEBUG, nor in error messages", async () => {
    // A password that no message or hint could contain by accident.
    const own = await startRadicale({ password: "Zq8-unguessable-9xK" });
    onTestFinished(() => own.stop());
    const server = { ...own };
    const rec = recorder();
    const { collection } = await freshCollection(server, "calendar", rec);
    await collection.upload(event("cred"));
    await collect(collection.list());
    const bad = createDavSession({
      url: server.url,
      username: "user",
      password: "wrong-password-xyz",
      log: rec.log,
    });
    const error = await collect(discoverCollections(bad, "calendar")).catch((e: unknown) => e);
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    const text = [...rec.lines, String(error), JSON.stringify(error)].join("\n");
    expect(rec.lines.some((l) => l.startsWith("debug "))).toBe(true);
    for (const secret of [
      server.password as string,
      "wrong-password-xyz",
      Buffer.from(`user:${server.password}`).toString("base64"),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
