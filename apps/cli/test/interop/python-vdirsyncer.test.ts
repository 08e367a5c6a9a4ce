/**
 * Python vdirsyncer and our built command take turns on one config and one status folder: each continues
 * where the other stopped, transfers only what changed since the last turn (each change once), and loses
 * nothing.
 */
import { accessSync, constants, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { VERSION } from "../../src/index.ts";
import { describeRun, ensureBuilt, type Ran, Sandbox } from "./built-bin.ts";

/** Debian's Python vdirsyncer, by its absolute path: a `vdirsyncer` on the PATH may be ours. */
const PYTHON_VDIRSYNCER = "/usr/bin/vdirsyncer";

let python: string;
let box: Sandbox;

beforeAll(() => {
  try {
    accessSync(PYTHON_VDIRSYNCER, constants.X_OK);
  } catch {
    throw new Error(
      `${PYTHON_VDIRSYNCER} is missing, and the interop tests need Python vdirsyncer: apt-get install vdirsyncer.`,
    );
  }
  python = PYTHON_VDIRSYNCER;
  ensureBuilt();
  box = new Sandbox("vdirsyncer-turns-");
}, 300_000);

test("the reference is the real Python vdirsyncer, not this command", () => {
  expect(readFileSync(python, "utf8").split("\n")[0]).toMatch(/^#!.*python3/);
  const r = box.run(python, ["--version"]);
  expect(r.code, describeRun(r)).toBe(0);
  expect(r.stdout).toMatch(/^vdirsyncer, version 0\.\d+\.\d+/);
  expect(r.stdout).not.toBe(`vdirsyncer, version ${VERSION}\n`);
});

afterAll(() => box?.dispose());

const CONFIG = `[general]
status_path = "~/status/"

[pair fs]
a = "fs_a"
b = "fs_b"
collections = ["from a", "from b"]
conflict_resolution = "a wins"

[storage fs_a]
type = "filesystem"
path = "~/a/"
fileext = ".ics"

[storage fs_b]
type = "filesystem"
path = "~/b/"
fileext = ".ics"

[pair single]
a = "one_vdir"
b = "one_file"
collections = null

[storage one_vdir]
type = "filesystem"
path = "~/onevdir/"
fileext = ".ics"

[storage one_file]
type = "singlefile"
path = "~/one.ics"
`;

type Side = "a" | "b";
const other = (s: Side): Side => (s === "a" ? "b" : "a");

/** One event; the summary is what the test tracks. */
function vevent(uid: string, summary: string): string[] {
  return ["BEGIN:VEVENT", `UID:${uid}`, "DTSTART:20250401T090000Z", `SUMMARY:${summary}`, "END:VEVENT"];
}

function calendar(events: string[][]): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//interop turns//EN",
    ...events.flat(),
    "END:VCALENDAR",
  ];
  return `${lines.join("\r\n")}\r\n`;
}

/** uid → summary of every VEVENT in `text`; a UID seen twice fails the test. */
function eventsOf(text: string, where: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split("BEGIN:VEVENT").slice(1)) {
    const uid = /^UID:(.*?)\r?$/m.exec(block)?.[1] as string;
    const summary = /^SUMMARY:(.*?)\r?$/m.exec(block)?.[1] as string;
    expect(out.has(uid), `${uid} twice in ${where}`).toBe(false);
    out.set(uid, summary);
  }
  return out;
}

/**
 * The expected contents of both pairs, and the log lines the next turn must print. Every edit goes through
 * here, so the expectation is written next to the change that causes it.
 */
class World {
  /** Pair fs: collection → uid → summary (the same on both sides once synced). */
  readonly fs = new Map<string, Map<string, string>>();
  /** Pair single: uid → summary. */
  readonly single = new Map<string, string>();
  /** The `Copying`/`Deleting` lines the next sync must print, each once. */
  pending: string[] = [];
  /** Items whose conflict the next sync must resolve. */
  conflicts: string[] = [];

  private dir(side: Side, collection: string): string {
    return box.path(side, collection);
  }

