import { describe, expect, it } from "vitest";
import { expandPath, expandTilde, pyJoin, pyNormpath } from "../src/index.ts";
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
];

describe("path helpers match Python", () => {
  it("pyNormpath equals os.path.normpath, expandPath equals vdirsyncer's expand_path", () => {
    const expected = runPython<[string[], string[], string[]]>(
      `
import json, os, sys
paths = json.load(sys.stdin)
os.environ["HOME"] = "/home/me/"
from vdirsyncer.utils import expand_path
print(json.dumps([[os.path.normpath(p) for p in paths], [expand_path(p) for p in paths], [os.path.join("/etc/x", p) for p in paths]]))
`,
      PATHS,
    );
    expect(PATHS.map((p) => pyNormpath(p))).toEqual(expected[0]);
    expect(PATHS.map((p) => expandPath(p, "/home/me/"))).toEqual(expected[1]);
    expect(PATHS.map((p) => pyJoin("/etc/x", p))).toEqual(expected[2]);
  });

  it("expandTilde only touches a leading ~", () => {
    expect(expandTilde("~", "/h")).toBe("/h");
    expect(expandTilde("~/a//b", "/h")).toBe("/h/a//b");
    expect(expandTilde("a~/b", "/h")).toBe("a~/b");
    expect(expandTilde("", "/h")).toBe("");
  });
});
