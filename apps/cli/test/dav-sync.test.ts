/**
 * End to end, in-process: the `vdirsyncer` command syncs a vdir with a real Radicale and a real Xandikos, for
 * calendars (caldav) and address books (carddav), with `collections = ["from a", "from b"]`.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  type Account,
  account,
  type DavType,
  fileext,
  item,
  RawDav,
  requestsOf,
  type ServerName,
} from "./dav-helpers.ts";
import { general, snapshot, type World, world } from "./helpers.ts";

/** The config of one pair `p`: vdir `local` (side a) and the server `remote` (side b). */
function configure(w: World, type: DavType, acc: Account, pairExtra = "", remoteExtra = ""): void {
  const auth =
    acc.username === undefined ? "" : `username = "${acc.username}"\npassword = "${acc.password}"\n`;
  w.writeConfig(`${general(w.root)}
[pair p]
a = "local"
b = "remote"
collections = ["from a", "from b"]
${pairExtra}

[storage local]
type = "filesystem"
path = "{root}/local/"
fileext = "${fileext(type)}"

[storage remote]
type = "${type}"
url = "${acc.url}"
${auth}${remoteExtra}
`);
}

/** The JSON events of a `--json` run. */
function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The UIDs in the vdir folder `dir` (one per file), sorted. */
function localUids(w: World, dir: string): string[] {
  return w
    .files(dir)
    .filter((f) => !["displayname", "color", "description"].includes(f))
    .map((f) => /UID:([^\r\n]+)/.exec(w.read(join(dir, f)))?.[1] as string)
    .sort();
}

/** The UIDs stored in a server collection, sorted. */
async function serverUids(dav: RawDav, type: DavType, collection: string): Promise<string[]> {
  return Object.values(await dav.items(type, collection))
    .map((t) => /UID:([^\r\n]+)/.exec(t)?.[1] as string)
    .sort();
}

/** Rewrites a vdir file through a rename, as editors and khal do, so its etag changes. */
function edit(w: World, path: string, text: string): void {
  const full = join(w.root, path);
  writeFileSync(`${full}.tmp`, text);
  rmSync(full);
  writeFileSync(full, text);
  rmSync(`${full}.tmp`);
}

const CASES: [DavType, ServerName][] = [
  ["caldav", "radicale"],
  ["caldav", "xandikos"],
  ["carddav", "radicale"],
  ["carddav", "xandikos"],
];

