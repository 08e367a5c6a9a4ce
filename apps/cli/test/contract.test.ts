/**
 * The command's side of the plugin contract: one hosted storage per section, collections opened from their
 * reference, plugin bugs named as such, plugin lookup (never the working directory), manifests, stats.
 * Everything here runs through third-party plugins written as their authors would (test/fixtures), so it does not
 * depend on any official storage.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EnvironmentError, IdentConflictError, StoppedError, VdirsyncerError } from "@vdirsyncer/core/engine";
import { beforeAll, describe, expect, test } from "vitest";
import { hintFor } from "../src/errors.ts";
import { closest, lookupPlaces, PluginResolver } from "../src/index.ts";
import { event, general, type World, world } from "./helpers.ts";
import { ensureBuiltPackage } from "./interop/built-bin.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const NOTES = join(FIXTURES, "vdirsyncer-storage-notes");

/** Installs a fixture plugin next to the config (the first lookup place). */
function install(w: World, fixture: string, as = fixture.split("/").at(-1) as string): void {
  mkdirSync(join(w.root, "node_modules"), { recursive: true });
  symlinkSync(fixture, join(w.root, "node_modules", as), "dir");
}

/** Writes a package (package.json + index.js) under `dir`. */
function writePackage(dir: string, manifest: Record<string, unknown>, code: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", main: "index.js", ...manifest }));
  writeFileSync(join(dir, "index.js"), code);
}

