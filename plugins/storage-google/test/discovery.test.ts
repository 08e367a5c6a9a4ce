import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { removeFreshDirs } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOGLE_SCOPES } from "../src/endpoints.ts";
import { COLLECTION_REQUIRED, createGoogleStorage, googleCalendarName } from "../src/google.ts";
import googleDefinitions, { googleCalendar, googleContacts } from "../src/index.ts";
import { authorisedTokenFile, recordingContext, startStandIn } from "./helpers.ts";
import type { GoogleStandIn } from "./stand-in.ts";

const OPEN = { signal: new AbortController().signal, stats: { add() {} } };

let standIn: GoogleStandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(async () => {
  await standIn.close();
  await removeFreshDirs();
});

async function storageOf(kind: "calendar" | "addressbook", extra: Record<string, unknown> = {}) {
  const ctx = recordingContext();
  const options = {
    token_file: await authorisedTokenFile(standIn, GOOGLE_SCOPES[kind]),
    client_id: standIn.clientId,
    client_secret: standIn.clientSecret,
    ...extra,
  };
  const storage = createGoogleStorage(kind, options, ctx, { endpoints: standIn.endpoints });
  return { storage, ctx, options };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const EVENT = (uid: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240102T100000Z\r\nSUMMARY:Café\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

describe("definitions", () => {
  it("the default export is both types, each named", () => {
    expect(googleDefinitions.map((d) => d.type)).toEqual(["google_calendar", "google_contacts"]);
    expect(googleDefinitions[0]).toBe(googleCalendar);
    expect(googleDefinitions[1]).toBe(googleContacts);
    expect(googleCalendar.capabilities.createCollection).toBe(false);
  });

  it("the calendar name is the second-to-last path segment, unquoted", () => {
    expect(
      googleCalendarName("https://apidata.googleusercontent.com/caldav/v2/bob%40gmail.com/events/"),
    ).toBe("bob@gmail.com");
    expect(googleCalendarName("https://x/caldav/v2/abc%23def/events")).toBe("abc#def");
  });
});

describe("google_calendar against the stand-in", () => {
  it("open(null) without a discovered collection throws vdirsyncer's collections = null message", async () => {
    const { storage } = await storageOf("calendar");
    let error: unknown;
    try {
      await storage.open(null, OPEN);
    } catch (e) {
      error = e;
    }
    expect(isVdirsyncerError(error, "USER")).toBe(true);
    expect((error as Error).message).toBe(
      'One or more storages don\'t support `collections = null`. You probably want to set `collections = ["from a", "from b"]`.',
    );
    expect(COLLECTION_REQUIRED).toBe((error as Error).message);
    expect("createCollection" in storage).toBe(false);
    await storage.close?.();
  });

  it("discover() lists calendars named by their calendar id, and the discovered URL opens with open(null)", async () => {
    const work = await standIn.newCalendar(`work-${Date.now()}@group.calendar.google.com`);
    const home = await standIn.newCalendar(`home-${Date.now()}`);
    await standIn.newAddressBook();
    const { storage, options } = await storageOf("calendar");
    const found = await collect(storage.discover!());
    const byHref = new Map(found.map((f) => [f.href, f]));
    expect(byHref.get(work)?.id).toBe(googleCalendarName(work));
    expect(googleCalendarName(work)).toMatch(/^work-\d+@group\.calendar\.google\.com$/);
    expect(byHref.get(home)?.id).toBe(googleCalendarName(home));
    expect(byHref.get(work)?.config).toEqual({ url: work });
    // Address books are not calendars: nothing outside /caldav/v2/<id>/events/.
    for (const f of found) expect(new URL(f.href).pathname).toMatch(/^\/caldav\/v2\/[^/]+\/events\/$/);
    await storage.close?.();

    // What the CLI does with a discovered collection: its config goes into the options, then open(null).
    const again = createGoogleStorage("calendar", { ...options, url: work }, recordingContext(), {
      endpoints: standIn.endpoints,
    });
    const col = await again.open(null, OPEN);
    const written = await col.upload(new Item(EVENT(`disc-${Date.now()}`)));
    expect((await collect(col.list())).map((r) => r.href)).toEqual([written.href]);
    expect(googleCalendarName(new URL(written.href, work).toString().replace(/[^/]+$/, ""))).toBe(
      googleCalendarName(work),
    );
    await again.close?.();
  });

  it("sends the client id as User-Agent and a Bearer token on every request", async () => {
    const url = await standIn.newCalendar();
    const before = standIn.seen.length;
    const { storage } = await storageOf("calendar", { url });
    const col = await storage.open(null, OPEN);
    await collect(col.list());
    const mine = standIn.seen.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) {
      expect(r.userAgent).toBe(standIn.clientId);
      expect(r.authorized).toBe(true);
    }
    await storage.close?.();
  });

  it("upload() of a VTODO throws UnsupportedError before anything is sent", async () => {
    const url = await standIn.newCalendar();
    const { storage } = await storageOf("calendar", { url });
    const col = await storage.open(null, OPEN);
    const before = standIn.seen.length;
    const todo = new Item(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:task-1\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    );
    let error: unknown;
    try {
      await col.upload(todo);
    } catch (e) {
      error = e;
    }
    expect(isVdirsyncerError(error, "UNSUPPORTED")).toBe(true);
    expect((error as Error).message).toContain("VTODO");
    expect(standIn.seen.length).toBe(before);
    await storage.close?.();
  });
});

describe("google_contacts against the stand-in", () => {
  it("discover() is one PROPFIND on the well-known URL, every answer but the home counts, no resourcetype needed", async () => {
    const a = await standIn.newAddressBook(`default-${Date.now()}`);
    await standIn.newCalendar();
    const { storage } = await storageOf("addressbook");
    const before = standIn.seen.length;
    const found = await collect(storage.discover!());
    const ids = found.map((f) => f.id);
    expect(found.find((f) => f.href === a)?.id).toBe(
      decodeURIComponent(new URL(a).pathname.split("/").at(-2)!),
    );
    expect(ids).not.toContain("lists");
    for (const f of found) expect(f.href).toMatch(/\/carddav\/v1\/principals\/[^/]+\/lists\/[^/]+\/$/);
    const requests = standIn.seen.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(requests[0]).toBe("PROPFIND /.well-known/carddav");
    expect(requests.slice(1).every((r) => r.startsWith("PROPFIND /carddav/v1/principals/"))).toBe(true);
    await storage.close?.();
  });

  it("a discovered address book stores and lists vCards", async () => {
    const url = await standIn.newAddressBook();
    const { storage } = await storageOf("addressbook", { url });
    const col = await storage.open(null, OPEN);
    const card = new Item(
      `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-${Date.now()}\r\nFN:Zoë\r\nN:;Zoë;;;\r\nEND:VCARD\r\n`,
    );
    const written = await col.upload(card);
    const got = await col.get(written.href);
    expect(got.item.hash).toBe(card.hash);
    expect("getMeta" in col).toBe(false);
    await storage.close?.();
  });
});
