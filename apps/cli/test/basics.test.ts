import { describe, expect, test } from "vitest";
import { VERSION } from "../src/index.ts";
import { event, general, world } from "./helpers.ts";

describe("global options", () => {
  test("--version prints vdirsyncer's line on stdout", async () => {
    const w = world();
    const r = await w.run(["--version"]);
    expect(r).toEqual({ code: 0, stdout: `vdirsyncer, version ${VERSION}\n`, stderr: "" });
  });

  test("an invalid verbosity is a usage error with exit code 2", async () => {
    const w = world();
    w.writeConfig(general(w.root));
    const r = await w.run(["--verbosity=HAHA", "sync"]);
    expect(r.code).toBe(2);
    expect(r.stderr.toLowerCase()).toContain("invalid value for '-v' / '--verbosity'");
    expect(r.stderr).toContain("not HAHA");
    expect(r.stdout).toBe("");
  });

  test("verbosity is case-insensitive and -vdebug works as in click", async () => {
    const w = world();
    w.writeConfig(general(w.root));
    expect((await w.run(["-v", "debug", "sync"])).code).toBe(0);
    expect((await w.run(["-vwarning", "sync"])).code).toBe(0);
  });

  test("an unknown option is a usage error", async () => {
    const w = world();
    const r = await w.run(["sync", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: vdirsyncer");
  });

  test("no pairs configured: empty output, exit 0", async () => {
    const w = world();
    w.writeConfig(general(w.root));
    expect(await w.run(["sync"])).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("a missing config file is a critical error with exit code 1", async () => {
    const w = world();
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^critical: Error during reading config /);
    expect(r.stderr).toContain("\nhint: ");
  });
});

describe("discover and sync", () => {
  test("two filesystem storages with from a / from b", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ["from a", "from b"]

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
`);
    w.write("foo/work/one.ics", event("one"));
    w.write("bar/home/two.ics", event("two"));
    const d = await w.run(["discover"], { stdin: "y\ny\n" });
    expect(d.stderr).toContain(
      'warning: No collection "work" found for storage bar.\nShould vdirsyncer attempt to create it? [y/N]: ',
    );
    expect(d.stderr).toContain("Discovering collections for pair foobar\n");
    expect(d.stderr).toContain('foo:\n  - "work"\n');
    expect(d.stderr).toContain('Saved for foobar: collections = ["work", "home"]\n');
    expect(d.code).toBe(0);
    const s = await w.run(["sync"]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain("Syncing foobar/work\n");
    expect(s.stderr).toContain("Copying (uploading) item one to bar/work\n");
    expect(s.stderr).toContain("Copying (uploading) item two to foo/home\n");
    expect(w.files("bar/work")).toEqual(["one.ics"]);
    expect(w.files("foo/home")).toEqual(["two.ics"]);
    const again = await w.run(["sync"]);
    expect(again).toEqual({ code: 0, stdout: "", stderr: "Syncing foobar/work\nSyncing foobar/home\n" });
  });
});
