/**
 * `vdirsyncer undo` end to end on vdir ↔ vdir: each action kind (upload, update, delete, resolved conflict), the
 * state after the undo and after the next sync, no original ever lost, the questions, and the pair lock.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { listTrash, lockPair, readRuns } from "@vdirsyncer/status";
import { describe, expect, test } from "vitest";
import { event, type World, world } from "./helpers.ts";
import { edit, fsPair, onTerminal, vdir } from "./trash-helpers.ts";

/** Every version of every item that exists anywhere: in the vdirs or in the trash. */
function everywhere(w: World): Set<string> {
  const out = new Set<string>([...Object.values(vdir(w, "foo")), ...Object.values(vdir(w, "bar"))]);
  for (const e of listTrash(join(w.root, "status"))) out.add(readFileSync(e.itemPath, "utf8"));
  return out;
}

function fileOf(w: World, dir: string, uid: string): string {
  const found = Object.entries(vdir(w, dir)).find(([, v]) => v.includes(`UID:${uid}\r\n`));
  if (!found) throw new Error(`no ${uid} in ${dir}`);
  return `${dir}/${found[0]}`;
}

/**
 * foo (a) and bar (b) hold `upd`, `del` and `conf`; then the run under test: `new` is uploaded to bar, `upd`
 * updated on bar, `del` deleted from bar, and `conf` (edited on both sides) resolved with a winning.
 */
