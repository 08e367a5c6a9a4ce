import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { general, world } from "./helpers.ts";

describe("fetch params", () => {
  test("type via shell, fileext via command and prompt; fetched values stay out of the cache", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ["a", "b", "c"]

[storage foo]
type.fetch = ["shell", "echo filesystem"]
path = "{root}/foo/"
fileext.fetch = ["command", "echo", ".txt"]

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext.fetch = ["prompt", "Fileext for bar"]
`);
    for (const side of ["foo", "bar"]) for (const c of "abc") w.write(`${side}/${c}/.keep`, "");
    const d = await w.run(["discover"], { stdin: ".asdf\n" });
    expect(d.stderr).toContain("Fileext for bar: ");
    expect(d.code).toBe(0);
    const cache = w.read("status/foobar.collections");
    expect(cache).toContain("foo");
    expect(cache).toContain("bar");
    expect(cache).not.toContain("asdf");
    expect(cache).not.toContain("txt");
    w.write("foo/a/foo.txt", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:foo\r\nFN:Foo\r\nEND:VCARD\r\n");
    const s = await w.run(["sync"], { stdin: ".asdf\n" });
    expect(s.code).toBe(0);
    expect(readdirSync(join(w.root, "bar/a")).filter((f) => f !== ".keep")).toEqual(["foo.asdf"]);
    // A different answer is a different config: the cache key includes fetched values.
    const changed = await w.run(["sync"], { stdin: ".other\n" });
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(
      "Detected change in config file, please run `vdirsyncer discover foobar`.",
    );
  });

  test("only the pairs being synced fetch their values", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".txt"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".txt"

[pair bambaz]
a = "bam"
b = "baz"
collections = null

[storage bam]
type = "filesystem"
path = "{root}/bam/"
fileext.fetch = ["command", "false"]

[storage baz]
type = "filesystem"
path = "{root}/baz/"
fileext = ".txt"
`);
    for (const n of ["foo", "bar"]) w.write(`${n}/.keep`, "");
    expect((await w.run(["discover", "foobar"])).code).toBe(0);
    expect((await w.run(["sync", "foobar"])).code).toBe(0);
    const all = await w.run(["sync"]);
    expect(all.code).toBe(1);
    expect(all.stderr).not.toContain("Syncing foobar");
  });
});
