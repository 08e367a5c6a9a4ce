import { describe, expect, test } from "vitest";
import { general, world } from "./helpers.ts";

describe("metasync", () => {
  test("copies displayname and color between two vdirs and keeps a status", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ["from a"]
metadata = ["displayname", "color"]

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
`);
    w.write("foo/work/displayname", "Work");
    w.write("foo/work/color", "#ff0000");
    w.write("bar/work/.keep", "");
    const d = await w.run(["discover"]);
    expect(d.stderr).toContain('foo:\n  - "work" ("Work")\n');
    const r = await w.run(["metasync"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Metasyncing foobar/work\n");
    expect(r.stderr).toContain("Copying displayname to bar/work\n");
    expect(r.stderr).toContain("Copying color to bar/work\n");
    expect(w.read("bar/work/displayname")).toBe("Work");
    expect(w.read("bar/work/color")).toBe("#ff0000");
    expect(JSON.parse(w.read("status/foobar/work.metadata"))).toEqual({
      displayname: "Work",
      color: "#ff0000",
    });
    // A change on b goes to a.
    w.write("bar/work/color", "#00ff00");
    const back = await w.run(["metasync", "foobar/work"]);
    expect(back.stderr).toContain("Copying color to foo/work\n");
    expect(w.read("foo/work/color")).toBe("#00ff00");
  });

  test("a metadata conflict is an unknown error naming the key, exit code 1", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null
metadata = ["color"]

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
`);
    w.write("foo/color", "#ff0000");
    w.write("bar/color", "#0000ff");
    await w.run(["discover"]);
    const r = await w.run(["metasync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: Unknown error occurred for foobar: color\nerror: Use `-vdebug` to see the full traceback.\nhint: ",
    );
  });

  test("no pairs configured: nothing printed, exit 0", async () => {
    const w = world();
    w.writeConfig(general(w.root));
    expect(await w.run(["metasync"])).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});

describe("showconfig", () => {
  test("prints the raw storage sections with instance_name as indented JSON on stdout", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".txt"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".txt"
password.fetch = ["command", "echo", "secret"]
`);
    const r = await w.run(["showconfig"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      storages: [
        { type: "filesystem", path: `${w.root}/foo/`, fileext: ".txt", instance_name: "foo" },
        {
          type: "filesystem",
          path: `${w.root}/bar/`,
          fileext: ".txt",
          "password.fetch": ["command", "echo", "secret"],
          instance_name: "bar",
        },
      ],
    });
    expect(r.stdout).toContain('{\n  "storages": [\n    {\n      "type": "filesystem",\n');
  });

  test("masks passwords, tokens and URL credentials, and keeps everything else as written", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[storage dav]
type = "caldav"
url = "https://alice:hunter2%40x@dav.example.org/cal/"
username = "alice"
password = "hunter2@x"
read_only = true

[storage g]
type = "google_calendar"
token_file = "{root}/token"
client_id = "id.apps"
client_secret = "s3cret-client"
`);
    const r = await w.run(["showconfig"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/hunter2|s3cret-client/);
    expect(JSON.parse(r.stdout)).toEqual({
      storages: [
        {
          type: "caldav",
          url: "https://********@dav.example.org/cal/",
          username: "alice",
          password: "********",
          read_only: true,
          instance_name: "dav",
        },
        {
          type: "google_calendar",
          token_file: `${w.root}/token`,
          client_id: "id.apps",
          client_secret: "********",
          instance_name: "g",
        },
      ],
    });
  });
});
