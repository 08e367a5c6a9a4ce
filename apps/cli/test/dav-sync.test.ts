/**
 * End to end, in-process: the `vdirsyncer` command syncs a vdir with a real Radicale and a real Xandikos, for
 * calendars (caldav) and address books (carddav), with `collections = ["from a", "from b"]`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

    // Nothing changed since: nothing is transferred, and the server side is not listed in full again.
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
      expect(e.method).not.toBe("full");
      expect(e.toFetch).toBe(0);
    }
    // No item was fetched or written; no Depth-1 listing of item etags was needed.
    const methods = requestsOf(s4.stderr).map((r) => r.method);
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
    expect(requestsOf(s5.stderr).map((r) => r.method)).toEqual(["PROPFIND", "PROPFIND"]);
  });
});