  /** The file holding `uid` in a vdir folder, if any. */
  private fileOf(dir: string, uid: string): string | undefined {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".ics")) continue;
      if (readFileSync(join(dir, name), "utf8").includes(`\r\nUID:${uid}\r\n`)) return join(dir, name);
    }
    return undefined;
  }

  private writeVdir(dir: string, uid: string, summary: string): void {
    const file = this.fileOf(dir, uid) ?? join(dir, `${uid}.ics`);
    box.write(file.slice(box.home.length + 1), calendar([vevent(uid, summary)]));
  }

  /** Creates or edits an item in one side of pair fs (the collection folder must exist on that side). */
  fsPut(side: Side, collection: string, uid: string, summary: string): void {
    const items = this.fs.get(collection) ?? new Map<string, string>();
    this.fs.set(collection, items);
    const verb = items.has(uid) ? "updating" : "uploading";
    this.pending.push(`Copying (${verb}) item ${uid} to fs_${other(side)}/${collection}`);
    items.set(uid, summary);
    this.writeVdir(this.dir(side, collection), uid, summary);
  }

  fsDelete(side: Side, collection: string, uid: string): void {
    unlinkSync(this.fileOf(this.dir(side, collection), uid) as string);
    this.fs.get(collection)?.delete(uid);
    this.pending.push(`Deleting item ${uid} from fs_${other(side)}/${collection}`);
  }

  /** Edits one item differently on both sides; `conflict_resolution = "a wins"` keeps a's. */
  fsConflict(collection: string, uid: string, onA: string, onB: string): void {
    this.writeVdir(this.dir("a", collection), uid, onA);
    this.writeVdir(this.dir("b", collection), uid, onB);
    this.fs.get(collection)?.set(uid, onA);
    this.pending.push(`Copying (updating) item ${uid} to fs_b/${collection}`);
    this.conflicts.push(uid);
  }

  /** Creates or edits an item in the vdir of pair single. */
  vdirPut(uid: string, summary: string): void {
    this.pending.push(`Copying (${this.single.has(uid) ? "updating" : "uploading"}) item ${uid} to one_file`);
    this.single.set(uid, summary);
    this.writeVdir(box.path("onevdir"), uid, summary);
  }

  vdirDelete(uid: string): void {
    unlinkSync(this.fileOf(box.path("onevdir"), uid) as string);
    this.single.delete(uid);
    this.pending.push(`Deleting item ${uid} from one_file`);
  }

  /** Edits the single .ics file as a person would: one event's lines, the rest untouched. */
  private editFile(uid: string, replacement: string[]): void {
    const lines = box.read("one.ics").split(/\r?\n/);
    const out: string[] = [];
    let found = false;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === "BEGIN:VEVENT") {
        const end = lines.indexOf("END:VEVENT", i);
        const block = lines.slice(i, end + 1);
        i = end;
        if (block.includes(`UID:${uid}`)) {
          found = true;
          out.push(...replacement);
        } else out.push(...block);
        continue;
      }
      if (lines[i] === "END:VCALENDAR" && !found) {
        out.push(...replacement);
        found = true;
      }
      out.push(lines[i] as string);
    }
    box.write("one.ics", out.join("\r\n"));
  }

  filePut(uid: string, summary: string): void {
    this.pending.push(`Copying (${this.single.has(uid) ? "updating" : "uploading"}) item ${uid} to one_vdir`);
    this.single.set(uid, summary);
    this.editFile(uid, vevent(uid, summary));
  }

  fileDelete(uid: string): void {
    this.editFile(uid, []);
    this.single.delete(uid);
    this.pending.push(`Deleting item ${uid} from one_vdir`);
  }

  /** Everything both sides hold, checked item by item against the expectation. */
  check(turn: string): void {
    for (const [collection, items] of this.fs) {
      const texts = { a: new Map<string, string>(), b: new Map<string, string>() };
      for (const side of ["a", "b"] as const) {
        const dir = this.dir(side, collection);
        for (const name of readdirSync(dir).filter((n) => n.endsWith(".ics"))) {
          const text = readFileSync(join(dir, name), "utf8");
          const [uid] = [...eventsOf(text, `${dir}/${name}`).keys()];
          expect(texts[side].has(uid as string), `${turn}: ${uid} twice in ${dir}`).toBe(false);
          texts[side].set(uid as string, text);
        }
        const summaries = new Map([...texts[side]].map(([u, t]) => [u, eventsOf(t, u).get(u)]));
        expect(summaries, `${turn}: ${side}/${collection}`).toEqual(items);
      }
      // The copies are the originals, byte for byte.
      expect(texts.a, `${turn}: fs/${collection} differs between a and b`).toEqual(texts.b);
    }
    const vdir = new Map<string, string>();
    for (const name of readdirSync(box.path("onevdir")).filter((n) => n.endsWith(".ics"))) {
      for (const [u, s] of eventsOf(box.read(`onevdir/${name}`), name)) vdir.set(u, s);
    }
    expect(vdir, `${turn}: onevdir`).toEqual(this.single);
    expect(eventsOf(box.read("one.ics"), "one.ics"), `${turn}: one.ics`).toEqual(this.single);
  }
}

