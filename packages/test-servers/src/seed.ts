import { execFile } from "node:child_process";
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { authHeaders, type TestServer } from "./servers.ts";

const run = promisify(execFile);

/** What the seeders need of a server: a full {@link TestServer}, or what a test sees of one. */
export type SeedTarget = Pick<TestServer, "kind" | "url" | "dataDir" | "username" | "password">;

/** One item file to seed: its file name (the href's last segment) and its text. */
export interface SeedItem {
  name: string;
  text: string;
}

/** The result of seeding: the collection URL and how many items a PROPFIND lists there afterwards. */
export interface SeedResult {
  url: string;
  count: number;
}

function checkName(name: string): void {
  // Item names become file names inside the server's storage: no path tricks.
  if (name === "" || name.startsWith(".") || name.includes("/") || name.includes("\0")) {
    throw new Error(`Seed item name ${JSON.stringify(name)} is not a plain file name.`);
  }
}

async function writeAll(dir: string, items: Iterable<SeedItem>, limit = 32): Promise<number> {
  const pending = new Set<Promise<void>>();
  let written = 0;
  for (const item of items) {
    checkName(item.name);
    const p = writeFile(join(dir, item.name), item.text).then(() => {
      pending.delete(p);
    });
    pending.add(p);
    written++;
    if (pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  return written;
}

/**
 * Counts the items in a collection with a PROPFIND Depth 1 (every response but the collection itself).
 * @throws {Error} the server did not answer 207
 */
export async function countItems(server: SeedTarget, collectionUrl: string): Promise<number> {
  const response = await fetch(collectionUrl, {
    method: "PROPFIND",
    headers: { depth: "1", "content-type": "application/xml; charset=utf-8", ...authHeaders(server) },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
  });
  const body = await response.text();
  if (response.status !== 207) {
    throw new Error(`PROPFIND ${collectionUrl} answered ${response.status}: ${body.slice(0, 500)}`);
  }
  const responses = body.match(/<(?:[A-Za-z_][\w.-]*:)?response[\s>]/g)?.length ?? 0;
  return Math.max(0, responses - 1);
}

/**
 * Writes items straight into a Radicale collection folder (multifilesystem), creating the collection when
 * needed; much faster than PUT for thousands of items (Radicale loads the collection on every PUT).
 * `collection` is the path below the server root, e.g. `user/bench`.
 * @throws {Error} the server is not Radicale, or the PROPFIND afterwards fails
 */
export async function seedRadicaleCollection(
  server: SeedTarget,
  collection: string,
  kind: "calendar" | "addressbook",
  items: Iterable<SeedItem>,
  props: { displayname?: string } = {},
): Promise<SeedResult> {
  if (server.kind !== "radicale")
    throw new Error(`seedRadicaleCollection needs a Radicale server, got ${server.kind}.`);
  const path = collection.replace(/^\/+|\/+$/g, "");
  const dir = join(server.dataDir, "collections", "collection-root", ...path.split("/"));
  await mkdir(dir, { recursive: true });
  const propsFile = join(dir, ".Radicale.props");
  const exists = await access(propsFile).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const tag = kind === "calendar" ? "VCALENDAR" : "VADDRESSBOOK";
    const value: Record<string, string> = { tag };
    if (props.displayname !== undefined) value["D:displayname"] = props.displayname;
    await writeFile(propsFile, JSON.stringify(value));
  }
  await writeAll(dir, items);
  const url = `${server.url}${path}/`;
  return { url, count: await countItems(server, url) };
}

/**
 * Writes items into a Xandikos collection's git working tree and records them in one commit (Xandikos makes a
 * commit per PUT, which takes minutes for 10k items). `collection` defaults to the `--defaults` calendar or
 * address book, e.g. `user/calendars/calendar`.
 * @throws {Error} the server is not Xandikos, git fails, or the PROPFIND afterwards fails
 */
export async function seedXandikosCollection(
  server: SeedTarget,
  collection: string,
  items: Iterable<SeedItem>,
): Promise<SeedResult> {
  if (server.kind !== "xandikos")
    throw new Error(`seedXandikosCollection needs a Xandikos server, got ${server.kind}.`);
  const path = collection.replace(/^\/+|\/+$/g, "");
  const dir = join(server.dataDir, ...path.split("/"));
  await access(join(dir, ".git")).catch(() => {
    throw new Error(
      `${dir} is not a Xandikos collection (no .git); use an existing collection such as user/calendars/calendar.`,
    );
  });
  const written = await writeAll(dir, items);
  const git = (...args: string[]) =>
    run(
      "git",
      ["-c", "user.name=seed", "-c", "user.email=seed@localhost", "-c", "commit.gpgsign=false", ...args],
      {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  if (written > 0) {
    await git("add", "--all", ".");
    await git("commit", "--quiet", "--no-verify", "-m", `seed ${written} items`);
  }
  const url = `${server.url}${path}/`;
  return { url, count: await countItems(server, url) };
}

/**
 * Seeds Radicale by folder or Xandikos by git commit.
 * @throws {Error} the server is Cyrus or DAViCal, whose storage is a database: seed those with PUT
 */
export function seedCollection(
  server: SeedTarget,
  collection: string,
  kind: "calendar" | "addressbook",
  items: Iterable<SeedItem>,
): Promise<SeedResult> {
  if (server.kind === "radicale") return seedRadicaleCollection(server, collection, kind, items);
  if (server.kind === "xandikos") return seedXandikosCollection(server, collection, items);
  return Promise.reject(
    new Error(`seedCollection cannot write into ${server.kind}'s storage (a database); seed it with PUT.`),
  );
}

/** A minimal valid VEVENT item (with DTSTART, which Radicale requires), for seeding and tests. */
export function sampleEvent(uid: string, summary = `Event ${uid}`): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//vdirsyncer-ts//test-servers//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20240101T000000Z",
    "DTSTART:20240102T100000Z",
    "DTEND:20240102T110000Z",
    `SUMMARY:${summary}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** A minimal valid vCard 3.0 item, for seeding and tests. */
export function sampleContact(uid: string, name = `Person ${uid}`): string {
  return ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, "END:VCARD", ""].join(
    "\r\n",
  );
}
