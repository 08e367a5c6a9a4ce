import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { READ_ONLY_ONLY as HTTP_READ_ONLY_ONLY } from "@vdirsyncer/storage-http";
import { describe, expect, test } from "vitest";
import { pluginRequest } from "../src/index.ts";
import { READ_ONLY_ONLY } from "../src/storages.ts";
import { event, general, type World, world } from "./helpers.ts";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "vdirsyncer-storage-notes");
/** The repository's example third-party plugin (examples/storage-json), resolved by its type like any other. */
const EXAMPLE_JSON = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "examples",
  "storage-json",
);

function pairWith(w: World, bar: string): void {
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
${bar}
`);
  w.write("foo/.keep", "");
}

describe("plugin resolution", () => {
  test("type names map to packages", () => {
    expect(pluginRequest("filesystem")).toEqual({
      type: "filesystem",
      packages: ["@vdirsyncer/storage-filesystem"],
      firstParty: true,
    });
    expect(pluginRequest("filesystem/icalendar").type).toBe("filesystem");
    expect(pluginRequest("google_contacts").packages).toEqual(["@vdirsyncer/storage-google"]);
    expect(pluginRequest("notes").packages).toEqual([
      "@vdirsyncer/storage-notes",
      "vdirsyncer-storage-notes",
    ]);
    expect(pluginRequest("@acme/vdirsyncer-storage-x")).toEqual({
      type: undefined,
      packages: ["@acme/vdirsyncer-storage-x"],
      firstParty: false,
    });
  });

  test("a third-party plugin next to the config is found by its type and syncs", async () => {
    const w = world();
    mkdirSync(join(w.root, "node_modules"));
    symlinkSync(FIXTURE, join(w.root, "node_modules", "vdirsyncer-storage-notes"), "dir");
    pairWith(w, `type = "notes"\npath = "{root}/notes"`);
    w.write("foo/one.ics", event("one"));
    const d = await w.run(["discover"]);
    expect(d.stderr).toContain("No collection null found for storage bar.\n");
    expect(d.code).toBe(0);
    const s = await w.run(["sync"]);
    expect(s.stderr).toContain("Copying (uploading) item one to bar\n");
    expect(s.code).toBe(0);
    expect(w.read("notes/one.note")).toBe(event("one"));
    // The package name works as a type too.
    pairWith(w, `type = "vdirsyncer-storage-notes"\npath = "{root}/notes"`);
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).stderr).toBe("Syncing foobar\n");
  });

  test("the example plugin examples/storage-json is found by its type and syncs both ways", async () => {
    const w = world();
    mkdirSync(join(w.root, "node_modules"));
    symlinkSync(EXAMPLE_JSON, join(w.root, "node_modules", "vdirsyncer-storage-json"), "dir");
    pairWith(w, `type = "json"\npath = "{root}/calendar.json"`);
    w.write("foo/one.ics", event("one"));
    expect((await w.run(["discover"])).code).toBe(0);
    const s = await w.run(["sync"]);
    expect(s.stderr).toContain("Copying (uploading) item one to bar\n");
    expect(s.code).toBe(0);
    const stored = JSON.parse(w.read("calendar.json")) as { items: Record<string, { raw: string }> };
    expect(Object.values(stored.items).map((i) => i.raw)).toEqual([event("one")]);
    // An item added on the plugin's side comes back into the vdir.
    stored.items.two = { raw: event("two"), etag: '"x"' } as never;
    writeFileSync(join(w.root, "calendar.json"), JSON.stringify(stored));
    const back = await w.run(["sync"]);
    expect(back.stderr).toContain("Copying (uploading) item two to foo\n");
    expect(w.read("foo/two.ics")).toBe(event("two"));
  });

  test("a third-party plugin's schema errors are printed as vdirsyncer's init errors", async () => {
    const w = world();
    mkdirSync(join(w.root, "node_modules"));
    symlinkSync(FIXTURE, join(w.root, "node_modules", "vdirsyncer-storage-notes"), "dir");
    pairWith(w, `type = "notes"\npath = "{root}/notes"\ncolour = "red"`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: Failed to initialize bar\ncritical:   - notes storage doesn't take the parameters: colour\n",
    );
  });

  test("a missing plugin is named with its section; no package name is made up from the type", async () => {
    const w = world();
    pairWith(w, `type = "nothere"\npath = "{root}/x"`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `critical: Unknown storage type "nothere" in [storage bar] of ${w.config}, line 15.\n`,
    );
    expect(r.stderr).toMatch(/critical: {3}- Installed storages: .*filesystem/);
    expect(r.stderr).not.toContain("npm install");
  });

  test("http and the Google types come with the command: their own option checks answer", async () => {
    const w = world();
    pairWith(w, `type = "google_contacts"\ntoken_file = "{root}/token"`);
    const g = await w.run(["discover"]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain(
      "critical: Failed to initialize bar\ncritical:   - google_contacts storage requires the parameters: client_id, client_secret\n",
    );
    pairWith(w, `type = "http"\nurl = "https://example.org/a.ics"\nfileext = ".ics"`);
    const h = await w.run(["discover"]);
    expect(h.code).toBe(1);
    expect(h.stderr).toContain(
      "critical: Failed to initialize bar\ncritical:   - http storage doesn't take the parameters: fileext\n",
    );
  });

  test("read_only = false on a storage that can only read names the section; true or absent is fine", async () => {
    expect(READ_ONLY_ONLY).toBe(HTTP_READ_ONLY_ONLY);
    const w = world();
    pairWith(w, `type = "http"\nurl = "http://127.0.0.1:9/feed.ics"\nread_only = false`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: Failed to initialize bar\ncritical:   - This storage can only be read-only.\nhint: Remove `read_only = false` from [storage bar]: the http storage cannot write.\n",
    );
    // Nothing was saved: a later sync still asks for discover.
    expect(w.files("status")).toEqual([]);
    for (const line of ["read_only = true", ""]) {
      pairWith(w, `type = "http"\nurl = "http://127.0.0.1:9/feed.ics"\n${line}`);
      const ok = await w.run(["discover"]);
      expect(ok.stderr).not.toContain("read-only");
      expect(ok.code, ok.stderr).toBe(0);
    }
  });

  test("a plugin built for a newer contract version is refused", async () => {
    const w = world();
    const dir = join(w.root, "node_modules", "vdirsyncer-storage-future");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "vdirsyncer-storage-future", main: "index.js" }),
    );
    writeFileSync(
      join(dir, "index.js"),
      'export default { apiVersion: 3, type: "future", create() { throw new Error("never"); } };\n',
    );
    pairWith(w, `type = "future"`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: The storage plugin vdirsyncer-storage-future was built for plugin contract version 3; this vdirsyncer speaks version 2.\n",
    );
    expect(r.stderr).toContain("hint: This plugin needs a newer vdirsyncer");
  });

  test("filesystem/icalendar is the filesystem type; unknown and missing options are init errors", async () => {
    const w = world();
    pairWith(w, `type = "filesystem/icalendar"\npath = "{root}/bar/"\nfileext = ".ics"`);
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    pairWith(w, `type = "filesystem"\npath = "{root}/bar/"\nfoo = 1`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: Failed to initialize bar\ncritical:   - filesystem storage requires the parameters: fileext\ncritical:   - filesystem storage doesn't take the parameters: foo\n",
    );
  });
});
