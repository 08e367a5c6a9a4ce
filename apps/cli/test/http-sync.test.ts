/**
 * `type = "http"` end to end: a real local HTTP(S) server serves a published calendar shaped like the ones people
 * subscribe to, and `vdirsyncer discover` + `sync` keep a vdir in step with it. Requests are counted at the server.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { general, snapshot, type World, world } from "./helpers.ts";

const CRLF = "\r\n";

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/**
 * A club's published calendar, version 1 or 2. Version 2 renames the general assembly and drops the summer party.
 * `DTSTAMP` is the time of the request, as Google and Outlook publish it; the Labour Day entry has no UID, as
 * many holiday feeds do. Four items once split: the training series with its moved occurrence, the assembly,
 * Labour Day and the party.
 */
function clubFeed(version: 1 | 2): string {
  const stamp = `DTSTAMP:${new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Club Example//Published Calendar 1.0//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    "X-WR-CALNAME:Club",
    "X-WR-TIMEZONE:Europe/Berlin",
    ...BERLIN,
    "BEGIN:VEVENT",
    "UID:training@club.example",
    stamp,
    "DTSTART;TZID=Europe/Berlin:20250106T190000",
    "DTEND;TZID=Europe/Berlin:20250106T210000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO",
    "SUMMARY:Training",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:training@club.example",
    "RECURRENCE-ID;TZID=Europe/Berlin:20250113T190000",
    stamp,
    "DTSTART;TZID=Europe/Berlin:20250114T190000",
    "DTEND;TZID=Europe/Berlin:20250114T210000",
    "SUMMARY:Training (on Tuesday this week)",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:assembly@club.example",
    stamp,
    "DTSTART;TZID=Europe/Berlin:20250301T140000",
    "DTEND;TZID=Europe/Berlin:20250301T170000",
    version === 1 ? "SUMMARY:General assembly" : "SUMMARY:General assembly (new room)",
    "LOCATION:Clubhouse",
    "END:VEVENT",
    "BEGIN:VEVENT",
    stamp,
    "DTSTART;VALUE=DATE:20250501",
    "DTEND;VALUE=DATE:20250502",
    "SUMMARY:Labour Day",
    "TRANSP:TRANSPARENT",
    "END:VEVENT",
  ];
  if (version === 1) {
    lines.push(
      "BEGIN:VEVENT",
      "UID:party@club.example",
      stamp,
      "DTSTART;TZID=Europe/Berlin:20250705T180000",
      "SUMMARY:Summer party",
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return lines.join(CRLF) + CRLF;
}

/** One request as the server saw it. */
interface Seen {
  method: string;
  path: string;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  status: number;
  /** Bytes of body sent. */
  sent: number;
}

/** A feed server: `/club.ics` serves {@link clubFeed} of the current `version`, with ETag and Last-Modified. */
class FeedServer {
  version: 1 | 2 = 1;
  readonly seen: Seen[] = [];
  readonly #server: Server;
  readonly #scheme: string;

  constructor(tls?: { key: string; cert: string }) {
    const listener = (req: IncomingMessage, res: ServerResponse) => this.#answer(req, res);
    this.#server = tls ? createTlsServer(tls, listener) : createServer(listener);
    this.#scheme = tls ? "https" : "http";
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  url(scheme = this.#scheme): string {
    return `${scheme}://127.0.0.1:${(this.#server.address() as AddressInfo).port}/club.ics`;
  }

  /** Requests since the last call. */
  take(): Seen[] {
    return this.seen.splice(0);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? "/";
    let body = "";
    if (path !== "/club.ics") {
      res.statusCode = 404;
      body = "not here";
    } else {
      // Validators follow the content, not the DTSTAMP the server stamps on every answer.
      const etag = `"club-v${this.version}"`;
      const lastModified = new Date(Date.UTC(2025, 0, this.version)).toUTCString();
      res.setHeader("ETag", etag);
      res.setHeader("Last-Modified", lastModified);
      const inm = req.headers["if-none-match"];
      const ims = req.headers["if-modified-since"];
      if (inm !== undefined ? inm === etag : ims === lastModified) {
        res.statusCode = 304;
      } else {
        res.setHeader("Content-Type", "text/calendar; charset=utf-8");
        body = clubFeed(this.version);
      }
    }
    this.seen.push({
      method: req.method ?? "",
      path,
      ifNoneMatch: req.headers["if-none-match"],
      ifModifiedSince: req.headers["if-modified-since"],
      status: res.statusCode,
      sent: Buffer.byteLength(body),
    });
    res.end(body);
  }
}