function notesPair(w: World, collections: string, extra = ""): void {
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ${collections}
${extra}

[storage foo]
type = "notes"
path = "{root}/foo"

[storage bar]
type = "notes"
path = "{root}/bar"
`);
}

describe("collections are opened from their reference", () => {
  test('collections = ["from a", "from b"]: each item lands in its own collection, and the cache keeps vdirsyncer\'s shape', async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, '["from a", "from b"]');
    w.write("foo/work/w1.note", event("w1"));
    w.write("foo/work/w2.note", event("w2"));
    w.write("foo/home/h1.note", event("h1"));
    w.write("bar/trips/t1.note", event("t1"));
    const d = await w.run(["discover"], { stdin: "y\ny\ny\n" });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain('Saved for foobar: collections = ["home", "work", "trips"]');
    // Nothing but the id selects a notes collection: the cache holds the name only, as vdirsyncer would write it.
    const cache = JSON.parse(w.read("status/foobar.collections")) as { collections: unknown[] };
    expect(cache.collections).toEqual([
      ["home", [{ collection: "home" }, { collection: "home" }]],
      ["work", [{ collection: "work" }, { collection: "work" }]],
      ["trips", [{ collection: "trips" }, { collection: "trips" }]],
    ]);
    const s = await w.run(["sync"]);
    expect(s.code, s.stderr).toBe(0);
    expect(w.files("bar")).toEqual(["home/h1.note", "trips/t1.note", "work/w1.note", "work/w2.note"]);
    expect(w.files("foo")).toEqual(["home/h1.note", "trips/t1.note", "work/w1.note", "work/w2.note"]);
    expect(w.read("bar/work/w2.note")).toBe(event("w2"));
    // A second run has nothing to do.
    const again = await w.run(["sync"]);
    expect(again.stderr).not.toContain("Copying");
    expect(again.code).toBe(0);
  });

  test("a collection missing at sync time is created, as vdirsyncer does, in the right place", async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, '["from a"]');
    w.write("foo/work/w1.note", event("w1"));
    expect((await w.run(["discover"], { stdin: "y\n" })).code).toBe(0);
    // Someone removed the folder on b after discover.
    w.write("bar/.keep", "");
    const { rmSync } = await import("node:fs");
    rmSync(join(w.root, "bar", "work"), { recursive: true });
    const s = await w.run(["sync"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toContain('warning: No collection "work" found for storage bar.');
    expect(w.files("bar")).toEqual([".keep", "work/w1.note"]);
  });

  test("one storage per section per run, closed at the end of every command", async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, '["from a", "from b"]');
    for (const c of ["one", "two", "three"]) w.write(`foo/${c}/${c}.note`, event(c));
    for (const args of [["discover"], ["sync"], ["sync", "--dry-run"], ["metasync"]]) {
      const r = await w.run(["-vdebug", ...args], { stdin: "y\ny\ny\n" });
      expect(r.code, r.stderr).toBe(0);
      for (const side of ["foo", "bar"]) {
        expect(r.stderr.split(`debug: notes: storage ${side} created`).length - 1, `${args} ${side}`).toBe(1);
        expect(r.stderr.split(`debug: notes: storage ${side} closed`).length - 1, `${args} ${side}`).toBe(1);
      }
    }
  });

  test("storages are closed after an error too", async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, '["from a"]');
    w.write("foo/work/w1.note", event("w1"));
    // "no" to creating the collection on b: discover fails.
    const r = await w.run(["-vdebug", "discover"], { stdin: "n\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("debug: notes: storage bar closed");
  });
});

/** A plugin with a bug: upload() throws a TypeError in the collection "broken". No core import needed. */
const BUGGY = `
const store = new Map();
const schema = { "~standard": { version: 1, vendor: "buggy", validate: (v) => ({ value: v }) } };
export default {
  apiVersion: 2,
  type: "buggy",
  summary: "A plugin with a bug.",
  itemKinds: ["calendar"],
  capabilities: { readOnly: false, discover: false, createCollection: true, metadata: [], ctag: false,
    syncToken: false, batchGet: false, watch: false },
  options: schema,
  create: () => ({
    open(ref) {
      const id = ref === null ? "" : ref.id;
      const items = store.get(id) ?? new Map();
      store.set(id, items);
      return {
        async *list() { for (const [href, v] of items) yield { href, etag: v.etag }; },
        async get(href) { const v = items.get(href); return { href, etag: v.etag, item: v.item }; },
        async upload(item) {
          if (id === "broken") return item.nothing.here;
          const href = item.ident + ".ics";
          items.set(href, { item, etag: "1" });
          return { href, etag: "1" };
        },
        async update(href, item) { items.set(href, { item, etag: "2" }); return { href, etag: "2" }; },
        async delete(href) { items.delete(href); },
      };
    },
    createCollection(id) { return { id: id ?? "", href: id ?? "", config: {} }; },
  }),
};
`;

describe("errors name their source", () => {
  test("a plugin's TypeError names the plugin and where to report it; the other collections still sync", async () => {
    const w = world();
    install(w, NOTES);
    writePackage(
      join(w.root, "node_modules", "vdirsyncer-storage-buggy"),
      {
        name: "vdirsyncer-storage-buggy",
        version: "0.3.1",
        bugs: { url: "https://example.org/buggy/issues" },
        vdirsyncer: { apiVersion: 2, storages: ["buggy"] },
      },
      BUGGY,
    );
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ["from a"]

[storage foo]
type = "notes"
path = "{root}/foo"

[storage bar]
type = "buggy"
`);
    w.write("foo/broken/b1.note", event("b1"));
    w.write("foo/fine/f1.note", event("f1"));
    expect((await w.run(["discover"], { stdin: "y\ny\n" })).code).toBe(0);
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error: foobar/broken: the buggy storage (vdirsyncer-storage-buggy 0.3.1) failed in upload(): TypeError: ",
    );
    expect(r.stderr).toContain(
      "hint: This is a bug in vdirsyncer-storage-buggy, not in your config; report it at https://example.org/buggy/issues",
    );
    expect(r.stderr).not.toContain("Check the config file");
    expect(r.stderr).toContain("Copying (uploading) item f1 to bar/fine\n");
    expect(r.stderr).not.toMatch(/error: foobar\/fine/);
  });

  test("hints by code: the engine's errors get the command's hints", () => {
    expect(hintFor(new IdentConflictError("foo/work", ["a.ics", "b.ics"]))).toBe(
      "Run `vdirsyncer repair foo/work` after making a backup.",
    );
    for (const code of ["LOCKED", "status/LOCKED"] as const) {
      expect(hintFor(new VdirsyncerError(code as "status/LOCKED", "locked"))).toMatch(
        /^Wait for the other sync/,
      );
    }
    expect(hintFor(new EnvironmentError("ENOSPC", "disk full"))).toMatch(/The disk is full/);
    expect(hintFor(new StoppedError())).toMatch(/stopped/);
    expect(hintFor(new VdirsyncerError("INTERNAL", "oops"))).toMatch(/bug in vdirsyncer.*issues/);
  });
});

