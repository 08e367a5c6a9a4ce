import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { lockPair } from "@vdirsyncer/status";
import { describe, expect, test } from "vitest";
import { PAIR_LOCK } from "../src/pair-locks.ts";
import { event, general, type World, world } from "./helpers.ts";

function fsPair(w: World, pair: string): void {
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
${pair}

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".txt"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".txt"
`);
}

describe("collection names", () => {
  test.each([
    [["a", "A"]],
    [["\ufffe"]],
    [["Hello there!"]],
    [["Österreich"]],
    [["中国", "x1"]],
    [["한글"]],
    [["42a4ec99-b1c2-4859-b142-759112f2ca50"]],
    [["فلسطين"]],
  ])("%j are created on both sides and synced", async (names) => {
    const w = world();
    fsPair(w, `collections = ${JSON.stringify(names)}`);
    const d = await w.run(["discover"], { stdin: "y\n".repeat(2 * (names.length + 1)) });
    expect(d.code, d.stderr).toBe(0);
    // Python's json.dumps: non-ASCII as \\uXXXX.
    const saved = `[${names.map((n) => `"${[...n].map((c) => (c.charCodeAt(0) > 127 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c)).join("")}"`).join(", ")}]`;
    expect(d.stderr).toContain(`Saved for foobar: collections = ${saved}\n`);
    const s = await w.run(["sync", ...names.map((n) => `foobar/${n}`)]);
    expect(s.code, s.stderr).toBe(0);
    expect(readdirSync(join(w.root, "foo")).sort()).toEqual(readdirSync(join(w.root, "bar")).sort());
    expect(readdirSync(join(w.root, "foo")).sort()).toEqual([...names].sort());
  });
});

describe("error output", () => {
  test("a config error is critical, with its problem lines and a hint, exit 1", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
`);
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^critical: Error during reading config .*collections parameter missing/s);
    expect(r.stderr).toMatch(/\nhint: .+\n$/);
    for (const line of r.stderr.trimEnd().split("\n")) expect(line).toMatch(/^(critical: |hint: )/);
  });

  test("-v ERROR hides INFO lines; -v CRITICAL hides errors and their hints", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/a.txt", event("x"));
    w.write("foo/b.txt", event("x", "again"));
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    const err = await w.run(["-v", "ERROR", "sync"]);
    expect(err.code).toBe(1);
    expect(err.stderr).not.toContain("Syncing");
    expect(err.stderr).toContain('error: foobar: Storage "foo" contains multiple items');
    const crit = await w.run(["-v", "critical", "sync"]);
    expect(crit).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  test("an unexpected error says Unknown error and shows the traceback with -vdebug", async () => {
    const w = world();
    fsPair(w, 'collections = null\nconflict_resolution = ["command", "cp"]\nmetadata = ["color"]');
    w.write("foo/color", "red");
    w.write("bar/color", "blue");
    await w.run(["discover"]);
    const r = await w.run(["-vdebug", "metasync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("warning: Custom commands don't work on metasync.\n");
    expect(r.stderr).toContain("error: Unknown error occurred for foobar: color\n");
    expect(r.stderr).toMatch(/debug: .*at /);
  });

  test("a pair another sync holds is reported for that pair and its collections are not synced", async () => {
    const w = world();
    fsPair(w, "collections = null");
    w.write("foo/a.txt", event("a"));
    w.write("bar/.keep", "");
    await w.run(["discover"]);
    const lock = await lockPair(join(w.root, "status"), "foobar");
    // sync waits up to a minute for another sync of ours; this test does not need that long.
    PAIR_LOCK.waitMs = 200;
    try {
      const r = await w.run(["sync"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: foobar: Pair foobar is being synced by process \d+/);
      expect(r.stderr).toContain("\nhint: Wait for that sync to finish");
      expect(existsSync(join(w.root, "bar/a.txt"))).toBe(false);
    } finally {
      lock.release();
      PAIR_LOCK.waitMs = 60_000;
    }
    expect((await w.run(["sync"])).code).toBe(0);
    expect(existsSync(join(w.root, "bar/a.txt"))).toBe(true);
  });
});

describe("completion", () => {
  test("names come from the config and the discovery cache", async () => {
    const w = world();
    fsPair(w, 'collections = ["a", "b"]');
    for (const side of ["foo", "bar"]) for (const c of "ab") w.write(`${side}/${c}/.keep`, "");
    await w.run(["discover"]);
    expect((await w.run(["completion", "--names", "collections"])).stdout).toBe(
      "foobar\nfoobar/a\nfoobar/b\n",
    );
    expect((await w.run(["completion", "--names", "pairs"])).stdout).toBe("foobar\n");
    expect((await w.run(["completion", "--names", "storages"])).stdout).toBe("foo\nbar\n");
    const zsh = await w.run(["completion", "zsh"]);
    expect(zsh.stdout).toContain("compdef _vdirsyncer vdirsyncer");
  });
});
