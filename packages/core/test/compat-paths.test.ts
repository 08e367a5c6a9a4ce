import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandPath, expandUser, homeDirectory, pyDirname, pyJoin, pyNormpath } from "../src/compat/index.ts";
import { runPython } from "./python.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///",
  "////a",
  "//a//b/",
  "a/",
  "a//b",
  "a/./b",
  "a/../b",
  "../a",
  "../../a/..",
  "/..",
  "/../a",
  "a/b/../../..",
  "~",
  "~/",
  "~/x/../y/",
  "~user/x",
  "x/~",
  "https://example.com//a/../b",
  "./a/./",
  "a/..",
  "/etc/vdirsyncer/config",
  "config",
  "//x",
];

describe("path helpers match Python", () => {
  it("pyNormpath, expandUser, expandPath, pyJoin and pyDirname equal os.path and vdirsyncer's expand_path", () => {
    const expected = runPython<string[][]>(
      `
import json, os, sys
paths = json.load(sys.stdin)
os.environ["HOME"] = "/home/me/"
from vdirsyncer.utils import expand_path
print(json.dumps([
    [os.path.normpath(p) for p in paths],
    [os.path.expanduser(p) for p in paths],
    [expand_path(p) for p in paths],
    [os.path.join("/etc/x", p) for p in paths],
    [os.path.dirname(p) for p in paths],
]))
`,
      PATHS,
    );
    const home = { home: "/home/me/" };
    expect(PATHS.map((p) => pyNormpath(p))).toEqual(expected[0]);
    expect(PATHS.map((p) => expandUser(p, home))).toEqual(expected[1]);
    expect(PATHS.map((p) => expandPath(p, home))).toEqual(expected[2]);
    expect(PATHS.map((p) => pyJoin("/etc/x", p))).toEqual(expected[3]);
    expect(PATHS.map((p) => pyDirname(p))).toEqual(expected[4]);
  });

  it("expands ~ against a root home, or an empty HOME, as Python does", () => {
    const expected = runPython<string[]>(
      `
import json, os, sys
out = []
for home in ["/", "", "///"]:
    os.environ["HOME"] = home
    out += [os.path.expanduser("~"), os.path.expanduser("~/a")]
print(json.dumps(out))
`,
      null,
    );
    const ours = ["/", "", "///"].flatMap((home) => [expandUser("~", { home }), expandUser("~/a", { home })]);
    expect(ours).toEqual(expected);
  });

  it("expandUser only touches a leading ~ and normalises nothing", () => {
    expect(expandUser("~", { home: "/h" })).toBe("/h");
    expect(expandUser("~/a//b/../", { home: "/h" })).toBe("/h/a//b/../");
    expect(expandUser("a~/b", { home: "/h" })).toBe("a~/b");
    expect(expandUser("", { home: "/h" })).toBe("");
  });

  it("takes $HOME, else the account's home, when no home is given", () => {
    const saved = process.env.HOME;
    try {
      process.env.HOME = "/from/env";
      expect(expandPath("~/cal/")).toBe("/from/env/cal");
      delete process.env.HOME;
      expect(expandUser("~/cal")).toBe(`${homedir().replace(/\/+$/, "") || ""}/cal`);
    } finally {
      if (saved === undefined) delete process.env.HOME;
      else process.env.HOME = saved;
    }
  });

  it("makes the result absolute against the working directory with `absolute`", () => {
    expect(expandPath("rel/./x/", { absolute: true })).toBe(join(process.cwd(), "rel/x"));
    expect(expandPath("~/a/../b", { home: "/h", absolute: true })).toBe("/h/b");
    expect(expandPath("/a/b/../c.ics", { absolute: true })).toBe("/a/c.ics");
    expect(expandPath("rel/x", { home: "/h" })).toBe("rel/x");
  });
});

describe("homeDirectory()", () => {
  it("takes HOME from the given environment, even empty, else the account's home", () => {
    expect(homeDirectory({ HOME: "/x" })).toBe("/x");
    expect(homeDirectory({ HOME: "" })).toBe("");
    expect(homeDirectory({})).toBe(homedir());
  });
});