/** A run that must succeed. */
function ok(r: Ran): Ran {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

/** The log lines of a run that copy or delete an item, sorted. */
function transfers(r: Ran): string[] {
  return `${r.stderr}\n${r.stdout}`
    .split("\n")
    .filter((l) => /^(Copying|Deleting)/.test(l))
    .sort();
}

type Tool = "python" | "ours";

/** Runs `args` with one of the two commands; both find the config in $XDG_CONFIG_HOME/vdirsyncer/config. */
function tool(who: Tool, args: string[], input = ""): Ran {
  return who === "python" ? box.run(python, args, { input }) : box.ours(args, { input });
}

/** Every answer is yes: create the collections the other side lacks. */
const YES = "y\n".repeat(20);

describe("Python vdirsyncer and ours, taking turns", () => {
  test("continue each other's status and discovery, transfer each change once and lose nothing", () => {
    box.write(".config/vdirsyncer/config", CONFIG);
    const w = new World();
    const collectionsFile = (pair: string) => box.read(`status/${pair}.collections`);

    /** One turn: an optional discover, a sync that prints exactly the pending lines, then a full check. */
    const turn = (name: string, who: Tool, discover = false) => {
      if (discover) ok(tool(who, ["discover"], YES));
      const before = { fs: collectionsFile("fs"), single: collectionsFile("single") };
      const r = ok(tool(who, ["sync"]));
      expect(transfers(r), `${name} (${who})\n${describeRun(r)}`).toEqual([...w.pending].sort());
      for (const uid of w.conflicts)
        expect(r.stderr).toContain(`Doing conflict resolution for item ${uid}...`);
      // A sync uses the discovery cache as it is.
      expect({ fs: collectionsFile("fs"), single: collectionsFile("single") }).toEqual(before);
      w.pending = [];
      w.conflicts = [];
      w.check(name);
      return r;
    };

    // Before any turn: collections "work" and "home" only on a, "shared" only on b; two items in each
    // side of the single pair.
    for (const d of ["a/work", "a/home", "b/shared", "onevdir"]) box.write(`${d}/.keep`, "");
    w.fsPut("a", "work", "w1", "Planung");
    w.fsPut("a", "work", "w2", "Überstunden");
    w.fsPut("a", "home", "h1", "Geburtstag 🎂");
    w.fsPut("b", "shared", "s1", "Umzug");
    w.fsPut("b", "shared", "s2", "Ferien à Nice");
    w.vdirPut("o1", "Vdir one");
    w.vdirPut("o2", "Vdir two");
    box.write("one.ics", calendar([]));
    w.filePut("f1", "File one");
    w.filePut("f2", "Fichier deux");

    // Turn 1, Python: discovers (creating the missing collections) and copies everything once.
    turn("turn 1", "python", true);
    expect(
      JSON.parse(collectionsFile("fs"))
        .collections.map((c: [string]) => c[0])
        .sort(),
    ).toEqual(["home", "shared", "work"]);

    // Turn 2, ours, on Python's status and discovery cache, without a discover of its own.
    w.fsPut("a", "work", "w1", "Planung (neu)");
    w.fsPut("b", "shared", "s3", "Steuererklärung");
    w.fsDelete("b", "work", "w2");
    w.filePut("f3", "File three");
    w.vdirDelete("o2");
    w.filePut("f2", "Fichier deux (modifié)");
    turn("turn 2", "ours");

    // Turn 3, Python: resolves a conflict on w1, whose status row our sync wrote, with "a wins".
    w.fsConflict("work", "w1", "Planung A", "Planung B");
    w.fsPut("b", "shared", "s1", "Umzug (verschoben)");
    w.fsPut("a", "home", "h2", "Elternabend");
    w.fileDelete("f1");
    w.vdirPut("o1", "Vdir one, edited");
    turn("turn 3", "python");

    // Turn 4, ours: a new collection on b needs a discover; then a conflict on s1, whose row Python wrote.
    box.write("b/trips/.keep", "");
    w.fsPut("b", "trips", "t1", "Reise nach Kraków");
    w.fsConflict("shared", "s1", "Umzug A", "Umzug B");
    w.fsPut("a", "work", "w3", "Retro");
    w.fsDelete("a", "home", "h1");
    w.vdirPut("o3", "Vdir three");
    w.fileDelete("f3");
    turn("turn 4", "ours", true);
    expect(
      JSON.parse(collectionsFile("fs"))
        .collections.map((c: [string]) => c[0])
        .sort(),
    ).toEqual(["home", "shared", "trips", "work"]);

    // Turn 5, Python, on our discovery cache: it must know "trips" without a discover.
    w.fsPut("b", "trips", "t2", "Zug nach Genève");
    w.fsPut("a", "trips", "t1", "Reise nach Kraków und Wrocław");
    w.fsDelete("b", "shared", "s3");
    w.filePut("f4", "File four");
    w.vdirPut("o1", "Vdir one, edited twice");
    turn("turn 5", "python");

    // Turns 6 and 7: nothing changed, so neither tool transfers anything.
    turn("turn 6", "ours");
    turn("turn 7", "python");

    // One last round of changes on both sides, synced by ours, then Python finds nothing left to do.
    w.fsPut("a", "home", "h3", "Arzt");
    w.fsPut("b", "work", "w4", "Demo");
    w.fsDelete("a", "trips", "t2");
    w.filePut("f2", "Fichier deux (final)");
    w.vdirDelete("o3");
    turn("turn 8", "ours");
    turn("turn 9", "python");

    // The end state, against the expected set.
    expect(Object.fromEntries([...w.fs].map(([c, m]) => [c, Object.fromEntries(m)]))).toEqual({
      work: { w1: "Planung A", w3: "Retro", w4: "Demo" },
      home: { h2: "Elternabend", h3: "Arzt" },
      shared: { s1: "Umzug A", s2: "Ferien à Nice" },
      trips: { t1: "Reise nach Kraków und Wrocław" },
    });
    expect(Object.fromEntries(w.single)).toEqual({
      o1: "Vdir one, edited twice",
      f2: "Fichier deux (final)",
      f4: "File four",
    });
    // The shared status knows exactly the items that exist: no row lost, none left behind.
    const idents = (file: string) => {
      const db = new DatabaseSync(box.path("status", file), { readOnly: true });
      try {
        return (db.prepare("SELECT ident FROM status ORDER BY ident").all() as { ident: string }[]).map(
          (r) => r.ident,
        );
      } finally {
        db.close();
      }
    };
    for (const [collection, items] of w.fs) {
      expect(idents(`fs/${collection}.items`), collection).toEqual([...items.keys()].sort());
    }
    expect(idents("single.items")).toEqual([...w.single.keys()].sort());
  }, 240_000);
});

describe("the discovery cache between Python vdirsyncer and ours", () => {
  const MULTI = `[general]
status_path = "~/mstatus/"

[pair multi]
a = "multi_a"
b = "multi_b"
collections = ["from a", "from b"]

[storage multi_a]
type = "filesystem"
path = "~/ma/"
fileext = ".ics"

[storage multi_b]
type = "filesystem"
path = "~/mb/"
fileext = ".ics"
`;
  const config = () => box.path(".config", "multi-config");
  const run = (who: Tool, args: string[], input = "") =>
    who === "python"
      ? box.run(python, ["-c", config(), ...args], { input })
      : box.ours(["-c", config(), ...args], { input });
  /** uid → collection folder, for every item of one side. */
  const placed = (side: string) => {
    const out: Record<string, string> = {};
    for (const collection of readdirSync(box.path(side))) {
      for (const name of readdirSync(box.path(side, collection)).filter((n) => n.endsWith(".ics"))) {
        const uid = /^UID:(.*?)\r?$/m.exec(box.read(`${side}/${collection}/${name}`))?.[1] as string;
        out[uid] = collection;
      }
    }
    return out;
  };

  test("each side's cache opens the right collections in the other: every item lands in its own collection", () => {
    box.write(".config/multi-config", MULTI);
    box.write("ma/work/w1.ics", calendar([vevent("w1", "Work one")]));
    box.write("ma/home/h1.ics", calendar([vevent("h1", "Home one")]));
    box.write("mb/trips/t1.ics", calendar([vevent("t1", "Trip one")]));
    // Python discovers (creating the collections each side lacks), ours syncs from Python's cache.
    ok(run("python", ["discover"], YES));
    const pythonCache = JSON.parse(box.read("mstatus/multi.collections"));
    ok(run("ours", ["sync"]));
    const expected = { w1: "work", h1: "home", t1: "trips" };
    expect(placed("ma")).toEqual(expected);
    expect(placed("mb")).toEqual(expected);

    // Ours discovers again, through the contract's open path; the cache it writes is the one Python writes.
    box.write("mb/travel/x1.ics", calendar([vevent("x1", "New on b")]));
    ok(run("ours", ["discover"], YES));
    const oursCache = JSON.parse(box.read("mstatus/multi.collections"));
    ok(run("python", ["discover"], YES));
    // The same cache, up to the order of the collections (each tool lists folders in its own order) and a `~`
    // that Python leaves unexpanded in the path of a collection it just created.
    const normal = (cache: { cache_key: string; collections: [string, Record<string, string>[]][] }) => ({
      cache_key: cache.cache_key,
      collections: [...cache.collections]
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([name, deltas]) => [
          name,
          deltas.map((d) => ({ ...d, path: d.path?.replace(/^~\//, `${box.home}/`) })),
        ]),
    });
    expect(normal(JSON.parse(box.read("mstatus/multi.collections")))).toEqual(normal(oursCache));
    expect(oursCache.cache_key).toBe(pythonCache.cache_key);
    // Each entry is vdirsyncer's delta: the collection name and the path, which differs from the section's (a
    // collection created by discover keeps the `~` of the config, in both tools).
    for (const [name, deltas] of normal(oursCache).collections as [string, Record<string, string>[]][]) {
      expect(deltas).toEqual([
        { collection: name, path: box.path("ma", name) },
        { collection: name, path: box.path("mb", name) },
      ]);
    }

    // Python syncs from our cache and ours reads it back: the new collection arrives where it belongs.
    ok(run("ours", ["discover"], YES));
    const py = ok(run("python", ["sync"]));
    expect(transfers(py)).toEqual(["Copying (uploading) item x1 to multi_a/travel"]);
    expect(placed("ma")).toEqual({ ...expected, x1: "travel" });
    const again = ok(run("ours", ["sync"]));
    expect(transfers(again)).toEqual([]);
    box.write("ma/home/h2.ics", calendar([vevent("h2", "Home two")]));
    expect(transfers(ok(run("ours", ["sync"])))).toEqual(["Copying (uploading) item h2 to multi_b/home"]);
    expect(placed("mb")).toEqual({ ...expected, x1: "travel", h2: "home" });
  }, 240_000);
});