let plain: FeedServer;
let secure: FeedServer;
let certDir: string;
let certPath: string;
beforeAll(async () => {
  plain = await new FeedServer().listen();
  certDir = mkdtempSync(join(tmpdir(), "vdirsyncer-cli-tls-"));
  certPath = join(certDir, "cert.pem");
  const keyPath = join(certDir, "key.pem");
  // A throwaway self-signed certificate for 127.0.0.1 (openssl is part of the test toolchain).
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  secure = await new FeedServer({
    key: readFileSync(keyPath, "utf8"),
    cert: readFileSync(certPath, "utf8"),
  }).listen();
});
afterAll(async () => {
  await plain.close();
  await secure.close();
  rmSync(certDir, { recursive: true, force: true });
});
afterEach(() => {
  plain.version = 1;
  plain.take();
  secure.take();
});

/** The subscription as a user writes it: the vdir khal reads on one side, the feed on the other. */
function subscribe(w: World, url: string, extra = ""): void {
  w.writeConfig(`${general(w.root)}
[pair club]
a = "club_local"
b = "club_feed"
collections = null
partial_sync = "ignore"

[storage club_local]
type = "filesystem"
path = "{root}/calendars/club/"
fileext = ".ics"

[storage club_feed]
type = "http"
url = "${url}"
${extra}
`);
  w.write("calendars/club/.keep", "");
}

/** The vdir's items: file name → content. */
function items(w: World): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of w.files("calendars/club")) if (f.endsWith(".ics")) out[f] = w.read(`calendars/club/${f}`);
  return out;
}

