import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { event, general, renderScreen, snapshot, type World, world } from "./helpers.ts";

/** A pair `foobar` of two filesystem storages `foo` and `bar` under the world's folder. */
function fsPair(w: World, pair: string, extraStorage: { foo?: string; bar?: string } = {}): void {
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
${pair}

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"
${extraStorage.foo ?? ""}

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
${extraStorage.bar ?? ""}
`);
}

describe("sync", () => {
  test("a simple run copies an item and logs vdirsyncer's line", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair my_pair]
a = "my_a"
b = "my_b"
collections = null

[storage my_a]
type = "filesystem"
path = "{root}/path_a/"
fileext = ".txt"

[storage my_b]
type = "filesystem"
path = "{root}/path_b/"
fileext = ".txt"
`);
    w.write("path_a/.keep", "");
    w.write("path_b/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    w.write("path_a/haha.txt", event("haha"));
    const r = await w.run(["sync"]);
    expect(r.stderr).toContain("Copying (uploading) item haha to my_b\n");
    expect(w.read("path_b/haha.txt")).toBe(event("haha"));
    expect(r.code).toBe(0);
  });

  test("an emptied storage stops the collection with vdirsyncer's message; --force-delete deletes", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/one.ics", event("one"));
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    expect((await w.run(["sync"])).code).toBe(0);
    rmSync(join(w.root, "bar/one.ics"));
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe("Syncing foobar");
    expect(lines[1]).toBe(
      'error: foobar: Storage "bar" was completely emptied. If you want to delete ALL entries on BOTH sides,then use `vdirsyncer sync --force-delete foobar`. Otherwise delete the files for foobar in your status directory.',
    );
    expect(lines[2]).toMatch(/^hint: /);
    expect(existsSync(join(w.root, "foo/one.ics"))).toBe(true);
    const forced = await w.run(["sync", "--force-delete"]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain("Deleting item one from foo\n");
    expect(existsSync(join(w.root, "foo/one.ics"))).toBe(false);
    // The deleted version is in the trash.
    expect(w.files("status/.trash").some((f) => f.endsWith(".ics"))).toBe(true);
  });

  test("an unknown pair is an error with exit code 1", async () => {
    const w = world();
    fsPair(w, "collections = null");
    const r = await w.run(["sync", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: Pair nope does not exist. Please check your configuration file and make sure you've typed the pair name correctly\nhint: The configured pairs are: foobar.\n",
    );
  });

  test("an unknown collection argument names the configured ones", async () => {
    const w = world();
    fsPair(w, 'collections = ["a", "b", "c"]');
    for (const side of ["foo", "bar"]) for (const c of "abc") w.write(`${side}/${c}/.keep`, "");
    expect((await w.run(["discover"])).code).toBe(0);
    const r = await w.run(["sync", "foobar/d"]);
    expect(r.code).toBe(1);
    expect(r.stderr.toLowerCase()).toContain('pair foobar: collection "d" not found');
    expect(r.stderr).toContain(
      "critical: Pair foobar: Collection \"d\" not found.These are the configured collections:\ncritical: ['a', 'b', 'c']\n",
    );
  });

  test("sync before discover asks for discover; a changed config asks again", async () => {
    const w = world();
    fsPair(w, 'collections = ["a"]');
    for (const side of ["foo", "bar"]) w.write(`${side}/a/.keep`, "");
    const missing = await w.run(["sync"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      "critical: Please run `vdirsyncer discover foobar`  before synchronization.\n",
    );
    await w.run(["discover"]);
    w.write("foo/a/itemone.ics", event("itemone"));
    expect((await w.run(["sync"])).code).toBe(0);
    expect(w.files("bar/a")).toEqual([".keep", "itemone.ics"]);

    fsPair(w, 'collections = ["a"]', { bar: "" });
    w.writeConfig(w.read("config").replace("{root}/bar/".replace("{root}", w.root), `${w.root}/bar2/`));
    w.write("bar2/a/.keep", "");
    const stale = await w.run(["sync"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr.toLowerCase()).toContain("detected change in config file");
    expect(stale.stderr).toContain(
      "Detected change in config file, please run `vdirsyncer discover foobar`.",
    );
    await w.run(["discover"]);
    rmSync(join(w.root, "status/foobar"), { recursive: true });
    expect((await w.run(["sync"])).code).toBe(0);
    expect(w.files("bar2/a")).toEqual([".keep", "itemone.ics"]);
  });

  test("multiple pairs: one Syncing line each", async () => {
    const w = world();
    let text = general(w.root);
    for (const [a, b] of [
      ["foo", "bar"],
      ["bam", "baz"],
    ]) {
      text += `\n[pair ${a}${b}]\na = "${a}"\nb = "${b}"\ncollections = null\n`;
      for (const n of [a, b]) {
        text += `\n[storage ${n}]\ntype = "filesystem"\npath = "{root}/${n}"\nfileext = ".txt"\n`;
        w.write(`${n}/.keep`, "");
      }
    }
    w.writeConfig(text);
    const d = await w.run(["discover"]);
    expect(d.stderr).toContain("Discovering collections for pair foobar\n");
    expect(d.stderr).toContain("Discovering collections for pair bambaz\n");
    const r = await w.run(["sync"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "Syncing foobar\nSyncing bambaz\n" });
    const one = await w.run(["sync", "bambaz", "foobar"]);
    expect(one.stderr).toBe("Syncing bambaz\nSyncing foobar\n");
  });

  test("a bare pair means all its collections, even with pair/collection next to it", async () => {
    const w = world();
    fsPair(w, 'collections = ["a", "b"]');
    for (const side of ["foo", "bar"]) for (const c of "ab") w.write(`${side}/${c}/.keep`, "");
    await w.run(["discover"]);
    const r = await w.run(["sync", "foobar/a", "foobar"]);
    expect(r.stderr).toBe("Syncing foobar/a\nSyncing foobar/b\n");
    const only = await w.run(["sync", "foobar/b"]);
    expect(only.stderr).toBe("Syncing foobar/b\n");
  });

  test("an ident conflict names two of the hrefs", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/one.ics", event("1", "one"));
    w.write("foo/two.ics", event("1", "two"));
    w.write("foo/three.ics", event("1", "three"));
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: foobar: Storage "foo" contains multiple items with the same UID or even content',
    );
    expect(r.stderr).toContain("error:     vdirsyncer repair foo\n");
    const named = ["'one.ics'", "'two.ics'", "'three.ics'"].map((h) => r.stderr.includes(h));
    expect(named.filter(Boolean)).toHaveLength(2);
    expect(w.files("bar")).toEqual([".keep"]);
  });

  test("an unknown storage in a pair", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "nope"
collections = null

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"
`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: Storage 'nope' not found. These are the configured storages: ['foo']\n",
    );
  });

  test("a failed collection does not stop the others, and the exit code is 1", async () => {
    const w = world();
    fsPair(w, 'collections = ["a", "b"]');
    for (const side of ["foo", "bar"]) for (const c of "ab") w.write(`${side}/${c}/.keep`, "");
    await w.run(["discover"]);
    await w.run(["sync"]);
    // An ident conflict in a; a new item in b.
    w.write("foo/a/x1.ics", event("x"));
    w.write("foo/a/x2.ics", event("x", "other"));
    w.write("foo/b/new.ics", event("new"));
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: foobar/a: Storage "foo/a" contains multiple items');
    expect(r.stderr).toContain("Copying (uploading) item new to bar/b\n");
    expect(w.files("bar/b")).toEqual([".keep", "new.ics"]);
  });
});

describe("conflicts", () => {
  async function conflict(w: World, resolution: string | undefined) {
    fsPair(
      w,
      `collections = ["coll"]${resolution === undefined ? "" : `\nconflict_resolution = ${resolution}`}`,
    );
    w.write("foo/coll/lol.ics", event("lol", "föö"));
    w.write("bar/coll/lol.ics", event("lol", "böö"));
    expect((await w.run(["discover"])).code).toBe(0);
    return w.run(["sync"]);
  }

  test("without conflict_resolution: vdirsyncer's message with the item's details", async () => {
    const w = world();
    const r = await conflict(w, undefined);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      [
        "Doing conflict resolution for item lol...",
        "error: foobar/coll: One item changed on both sides. Resolve this conflict manually, or by setting the `conflict_resolution` parameter in your config file.",
        "error: See also https://vdirsyncer.pimutils.org/en/stable/config.html#pair-section",
        "error: Item ID: lol",
        "error: Item href on side A: lol.ics",
        "error: Item href on side B: lol.ics",
        "hint: ",
      ].join("\n"),
    );
    expect(w.read("foo/coll/lol.ics")).toBe(event("lol", "föö"));
    expect(w.read("bar/coll/lol.ics")).toBe(event("lol", "böö"));
  });

  test.each([
    ['"a wins"', "föö"],
    ['"b wins"', "böö"],
    ['["command", "cp"]', "föö"],
  ])("conflict_resolution = %s", async (resolution, winner) => {
    const w = world();
    const r = await conflict(w, resolution);
    expect(r.stderr).toContain("Doing conflict resolution for item lol...\n");
    expect(r.code).toBe(0);
    expect(w.read("foo/coll/lol.ics")).toBe(event("lol", winner));
    expect(w.read("bar/coll/lol.ics")).toBe(event("lol", winner));
  });

  test("a resolution command that fails is reported for the collection", async () => {
    const w = world();
    const r = await conflict(w, '["command", "false"]');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/foobar\/coll|conflict resolution command/);
  });
});

describe("partial_sync with a read-only filesystem storage", () => {
  async function setup(w: World, partial: string | undefined) {
    fsPair(w, `collections = null\n${partial === undefined ? "" : `partial_sync = "${partial}"`}`, {
      bar: "read_only = true",
    });
    w.write("foo/other.ics", event("other"));
    w.write("bar/other.ics", event("other"));
    w.write("bar/lol.ics", event("lol"));
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    expect(existsSync(join(w.root, "foo/lol.ics"))).toBe(true);
    rmSync(join(w.root, "foo/lol.ics"));
    return w.run(["sync"]);
  }

  test("error: the change is reported", async () => {
    const w = world();
    const r = await setup(w, "error");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: foobar: Attempted change on bar, which is read-only. Set `partial_sync` in your pair section to `ignore` to ignore those changes, or `revert` to revert them on the other side.",
    );
    expect(existsSync(join(w.root, "bar/lol.ics"))).toBe(true);
  });

  test("ignore: the read-only side keeps the item, the other side stays without it", async () => {
    const w = world();
    const r = await setup(w, "ignore");
    expect(r.code).toBe(0);
    expect(existsSync(join(w.root, "bar/lol.ics"))).toBe(true);
    await w.run(["sync"]);
    expect(existsSync(join(w.root, "foo/lol.ics"))).toBe(false);
  });

  test.each([["revert"], [undefined]])("%s: the item comes back on the next sync", async (mode) => {
    const w = world();
    const r = await setup(w, mode);
    expect(r.code).toBe(0);
    expect(existsSync(join(w.root, "bar/lol.ics"))).toBe(true);
    await w.run(["sync"]);
    expect(existsSync(join(w.root, "foo/lol.ics"))).toBe(true);
  });

  test("partial_sync without a read-only storage is refused", async () => {
    const w = world();
    fsPair(w, 'collections = null\npartial_sync = "ignore"');
    w.write("foo/.keep", "");
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: `partial_sync` is only effective if one storage is read-only. Use `read_only = true` in exactly one storage section.\n",
    );
  });
});

describe("no_delete", () => {
  test("a deletion is not applied to a no_delete storage, and the item comes back", async () => {
    const w = world();
    fsPair(w, "collections = null", { bar: "no_delete = true" });
    w.write("foo/one.ics", event("one"));
    w.write("foo/two.ics", event("two"));
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    expect((await w.run(["sync"])).code).toBe(0);
    rmSync(join(w.root, "foo/one.ics"));
    const r = await w.run(["sync"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("Deleting");
    expect(existsSync(join(w.root, "bar/one.ics"))).toBe(true);
    const again = await w.run(["sync"]);
    expect(again.stderr).toContain("Copying (uploading) item one to foo\n");
    expect(existsSync(join(w.root, "foo/one.ics"))).toBe(true);
  });
});

describe("discover", () => {
  test("a triple with different names creates both collections after the prompts", async () => {
    const w = world();
    w.write("foo/.keep", "");
    w.write("bar/.keep", "");
    fsPair(w, 'collections = [\n  ["coll1", "coll_a1", "coll_b1"],\n  "coll2"\n  ]');
    const d = await w.run(["discover"], { stdin: "y\n".repeat(6) });
    expect(d.code).toBe(0);
    expect(d.stderr).toContain('Saved for foobar: collections = ["coll1", "coll2"]\n');
    expect(existsSync(join(w.root, "foo/coll_a1"))).toBe(true);
    expect(existsSync(join(w.root, "bar/coll_b1"))).toBe(true);
    expect((await w.run(["sync"])).code).toBe(0);
    w.write("foo/coll_a1/foo.ics", event("foo"));
    const s = await w.run(["sync"]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain("Syncing foobar/coll1\n");
    expect(s.stderr).toContain("Copying (uploading) item foo to bar/coll_b1\n");
    expect(w.files("bar/coll_b1")).toEqual(["foo.ics"]);
  });

  test("answering no at the prompt stops with vdirsyncer's message", async () => {
    const w = world();
    fsPair(w, 'collections = ["x"]');
    const d = await w.run(["discover"], { stdin: "n\n" });
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(
      'critical: Unable to find or create collection "x" for storage "foo". Please create the collection yourself.\n',
    );
  });

  test('implicit = "create" creates without asking', async () => {
    const w = world();
    fsPair(w, 'collections = ["x"]\nimplicit = "create"');
    const d = await w.run(["discover"]);
    expect(d.code).toBe(0);
    expect(d.stderr).not.toContain("[y/N]");
    expect(existsSync(join(w.root, "foo/x"))).toBe(true);
    expect(existsSync(join(w.root, "bar/x"))).toBe(true);
  });

  test("collections = null with missing folders: created by the check, then synced", async () => {
    const w = world();
    fsPair(w, "collections = null");
    const d = await w.run(["discover"]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain("warning: No collection null found for storage foo.\n");
    expect(d.stderr).toContain("Saved for foobar: collections = null\n");
    expect(existsSync(join(w.root, "foo"))).toBe(true);
    expect(existsSync(join(w.root, "bar"))).toBe(true);
    const cache = JSON.parse(w.read("status/foobar.collections"));
    expect(cache.collections).toEqual([[null, [{ collection: null }, { collection: null }]]]);
  });

  test("the cache holds only what differs from the section, and vdirsyncer's cache key", async () => {
    const w = world();
    w.writeConfig(`[general]
status_path = "{root}/status/"

[pair p]
a = "sa"
b = "sb"
collections = ["from a", "from b"]

[storage sa]
type = "filesystem"
path = "~/cal/a/"
fileext = ".ics"

[storage sb]
type = "filesystem"
path = "~/cal/b/"
fileext = ".ics"
`);
    // The spec's example key (status-format.md): the sections as written, with instance_name.
    const r = await w.run(["discover"]);
    expect(r.code).toBe(0);
    const text = w.read("status/p.collections");
    expect(text).toBe(
      '{"collections": [], "cache_key": "afec0f185f00a1c8540334238ee57e618867a8316eab96bf503206ce9620f4f5"}',
    );
  });

  test("a missing collection folder is re-created by sync after a warning", async () => {
    const w = world();
    fsPair(w, 'collections = ["c"]');
    for (const side of ["foo", "bar"]) w.write(`${side}/c/.keep`, "");
    await w.run(["discover"]);
    rmSync(join(w.root, "bar/c"), { recursive: true });
    const r = await w.run(["sync"]);
    expect(r.stderr).toContain('No collection "c" found for storage bar.\n');
    expect(existsSync(join(w.root, "bar/c"))).toBe(true);
    expect(r.code).toBe(0);
  });
});

describe("collections = null between filesystem and singlefile", () => {
  test("a named filesystem collection paired with a single file", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = [["baz", "baz", null]]

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".txt"

[storage bar]
type = "singlefile"
path = "{root}/bar.txt"
`);
    const d = await w.run(["discover"], { stdin: "y\ny\n" });
    expect(d.code).toBe(0);
    expect(existsSync(join(w.root, "foo/baz"))).toBe(true);
    expect(existsSync(join(w.root, "bar.txt"))).toBe(true);
    w.write("foo/baz/lol.txt", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:HAHA\r\nFN:Haha\r\nEND:VCARD\r\n");
    const s = await w.run(["sync"]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain("Copying (uploading) item HAHA to bar\n");
    expect(w.read("bar.txt")).toContain("UID:HAHA");
  });
});