async function lastRunDidEverything(w: World) {
  fsPair(w, 'conflict_resolution = "a wins"');
  w.write("foo/upd.ics", event("upd", "Update me"));
  w.write("foo/del.ics", event("del", "Delete me"));
  w.write("foo/conf.ics", event("conf", "Conflict base"));
  w.write("bar/.keep", "");
  expect((await w.run(["discover"])).code).toBe(0);
  expect((await w.run(["sync"])).code).toBe(0);
  w.write("foo/new.ics", event("new", "New on a"));
  edit(w, "foo/upd.ics", event("upd", "Updated on a"));
  rmSync(join(w.root, "foo/del.ics"));
  edit(w, "foo/conf.ics", event("conf", "Conflict: a's side"));
  edit(w, fileOf(w, "bar", "conf"), event("conf", "Conflict: b's side"));
  const r = await w.run(["sync"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("Copying (uploading) item new to bar");
  expect(r.stderr).toContain("Copying (updating) item upd to bar");
  expect(r.stderr).toContain("Deleting item del from bar");
  expect(r.stderr).toContain("Doing conflict resolution for item conf...");
  const runs = readRuns(join(w.root, "status"));
  return runs[runs.length - 1];
}

describe("undo", () => {
  test("brings back what the last sync overwrote or deleted; the next sync carries it over; nothing is lost", async () => {
    const w = world();
    const run = await lastRunDidEverything(w);
    const before = everywhere(w);
    const u = await w.run(["undo", "foobar"]);
    expect(u.code).toBe(0);
    expect(u.stderr).toContain(`foobar: undoing run ${run?.run} (3 versions to bring back)`);

    // After undo: bar is as before the run, except what the run copied (new stays); foo is untouched.
    const bar = Object.values(vdir(w, "bar")).sort();
    expect(bar).toEqual(
      [
        event("conf", "Conflict: b's side"),
        event("del", "Delete me"),
        event("new", "New on a"),
        event("upd", "Update me"),
      ].sort(),
    );
    expect(Object.values(vdir(w, "foo")).sort()).toEqual(
      [event("conf", "Conflict: a's side"), event("new", "New on a"), event("upd", "Updated on a")].sort(),
    );
    // What the undo replaced went to the trash; nothing that existed before is gone.
    for (const v of before) expect(everywhere(w).has(v)).toBe(true);
    const journal = readRuns(join(w.root, "status"));
    const undo = journal[journal.length - 1];
    expect(undo?.kind).toBe("undo");
    expect(undo?.undoes).toBe(run?.run);
    expect(undo?.actions.map((a) => `${a.kind} ${a.side} ${a.ident} ${a.result}`).sort()).toEqual([
      "restore b conf done",
      "restore b del done",
      "restore b upd done",
    ]);

    // A second undo before the next sync: nothing left to undo.
    const again = await w.run(["undo", "foobar"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(
      `the last change (run ${run?.run}) was undone by run ${undo?.run}; nothing to undo.`,
    );

    // The next sync: the restored deletion comes back on a, the restored overwrites become current on both sides.
    const next = await w.run(["sync"]);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain("Copying (uploading) item del to foo");
    expect(next.stderr).toContain("Copying (updating) item upd to foo");
    expect(next.stderr).toContain("Copying (updating) item conf to foo");
    expect(next.stderr).not.toContain("Deleting");
    expect(Object.values(vdir(w, "foo")).sort()).toEqual(bar);
    expect(Object.values(vdir(w, "bar")).sort()).toEqual(bar);
    for (const v of before) expect(everywhere(w).has(v)).toBe(true);
    const quiet = await w.run(["sync"]);
    expect(quiet.stderr).not.toMatch(/Copying|Deleting/);
  });

  test("an item changed after the run: refused without a terminal (nothing changes), asked on one, --force replaces", async () => {
    const w = world();
    await lastRunDidEverything(w);
    const upd = fileOf(w, "bar", "upd");
    edit(w, upd, event("upd", "Edited on bar after the run"));
    w.write("bar/del.ics", event("del", "Made again on bar"));
    const snapshot = { foo: vdir(w, "foo"), bar: vdir(w, "bar") };

    const refused = await w.run(["undo", "foobar"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Item upd ("Update me") on bar: it was changed since.');
    expect(refused.stderr).toContain('Item del ("Delete me") on bar: it exists again.');
    expect(refused.stderr).toContain("Not putting anything back: 2 items were changed after the run");
    expect({ foo: vdir(w, "foo"), bar: vdir(w, "bar") }).toEqual(snapshot);

    const no = await onTerminal(w, ["undo", "foobar"], "no\n");
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("Replace these 2 items with the kept version?");
    expect({ foo: vdir(w, "foo"), bar: vdir(w, "bar") }).toEqual(snapshot);

    const forced = await w.run(["undo", "--force", "foobar"]);
    expect(forced.code).toBe(0);
    expect(w.read(upd)).toBe(event("upd", "Update me"));
    expect(w.read("bar/del.ics")).toBe(event("del", "Delete me"));
    // What the undo replaced is in the trash, kept by the undo: the versions made after the run included.
    const kept = listTrash(join(w.root, "status")).filter((e) => e.origin === "undo");
    expect(kept.map((e) => e.name).sort()).toEqual([
      "Conflict: a's side",
      "Edited on bar after the run",
      "Made again on bar",
    ]);
  });

  test("nothing to undo: no journal, or a last sync that only copied", async () => {
    const w = world();
    fsPair(w);
    w.write("foo/one.ics", event("one"));
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    const none = await w.run(["undo", "foobar"]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain(
      "foobar: no sync that changed something is in the journal; nothing to undo.",
    );
    expect((await w.run(["sync"])).code).toBe(0);
    const copied = await w.run(["undo", "foobar"]);
    expect(copied.code).toBe(0);
    expect(copied.stderr).toContain("overwrote and deleted nothing; nothing to undo (copied items stay).");
    expect(readdirSync(join(w.root, "bar")).filter((f) => f.endsWith(".ics"))).toHaveLength(1);
    const unknown = await w.run(["undo", "nopair"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Pair nopair does not exist.");
  });

  test("takes the pair lock: refused while a sync of the pair runs", async () => {
    const w = world();
    await lastRunDidEverything(w);
    const lock = await lockPair(join(w.root, "status"), "foobar");
    try {
      const r = await w.run(["undo", "foobar"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/lock/i);
      expect(w.read(fileOf(w, "bar", "upd"))).toBe(event("upd", "Updated on a"));
    } finally {
      lock.release();
    }
    expect((await w.run(["undo", "foobar"])).code).toBe(0);
    expect(w.read(fileOf(w, "bar", "upd"))).toBe(event("upd", "Update me"));
  });
});
