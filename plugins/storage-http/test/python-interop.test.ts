/**
 * Drop-in compatibility: Python vdirsyncer (installed as /usr/bin/vdirsyncer) syncs the same feed from the same
 * server, and the hrefs and etags it records for the http side are exactly the ones our list() gives, so a
 * status written by either tool continues with the other without a resync, and the items are the same bytes.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { googleStyleFeed, holidaysWithoutUids } from "./feeds.ts";
import { collect, openFeed } from "./helpers.ts";

const run = promisify(execFile);

let server: FeedServer;
let dir: string;
beforeAll(async () => {
  server = await startFeedServer();
  dir = mkdtempSync(join(tmpdir(), "storage-http-python-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it("Python vdirsyncer records the same hrefs and etags for a feed as our list() yields", async () => {
  let n = 0;
  // Both feeds in one file: UIDs, no UIDs, a series, VTIMEZONEs, and a DTSTAMP that changes on every GET.
  const body = () => {
    const now = new Date(Date.UTC(2024, 0, 1, 0, 0, n++));
    const holidays = holidaysWithoutUids(now).replace(/\n/g, "\r\n");
    const events = holidays.slice(holidays.indexOf("BEGIN:VEVENT"), holidays.lastIndexOf("END:VCALENDAR"));
    return googleStyleFeed(now).replace("END:VCALENDAR", `${events}END:VCALENDAR`);
  };
  server.route("/shared.ics", serveFeed(body));
  const local = join(dir, "local");
  mkdirSync(local);
  const config = join(dir, "config");
  writeFileSync(
    config,
    [
      "[general]",
      `status_path = "${join(dir, "status")}"`,
      "[pair feed]",
      'a = "feed_remote"',
      'b = "feed_local"',
      "collections = null",
      "[storage feed_remote]",
      'type = "http"',
      `url = "${server.url("/shared.ics")}"`,
      "[storage feed_local]",
      'type = "filesystem"',
      `path = "${local}"`,
      'fileext = ".ics"',
      "",
    ].join("\n"),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, VDIRSYNCER_CONFIG: config, NO_PROXY: "*", no_proxy: "*" };
  for (const key of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"]) {
    delete env[key];
  }
  await run("/usr/bin/vdirsyncer", ["discover"], { env });
  await run("/usr/bin/vdirsyncer", ["sync"], { env });

  const db = new DatabaseSync(join(dir, "status", "feed.items"), { readOnly: true });
  const rows = db.prepare("SELECT href_a, etag_a FROM status").all() as { href_a: string; etag_a: string }[];
  db.close();
  const python = rows.map((r) => [r.href_a, r.etag_a]).sort();

  const { col, close } = await openFeed({ url: server.url("/shared.ics") });
  const refs = await collect(col.list());
  const ours = refs.map((r) => [r.href, r.etag]).sort();
  expect(ours).toHaveLength(7);
  expect(ours).toEqual(python);
  // The items themselves (UID replaced by the hash) are byte for byte what Python wrote into the vdir, but for
  // the DTSTAMP this feed changes on every GET.
  const unstamped = (raw: string) => raw.replace(/^DTSTAMP:.*$/gm, "DTSTAMP:x");
  const written = readdirSync(local).sort();
  expect(written).toEqual(refs.map((r) => `${r.href}.ics`).sort());
  for (const ref of refs) {
    const theirs = readFileSync(join(local, `${ref.href}.ics`), "utf8");
    expect(unstamped((await col.get(ref.href)).item.raw)).toBe(unstamped(theirs));
  }
  await close();
});