describe("dry run, --json and progress", () => {
  async function prepared(w: World) {
    fsPair(w, 'collections = ["c"]');
    w.write("foo/c/one.ics", event("one"));
    w.write("foo/c/two.ics", event("two"));
    w.write("bar/c/three.ics", event("three"));
    await w.run(["discover"]);
  }

  test("--dry-run prints the plan and writes nothing, not even the status", async () => {
    const w = world();
    await prepared(w);
    const before = snapshot(w.root);
    const r = await w.run(["sync", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Would copy (upload) item one to bar/c\n");
    expect(r.stderr).toContain("Would copy (upload) item two to bar/c\n");
    expect(r.stderr).toContain("Would copy (upload) item three to foo/c\n");
    expect(r.stderr).not.toContain("Copying (uploading)");
    expect(snapshot(w.root)).toEqual(before);
    // After a real sync and a change, the dry run reads the status and plans only the change.
    await w.run(["sync"]);
    rmSync(join(w.root, "bar/c/one.ics"));
    w.write("foo/c/two.ics", event("two", "changed"));
    const before2 = snapshot(w.root);
    const r2 = await w.run(["sync", "--dry-run"]);
    expect(r2.stderr).toContain("Would delete item one from foo/c\n");
    expect(r2.stderr).toContain("Would copy (update) item two to bar/c\n");
    expect(r2.stderr).not.toContain("three");
    expect(snapshot(w.root)).toEqual(before2);
  });

  test("--dry-run with a missing collection says it would create it, and creates nothing", async () => {
    const w = world();
    await prepared(w);
    rmSync(join(w.root, "bar/c"), { recursive: true });
    const before = snapshot(w.root);
    const r = await w.run(["sync", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Would create collection "c" for storage bar/c\n');
    expect(r.stderr).toContain("Would copy (upload) item one to bar/c\n");
    expect(snapshot(w.root)).toEqual(before);
  });

  test("--json still ends with a summary when the command fails before syncing", async () => {
    const w = world();
    fsPair(w, "collections = null");
    const r = await w.run(["sync", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      event: "summary",
      ok: false,
      collections: 0,
      uploads: 0,
      updates: 0,
      deletes: 0,
      conflicts: 0,
      errors: 1,
    });
    expect(r.stderr).toContain("before synchronization");
  });

  test("--json prints one object per event and a summary that adds up", async () => {
    const w = world();
    await prepared(w);
    const r = await w.run(["sync", "--json"]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === "listed")).toHaveLength(2);
    expect(events.filter((e) => e.event === "planned")).toHaveLength(1);
    const done = events.filter((e) => e.event === "action" && e.status === "done");
    expect(done).toHaveLength(3);
    expect(events.find((e) => e.event === "collection")).toMatchObject({
      collection: "foobar/c",
      status: "done",
      uploads: 3,
    });
    expect(events.at(-1)).toEqual({
      event: "summary",
      ok: true,
      collections: 1,
      uploads: 3,
      updates: 0,
      deletes: 0,
      conflicts: 0,
      errors: 0,
      stats: {
        requests: 0,
        bytesSent: 0,
        bytesReceived: 0,
        retries: 0,
        itemsRead: 3,
        itemsWritten: 3,
        itemsDeleted: 0,
        wallMs: expect.any(Number),
      },
    });
    // Human lines stay on stderr.
    expect(r.stderr).toContain("Copying (uploading) item one to bar/c\n");
  });

  test("--json reports failures and ok: false", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/a.ics", event("x"));
    w.write("foo/b.ics", event("x", "again"));
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    const r = await w.run(["sync", "--json"]);
    expect(r.code).toBe(1);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === "collection")).toMatchObject({ status: "failed", errors: 1 });
    expect(events.at(-1)).toMatchObject({ event: "summary", ok: false, errors: 1 });
  });

  test("progress never appears when piped, and is cleared on a terminal", async () => {
    const w = world();
    await prepared(w);
    const piped = await w.run(["sync"]);
    expect(piped.stderr).not.toContain("\x1b[");
    expect(piped.stderr).not.toMatch(/\d+\/\d+/);
    const w2 = world();
    await prepared(w2);
    const tty = await w2.run(["sync"], { tty: true });
    expect(tty.stderr).toMatch(/foobar\/c +\d+\/3\n/);
    // Every drawn block is erased: what stays on the screen is the log lines only.
    const screen = renderScreen(tty.stderr);
    // Actions run concurrently, so their lines come in any order.
    expect(screen.split("\n").sort()).toEqual([
      "",
      "Copying (uploading) item one to bar/c",
      "Copying (uploading) item three to foo/c",
      "Copying (uploading) item two to bar/c",
      "Syncing foobar/c",
    ]);
  });
});

describe("exit codes", () => {
  test("0 on success, 1 on an error inside a command, 2 on a usage error", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/.keep", "");
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    expect((await w.run(["sync", "unknown"])).code).toBe(1);
    expect((await w.run(["sync", "--force-delete=maybe", "--what"])).code).toBe(2);
    writeFileSync(w.config, "[general]\nstatus_path = nope\n");
    expect((await w.run(["sync"])).code).toBe(1);
  });
});