describe("plugin lookup", () => {
  test("a plugin in node_modules of the working directory is never imported", async () => {
    const w = world();
    const checkout = join(w.root, "checkout");
    const marker = join(w.root, "imported");
    for (const name of ["vdirsyncer-storage-evil", "@vdirsyncer/storage-evil"]) {
      writePackage(
        join(checkout, "node_modules", name),
        { name, version: "6.6.6", vdirsyncer: { apiVersion: 2, storages: ["evil"] } },
        `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`,
      );
    }
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "evil"

[storage bar]
type = "evil"
`);
    const r = await w.run(["discover"], { cwd: checkout });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('critical: Unknown storage type "evil" in [storage foo]');
    expect(existsSync(marker)).toBe(false);
    const listed = await w.run(["plugins", "--json"], { cwd: checkout });
    expect(listed.stdout).not.toContain("evil");
    expect(existsSync(marker)).toBe(false);
  });

  test("npm's global folder is searched, after the config's folder", async () => {
    const w = world();
    const global = join(w.root, "npm-global", "lib", "node_modules");
    mkdirSync(global, { recursive: true });
    symlinkSync(NOTES, join(global, "vdirsyncer-storage-notes"), "dir");
    notesPair(w, "null");
    w.write("foo/one.note", event("one"));
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    expect(w.files("bar")).toEqual([".keep", "one.note"]);
    const listed = JSON.parse((await w.run(["plugins", "--json"])).stdout) as {
      storages: { type: string; package: string; place: string; apiVersion: number; version: string }[];
    };
    expect(listed.storages.find((s) => s.type === "notes")).toMatchObject({
      package: "vdirsyncer-storage-notes",
      version: "1.0.0",
      apiVersion: 2,
      place: "global",
    });
  });

  test("`plugins` lists the storages found, reading package.json files only", async () => {
    const w = world();
    install(w, NOTES);
    const marker = join(w.root, "imported");
    writePackage(
      join(w.root, "node_modules", "vdirsyncer-storage-loud"),
      {
        name: "vdirsyncer-storage-loud",
        version: "2.0.0",
        vdirsyncer: { apiVersion: 2, storages: ["loud"] },
      },
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`,
    );
    notesPair(w, "null");
    const r = await w.run(["plugins", "--json"]);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as {
      apiVersion: number;
      storages: { type: string; package: string; place: string }[];
    };
    expect(listed.apiVersion).toBe(2);
    const types = listed.storages.map((s) => s.type);
    expect(types).toEqual(
      expect.arrayContaining(["notes", "loud", "filesystem", "caldav", "google_contacts"]),
    );
    expect(listed.storages.find((s) => s.type === "notes")?.place).toBe("config");
    expect(listed.storages.find((s) => s.type === "filesystem")).toMatchObject({
      package: "@vdirsyncer/storage-filesystem",
      place: "command",
    });
    const text = await w.run(["plugins"]);
    expect(text.stdout).toMatch(/^TYPE\s+PACKAGE\s+VERSION\s+CONTRACT\s+FOUND$/m);
    expect(text.stdout).toMatch(/^loud\s+vdirsyncer-storage-loud\s+2\.0\.0\s+2\s+next to the config file: /m);
    expect(existsSync(marker)).toBe(false);
  });

  test("an unknown type answers with the closest known one and the installed ones, never a name built from the typo", async () => {
    const w = world();
    install(w, NOTES);
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "notes"
path = "{root}/foo"

[storage bar]
type = "filesytem"
path = "{root}/bar"
`);
    const r = await w.run(["discover"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `critical: Unknown storage type "filesytem" in [storage bar] of ${w.config}, line 14.\ncritical:   - Did you mean "filesystem"?\ncritical:   - Installed storages: `,
    );
    expect(r.stderr).toMatch(/Installed storages: .*\bnotes\b/);
    expect(r.stderr).toMatch(/Installed storages: .*\bfilesystem\b/);
    expect(r.stderr).toContain('hint: Write type = "filesystem" in [storage bar]');
    expect(r.stderr).not.toContain("npm install");
    expect(r.stderr).not.toContain("storage-filesytem");
  });

  test("an official type that is not installed names its real package; an unknown one suggests no package", async () => {
    const w = world();
    const empty = join(w.root, "empty");
    mkdirSync(empty);
    const resolver = new PluginResolver(
      lookupPlaces({ configDir: empty, env: { npm_config_prefix: empty }, commandDir: empty }),
    );
    await expect(resolver.load("caldav")).rejects.toMatchObject({
      hint: expect.stringContaining("npm install -g @vdirsyncer/storage-caldav"),
    });
    const err = await resolver.load("calddav", { section: "storage x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'Unknown storage type "calddav" in [storage x].' });
    expect((err as { hint: string }).hint).toContain("npm install -g @vdirsyncer/storage-caldav");
    const far = await resolver.load("notes").catch((e: unknown) => e);
    expect((far as { hint: string }).hint).not.toContain("npm install");
    expect(closest("filesytem", ["filesystem", "singlefile"])).toBe("filesystem");
    expect(closest("gogle_calendar", ["google_calendar", "google_contacts"])).toBe("google_calendar");
    expect(closest("ftp", ["http", "caldav"])).toBeUndefined();
  });

  test("a plugin built for contract version 1 is refused with what to do, before its code runs", async () => {
    const w = world();
    const marker = join(w.root, "imported");
    writePackage(
      join(w.root, "node_modules", "vdirsyncer-storage-old"),
      { name: "vdirsyncer-storage-old", version: "0.9.0", vdirsyncer: { apiVersion: 1, storages: ["old"] } },
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`,
    );
    // Without a manifest, the definition itself says which version it was built for.
    writePackage(
      join(w.root, "node_modules", "vdirsyncer-storage-older"),
      { name: "vdirsyncer-storage-older", version: "0.1.0" },
      'export default { apiVersion: 1, type: "older", create() { throw new Error("never"); } };\n',
    );
    for (const [type, pkg] of [
      ["old", "vdirsyncer-storage-old 0.9.0"],
      ["older", "vdirsyncer-storage-older 0.1.0"],
    ]) {
      w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "${type}"

[storage bar]
type = "${type}"
`);
      const r = await w.run(["discover"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `critical: The storage plugin ${pkg} was built for plugin contract version 1; this vdirsyncer speaks version 2.\n`,
      );
      expect(r.stderr).toMatch(/hint: Upgrade the plugin to a version made for contract 2/);
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe("concurrency is the hosted storage's", () => {
  const EXAMPLE_JSON = join(FIXTURES, "..", "..", "..", "..", "examples", "storage-json");
  // Installed like a third-party package, the example runs from its dist.
  beforeAll(() => ensureBuiltPackage(EXAMPLE_JSON), 300_000);

  test("50 events into the json example (one file rewritten per write, no concurrency declared): 50 arrive, a dry run plans nothing", async () => {
    const w = world();
    install(w, NOTES);
    install(w, EXAMPLE_JSON, "vdirsyncer-storage-json");
    w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null

[storage foo]
type = "notes"
path = "{root}/foo"

[storage bar]
type = "json"
path = "{root}/calendar.json"
`);
    for (let i = 0; i < 50; i++) w.write(`foo/e${i}.note`, event(`e${i}`));
    const d = await w.run(["discover"]);
    expect(d.code, d.stderr).toBe(0);
    const s = await w.run(["sync"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr.split("\n").filter((l) => l.startsWith("Copying (uploading) item"))).toHaveLength(50);
    const stored = JSON.parse(w.read("calendar.json")) as { items: Record<string, { raw: string }> };
    const raws = Object.values(stored.items).map((i) => i.raw);
    expect(raws).toHaveLength(50);
    expect(new Set(raws).size).toBe(50);
    const dry = await w.run(["sync", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe("Syncing foobar\nDry run: nothing was written.\n");
  });
});

describe("stats", () => {
  test("sync --json adds each collection's counters; -vdebug prints a tally line per collection", async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, '["from a"]');
    for (const uid of ["a1", "a2", "a3"]) w.write(`foo/work/${uid}.note`, event(uid));
    w.write("foo/home/h1.note", event("h1"));
    expect((await w.run(["discover"], { stdin: "y\ny\n" })).code).toBe(0);
    const r = await w.run(["sync", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const work = events.find((e) => e.event === "collection" && e.collection === "foobar/work");
    expect(work).toMatchObject({ uploads: 3, stats: { itemsWritten: 3, itemsRead: 3, itemsDeleted: 0 } });
    expect(typeof (work?.stats as { wallMs?: number } | undefined)?.wallMs).toBe("number");
    const summary = events.at(-1);
    expect(summary).toMatchObject({
      event: "summary",
      ok: true,
      collections: 2,
      uploads: 4,
      stats: { itemsWritten: 4, itemsRead: 4, requests: 0 },
    });
    w.write("foo/home/h2.note", event("h2"));
    const d = await w.run(["-vdebug", "sync"]);
    expect(d.stderr).toMatch(
      /^debug: foobar\/home: 0 requests, 0 B sent, 0 B received, 0 retries, 1 read, 1 written, 0 deleted, \d+\.\d s$/m,
    );
    expect(d.stderr).toMatch(/^debug: foobar\/work: .* 0 read, 0 written, 0 deleted, /m);
  });
});

describe("signals", () => {
  test("in process: a stop before the sync starts leaves everything for the next run, exit 130", async () => {
    const w = world();
    install(w, NOTES);
    notesPair(w, "null");
    w.write("foo/one.note", event("one"));
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    const { EventEmitter } = await import("node:events");
    const signals = new EventEmitter();
    // The signal arrives as soon as the command listens, before any collection started: nothing starts.
    const pending = w.run(["sync"], { signals: signals as never });
    while (signals.listenerCount("SIGINT") === 0) await new Promise((r) => setImmediate(r));
    signals.emit("SIGINT");
    const r = await pending;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("warning: Received SIGINT: stopping.");
    expect(w.files("bar")).toEqual([".keep"]);
    expect(signals.listenerCount("SIGINT")).toBe(0);
    expect(existsSync(join(w.root, "status", "foobar.lock"))).toBe(false);
    const after = await w.run(["sync"]);
    expect(after.code).toBe(0);
    expect(readFileSync(join(w.root, "bar", "one.note"), "utf8")).toBe(event("one"));
  });
});