/** The one file whose content matches `pattern`. */
function fileWith(all: Record<string, string>, pattern: RegExp): string {
  const names = Object.keys(all).filter((f) => pattern.test(all[f] as string));
  expect(names, `one file matching ${pattern}`).toHaveLength(1);
  return names[0] as string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

test("a published feed fills the vdir; unchanged it costs one 304; an edit and a removal sync as delete + create", async () => {
  const w = world();
  subscribe(w, plain.url());
  const d = await w.run(["discover"]);
  expect(d.code, d.stderr).toBe(0);
  expect(d.stderr).toBe(
    "Discovering collections for pair club\nclub_local:\nclub_feed:\nSaved for club: collections = null\n",
  );
  // discover needs nothing from the feed when there are no collections to find.
  expect(plain.take()).toEqual([]);

  const first = await w.run(["sync"]);
  expect(first.code, first.stderr).toBe(0);
  // One GET for the whole feed: the body kept from the tag check serves the listing.
  expect(plain.take().map((s) => [s.method, s.status])).toEqual([["GET", 200]]);
  const filled = items(w);
  expect(Object.keys(filled)).toHaveLength(4);
  expect(first.stderr.match(/^Copying \(uploading\) item \w+ to club_local$/gm)).toHaveLength(4);
  for (const [name, text] of Object.entries(filled)) {
    // vdirsyncer's http storage: the UID is the item's hash, and the file is named after it.
    expect(text).toContain(`\r\nUID:${name.replace(/\.ics$/, "")}\r\n`);
    expect(text).toContain("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n");
    expect(text).not.toContain("METHOD:");
  }
  const training = fileWith(filled, /SUMMARY:Training\r\n/);
  expect(filled[training]).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO");
  expect(filled[training]).toContain("RECURRENCE-ID;TZID=Europe/Berlin:20250113T190000");
  expect(filled[training]?.match(/^BEGIN:VEVENT/gm)).toHaveLength(2);
  const labourDay = fileWith(filled, /SUMMARY:Labour Day/);
  const assembly = fileWith(filled, /SUMMARY:General assembly\r\n/);
  const party = fileWith(filled, /SUMMARY:Summer party/);

  // Unchanged feed (only its DTSTAMPs would differ): one conditional request, answered 304, nothing written.
  const before = snapshot(join(w.root, "calendars"));
  const again = await w.run(["sync"]);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toBe("Syncing club\n");
  const quiet = plain.take();
  expect(quiet).toHaveLength(1);
  expect(quiet[0]).toMatchObject({ method: "GET", ifNoneMatch: '"club-v1"', status: 304, sent: 0 });
  expect(snapshot(join(w.root, "calendars"))).toEqual(before);

  // A local edit stays local with partial_sync = "ignore" (the feed cannot take it).
  w.write(
    `calendars/club/${labourDay}`,
    (filled[labourDay] as string).replace("SUMMARY:Labour Day", "SUMMARY:Labour Day (day off!)"),
  );
  const edited = await w.run(["sync"]);
  expect(edited.code, edited.stderr).toBe(0);
  expect(w.read(`calendars/club/${labourDay}`)).toContain("SUMMARY:Labour Day (day off!)");
  expect(plain.take().map((s) => s.status)).toEqual([304]);

  // The feed changes: the assembly is renamed and the party is gone.
  plain.version = 2;
  const changed = await w.run(["sync"]);
  expect(changed.code, changed.stderr).toBe(0);
  expect(plain.take().map((s) => [s.status, s.ifNoneMatch])).toEqual([[200, '"club-v1"']]);
  const stem = (f: string) => f.replace(/\.ics$/, "");
  expect(changed.stderr).toContain(`Deleting item ${stem(assembly)} from club_local\n`);
  expect(changed.stderr).toContain(`Deleting item ${stem(party)} from club_local\n`);
  expect(changed.stderr.match(/^Copying \(uploading\) item \w+ to club_local$/gm)).toHaveLength(1);
  expect(changed.stderr).not.toMatch(/Copying \(updating\)/);
  const after = items(w);
  expect(Object.keys(after)).toHaveLength(3);
  expect(after[training]).toBe(filled[training]);
  expect(after[labourDay]).toContain("SUMMARY:Labour Day (day off!)");
  const renamed = fileWith(after, /SUMMARY:General assembly \(new room\)/);
  expect(renamed).not.toBe(assembly);
  // Deleted versions are kept in the trash, not lost.
  expect(
    w
      .files("status/.trash")
      .map((f) => sha256(readFileSync(join(w.root, "status/.trash", f), "utf8")))
      .filter((h) => h === sha256(filled[party] as string)),
  ).toHaveLength(1);
}, 60_000);

test("a webcal:// URL is read over TLS, trusting the certificate given in `verify`", async () => {
  const w = world();
  subscribe(w, secure.url("webcal"), `verify = "${certPath}"`);
  expect((await w.run(["discover"])).code).toBe(0);
  const s = await w.run(["sync"]);
  expect(s.code, s.stderr).toBe(0);
  expect(Object.keys(items(w))).toHaveLength(4);
  expect(secure.take().map((r) => [r.method, r.status])).toEqual([["GET", 200]]);

  // Without `verify` the self-signed certificate is refused, and nothing changes in the vdir.
  subscribe(w, secure.url("webcal"));
  expect((await w.run(["discover"])).code).toBe(0);
  const before = snapshot(join(w.root, "calendars"));
  const refused = await w.run(["sync"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /^error: club: GET https:\/\/127\.0\.0\.1:\d+\/club\.ics failed: self-signed certificate/m,
  );
  expect(snapshot(join(w.root, "calendars"))).toEqual(before);
}, 60_000);