describe.each(CASES)("%s on %s", (type, server) => {
  const ext = fileext(type);

  test("discover creates the missing collections on both sides after the prompt; sync goes both ways; a second sync transfers nothing", async () => {
    const w = world();
    const acc = await account(server);
    const dav = new RawDav(acc);
    await dav.create(type, "work");
    await dav.put(type, "work", `w1${ext}`, item(type, "w1", "Work one"));
    await dav.put(type, "work", `w2${ext}`, item(type, "w2", "Work two"));
    w.write(`local/home/h1${ext}`, item(type, "h1", "Home one"));
    configure(w, type, acc);

    const d = await w.run(["discover"], { stdin: "y\ny\n" });
    expect(d.stderr).toContain(`No collection "home" found for storage remote.`);
    expect(d.stderr).toContain(`No collection "work" found for storage local.`);
    expect(d.stderr).not.toContain("error");
    expect(d.code).toBe(0);
    expect(await dav.collections(type)).toEqual(["home", "work"]);
    expect(existsSync(join(w.root, "local", "work"))).toBe(true);

    const s1 = await w.run(["sync"]);
    expect(s1.stderr).not.toMatch(/error|warning/);
    expect(s1.code).toBe(0);
    expect(localUids(w, "local/work")).toEqual(["w1", "w2"]);
    expect(await serverUids(dav, type, "home")).toEqual(["h1"]);

    // Changes on each side: create, update, delete.
    const localW1 = w.files("local/work").find((f) => w.read(`local/work/${f}`).includes("UID:w1"));
    edit(w, `local/work/${localW1}`, item(type, "w1", "Work one edited locally"));
    w.write(`local/home/h2${ext}`, item(type, "h2", "Home two"));
    await dav.delete(type, "work", `w2${ext}`);
    const serverH1 = Object.keys(await dav.items(type, "home"))[0] as string;
    await dav.put(type, "home", serverH1, item(type, "h1", "Home one edited on the server"));
    await dav.put(type, "home", `h3${ext}`, item(type, "h3", "Home three"));

    const s2 = await w.run(["sync"]);
    expect(s2.stderr).not.toMatch(/error|warning/);
    expect(s2.code).toBe(0);
    expect(localUids(w, "local/work")).toEqual(["w1"]);
    expect(await serverUids(dav, type, "work")).toEqual(["w1"]);
    expect(Object.values(await dav.items(type, "work"))[0]).toContain("Work one edited locally");
    expect(localUids(w, "local/home")).toEqual(["h1", "h2", "h3"]);
    expect(await serverUids(dav, type, "home")).toEqual(["h1", "h2", "h3"]);
    const h1 = w.files("local/home").find((f) => w.read(`local/home/${f}`).includes("UID:h1"));
    expect(w.read(`local/home/${h1}`)).toContain("Home one edited on the server");

    // A local deletion reaches the server.
    const h2 = w.files("local/home").find((f) => w.read(`local/home/${f}`).includes("UID:h2"));
    rmSync(join(w.root, "local", "home", h2 as string));
    const s3 = await w.run(["sync"]);
    expect(s3.code).toBe(0);
    expect(await serverUids(dav, type, "home")).toEqual(["h1", "h3"]);

    // Nothing changed since: nothing is transferred. The server side is not listed item by item again: Xandikos
    // answers a sync-token delta; Radicale (whose sync tokens cost more than its listing, packages/dav profiles)
    // answers one query whose items all match the status, so nothing is fetched.
    const s4 = await w.run(["sync", "--json", "-vdebug"]);
    expect(s4.code).toBe(0);
    const ev = events(s4.stdout);
    expect(ev.at(-1)).toMatchObject({
      event: "summary",
      ok: true,
      collections: 2,
      uploads: 0,
      updates: 0,
      deletes: 0,
      conflicts: 0,
      errors: 0,
    });
    const remote = ev.filter((e) => e.event === "listed" && e.side === "b");
    expect(remote).toHaveLength(2);
    for (const e of remote) {
      if (server === "xandikos") expect(e.method).not.toBe("full");
      expect(e.toFetch).toBe(0);
    }
    // No item was fetched or written; no Depth-1 listing of item etags was needed.
    // The storage section's one session may probe the server once (OPTIONS), shared by both collections.
    const all = requestsOf(s4.stderr).map((r) => r.method);
    expect(all.filter((m) => m === "OPTIONS").length).toBeLessThanOrEqual(1);
    const methods = all.filter((m) => m !== "OPTIONS");
    expect(methods.length).toBeGreaterThan(0);
    expect(methods.filter((m) => !["PROPFIND", "REPORT"].includes(m))).toEqual([]);
    expect(methods.length).toBeLessThanOrEqual(4);

    // Our own writes in the third sync changed one ctag; now both are unchanged: one PROPFIND per collection.
    const s5 = await w.run(["sync", "--json", "-vdebug"]);
    expect(s5.code).toBe(0);
    expect(
      events(s5.stdout)
        .filter((e) => e.event === "listed" && e.side === "b")
        .map((e) => e.method),
    ).toEqual(["ctag", "ctag"]);
    const s5methods = requestsOf(s5.stderr).map((r) => r.method);
    expect(s5methods.filter((m) => m === "OPTIONS").length).toBeLessThanOrEqual(1);
    expect(s5methods.filter((m) => m !== "OPTIONS")).toEqual(["PROPFIND", "PROPFIND"]);
  });

  test("metasync copies displayname and color (and description where the server keeps it) both ways", async () => {
    const w = world();
    const acc = await account(server);
    const dav = new RawDav(acc);
    await dav.create(type, "work", "Work on the server");
    if (type === "caldav") await dav.setMeta(type, "work", { color: "#FF0000FF" });
    w.write(`local/home/displayname`, "Home from the vdir");
    if (type === "caldav") w.write(`local/home/color`, "#00FF00FF");
    // Xandikos refuses calendar-description; Radicale keeps both descriptions.
    const description = server === "radicale";
    if (description) w.write(`local/home/description`, "Things at home");
    const keys = [
      "displayname",
      ...(type === "caldav" ? ["color"] : []),
      ...(description ? ["description"] : []),
    ];
    configure(w, type, acc, `metadata = ${JSON.stringify(keys)}`);
    expect((await w.run(["discover"], { stdin: "y\ny\n" })).code).toBe(0);

    const m1 = await w.run(["metasync"]);
    expect(m1.stderr).not.toMatch(/error|warning/);
    expect(m1.code).toBe(0);
    expect(m1.stderr).toContain("Copying displayname to remote/home\n");
    expect(m1.stderr).toContain("Copying displayname to local/work\n");
    expect(w.read("local/work/displayname")).toBe("Work on the server");
    const home = await dav.meta(type, "home");
    expect(home.displayname).toBe("Home from the vdir");
    if (type === "caldav") {
      expect(w.read("local/work/color")).toBe("#FF0000FF");
      expect(home.color).toBe("#00FF00FF");
    }
    if (description) expect(home.description).toBe("Things at home");

    // A later change on the server reaches the vdir, one on the vdir reaches the server.
    await dav.setMeta(type, "work", { displayname: "Work renamed on the server" });
    w.write(`local/home/displayname`, "Home renamed in the vdir");
    const m2 = await w.run(["metasync"]);
    expect(m2.code).toBe(0);
    expect(w.read("local/work/displayname")).toBe("Work renamed on the server");
    expect((await dav.meta(type, "home")).displayname).toBe("Home renamed in the vdir");
  });

  test('conflicts: reported with null, resolved by "a wins" and "b wins"', async () => {
    const w = world();
    const acc = await account(server);
    const dav = new RawDav(acc);
    await dav.create(type, "work");
    for (const uid of ["c1", "c2"])
      await dav.put(type, "work", `${uid}${ext}`, item(type, uid, `${uid} first`));
    configure(w, type, acc);
    expect((await w.run(["discover"], { stdin: "y\n" })).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    const localFile = (uid: string) =>
      `local/work/${w.files("local/work").find((f) => w.read(`local/work/${f}`).includes(`UID:${uid}`))}`;
    const both = async (uid: string) => {
      edit(w, localFile(uid), item(type, uid, `${uid} local edit`));
      await dav.put(type, "work", `${uid}${ext}`, item(type, uid, `${uid} server edit`));
    };
    await both("c1");

    const r0 = await w.run(["sync"]);
    expect(r0.code).toBe(1);
    expect(r0.stderr).toContain("error: p/work: ");
    expect(r0.stderr).toContain("Item ID: c1");
    expect(r0.stderr).toMatch(/hint: Set conflict_resolution/);

    configure(w, type, acc, 'conflict_resolution = "a wins"');
    const ra = await w.run(["sync"]);
    expect(ra.stderr).not.toMatch(/error/);
    expect(ra.code).toBe(0);
    expect((await dav.items(type, "work"))[`c1${ext}`]).toContain("c1 local edit");
    expect(w.read(localFile("c1"))).toContain("c1 local edit");

    await both("c2");
    configure(w, type, acc, 'conflict_resolution = "b wins"');
    const rb = await w.run(["sync"]);
    expect(rb.code).toBe(0);
    expect(w.read(localFile("c2"))).toContain("c2 server edit");
    expect((await dav.items(type, "work"))[`c2${ext}`]).toContain("c2 server edit");
  });

  test("--dry-run against the server sends no request that writes and changes nothing on either side", async () => {
    const w = world();
    const acc = await account(server);
    const dav = new RawDav(acc);
    await dav.create(type, "work");
    await dav.put(type, "work", `d1${ext}`, item(type, "d1"));
    await dav.put(type, "work", `d2${ext}`, item(type, "d2"));
    configure(w, type, acc);
    expect((await w.run(["discover"], { stdin: "y\n" })).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    // Pending: a local creation, update and deletion; a server creation and deletion; a new local collection.
    w.write(`local/work/d3${ext}`, item(type, "d3"));
    const d1 = w.files("local/work").find((f) => w.read(`local/work/${f}`).includes("UID:d1")) as string;
    edit(w, `local/work/${d1}`, item(type, "d1", "d1 edited"));
    await dav.put(type, "work", `d4${ext}`, item(type, "d4"));
    await dav.delete(type, "work", `d2${ext}`);
    const serverBefore = await dav.items(type, "work");
    const localBefore = snapshot(join(w.root, "local"));
    const statusBefore = snapshot(join(w.root, "status"));

    const r = await w.run(["sync", "--dry-run", "-vdebug"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Would copy (upload) item d3 to remote/work`);
    expect(r.stderr).toContain(`Would copy (update) item d1 to remote/work`);
    expect(r.stderr).toContain(`Would copy (upload) item d4 to local/work`);
    expect(r.stderr).toContain(`Would delete item d2 from local/work`);
    expect(r.stderr).toContain("Dry run: nothing was written.");
    const requests = requestsOf(r.stderr);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((q) => !["PROPFIND", "REPORT", "GET", "OPTIONS"].includes(q.method))).toEqual([]);
    expect(await dav.items(type, "work")).toEqual(serverBefore);
    expect(snapshot(join(w.root, "local"))).toEqual(localBefore);
    expect(snapshot(join(w.root, "status"))).toEqual(statusBefore);
  });
});

test('implicit = "create" creates a local-only collection on the server without asking', async () => {
  const w = world();
  const acc = await account("radicale");
  const dav = new RawDav(acc);
  w.write("local/solo/s1.ics", item("caldav", "s1"));
  configure(w, "caldav", acc, 'implicit = "create"');
  const d = await w.run(["discover"]);
  expect(d.code, d.stderr).toBe(0);
  expect(d.stderr).not.toContain("[y/N]");
  expect(await dav.collections("caldav")).toEqual(["solo"]);
  const s = await w.run(["sync"]);
  expect(s.code, s.stderr).toBe(0);
  expect(await serverUids(dav, "caldav", "solo")).toEqual(["s1"]);
});
