/**
 * `vdirsyncer trash list|show|restore|prune` and the retention after a sync, through the real command on
 * vdir ↔ vdir pairs.
 */
import { existsSync, rmSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { createDiskTrash, listTrash, readRuns } from "@vdirsyncer/status";
import { describe, expect, test } from "vitest";
import { event, type World, world } from "./helpers.ts";
import { edit, fsPair, onTerminal, vdir } from "./trash-helpers.ts";

/** foo holds `edit` and `gone`, synced to bar; then a changes both: bar's `edit` is overwritten, `gone` deleted. */
async function afterChanges(w: World) {
  fsPair(w);
  w.write("foo/edit.ics", event("edit", "Old title"));
  w.write("foo/gone.ics", event("gone", "Dentist"));
  w.write("bar/.keep", "");
  expect((await w.run(["discover"])).code).toBe(0);
  expect((await w.run(["sync"])).code).toBe(0);
  edit(w, "foo/edit.ics", event("edit", "New title"));
  rmSync(join(w.root, "foo/gone.ics"));
  const r = await w.run(["sync"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("Deleting item gone from bar");
  const runs = readRuns(join(w.root, "status"));
  return runs[runs.length - 1];
}

interface ListedJson {
  id: string;
  pair: string;
  collection: string | null;
  side: string;
  storage: string;
  happened: string;
  by: string;
  run: string;
  result: string;
  name: string;
  uid: string;
  ident: string;
  reason: string;
  time: string;
  size: number;
}

async function listJson(w: World, ...args: string[]): Promise<ListedJson[]> {
  const r = await w.run(["trash", "list", "--json", ...args]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ListedJson[];
}

describe("trash list and show", () => {
  test("one line per kept version: id, time, collection, side, what happened, name and UID; --json", async () => {
    const w = world();
    const run = await afterChanges(w);
    expect(run?.kind).toBe("sync");
    const listed = await listJson(w);
    expect(
      listed.map((e) => [e.ident, e.side, e.storage, e.happened, e.by, e.run, e.result, e.name, e.uid]),
    ).toEqual([
      ["edit", "b", "bar", "overwritten", "sync", run?.run, "done", "Old title", "edit"],
      ["gone", "b", "bar", "deleted", "sync", run?.run, "done", "Dentist", "gone"],
    ]);
    expect(listed.every((e) => e.pair === "foobar" && e.collection === null && e.size > 0)).toBe(true);

    const text = await w.run(["trash", "list"]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${listed[0]?.id}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  foobar  b \\(bar\\)  overwritten by sync ${run?.run}  "Old title"  edit$`,
      ),
    );
    expect(lines[1]).toContain(`deleted by sync ${run?.run}  "Dentist"  gone`);
    expect(await listJson(w, "foobar")).toHaveLength(2);
    expect(await listJson(w, "foobar/nothing")).toEqual([]);

    const shown = await w.run(["trash", "show", listed[1]?.id as string]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(event("gone", "Dentist"));
    // A unique prefix is enough; an unknown id is a clear error.
    expect((await w.run(["trash", "show", String(listed[0]?.id).slice(0, 5)])).stdout).toBe(
      event("edit", "Old title"),
    );
    const unknown = await w.run(["trash", "show", "0000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No kept version with the id "0000000000" in the trash.');
    const badPair = await w.run(["trash", "list", "nopair"]);
    expect(badPair.code).toBe(1);
    expect(badPair.stderr).toContain("Pair nopair does not exist.");
  });

  test("an empty trash says so; --json prints []; no subcommand is a usage error", async () => {
    const w = world();
    fsPair(w);
    const bare = await w.run(["trash"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Give a trash command: list, show, restore or prune.");
    expect((await w.run(["trash", "list"])).stderr).toContain("The trash is empty.");
    expect(await listJson(w)).toEqual([]);
  });
});

describe("trash restore", () => {
  test("puts a deleted and an overwritten version back on their side; the next sync carries them over", async () => {
    const w = world();
    const run = await afterChanges(w);
    const [kept, gone] = await listJson(w);
    const r = await w.run(["trash", "restore", gone?.id as string, kept?.id as string]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Restoring item gone ("Dentist") to bar');
    expect(r.stderr).toContain('Restoring item edit ("Old title") over the current version in bar');
    expect(Object.values(vdir(w, "bar")).sort()).toEqual([
      event("edit", "Old title"),
      event("gone", "Dentist"),
    ]);
    // What the restore replaced (the run's new title) is in the trash too, kept by the restore.
    const after = await listJson(w);
    expect(after.map((e) => [e.ident, e.name, e.by, e.happened])).toContainEqual([
      "edit",
      "New title",
      "restore",
      "overwritten",
    ]);
    const journal = readRuns(join(w.root, "status"));
    const restore = journal[journal.length - 1];
    expect(restore?.kind).toBe("restore");
    expect(restore?.actions.map((a) => [a.kind, a.ident, a.restored, a.result]).sort()).toEqual([
      ["restore", "edit", kept?.id, "done"],
      ["restore", "gone", gone?.id, "done"],
    ]);
    expect(run?.run).not.toBe(restore?.run);

    const next = await w.run(["sync"]);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain("Copying (uploading) item gone to foo");
    expect(next.stderr).toContain("Copying (updating) item edit to foo");
    expect(Object.values(vdir(w, "foo")).sort()).toEqual([
      event("edit", "Old title"),
      event("gone", "Dentist"),
    ]);
    const quiet = await w.run(["sync"]);
    expect(quiet.stderr).not.toContain("Copying");
    expect(quiet.stderr).not.toContain("Deleting");
  });

  test("over a version changed since the run: refuses without a terminal, asks on one, --force replaces", async () => {
    const w = world();
    await afterChanges(w);
    const [kept] = await listJson(w);
    const id = kept?.id as string;
    const barEdit = Object.entries(vdir(w, "bar")).find(([, v]) => v.includes("UID:edit"))?.[0] as string;
    edit(w, `bar/${barEdit}`, event("edit", "Edited on bar since"));

    const refused = await w.run(["trash", "restore", id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Item edit ("Old title") on bar: it was changed since.');
    expect(refused.stderr).toContain(
      "Not putting anything back: 1 item was changed after the run, and there is no terminal to ask.",
    );
    expect(refused.stderr).toMatch(/hint: .*--force/);
    expect(w.read(`bar/${barEdit}`)).toBe(event("edit", "Edited on bar since"));

    const no = await onTerminal(w, ["trash", "restore", id], "n\n");
    expect(no.code).toBe(1);
    expect(no.stderr).toContain(
      "Replace it with the kept version? What is there now goes to the trash. [y/N]: ",
    );
    expect(w.read(`bar/${barEdit}`)).toBe(event("edit", "Edited on bar since"));

    const yes = await onTerminal(w, ["trash", "restore", id], "y\n");
    expect(yes.code).toBe(0);
    expect(w.read(`bar/${barEdit}`)).toBe(event("edit", "Old title"));
    // The version edited on bar is not lost: it is in the trash.
    const replaced = (await listJson(w)).find((e) => e.name === "Edited on bar since");
    expect(replaced?.by).toBe("restore");

    // --force replaces without asking; restoring what is already there changes nothing.
    edit(w, `bar/${barEdit}`, event("edit", "Edited again"));
    const forced = await w.run(["trash", "restore", "--force", id]);
    expect(forced.code).toBe(0);
    expect(w.read(`bar/${barEdit}`)).toBe(event("edit", "Old title"));
    const again = await w.run(["trash", "restore", id]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("is already the kept version");
  });
});

describe("versions kept outside a sync", () => {
  test("a repair's versions are listed and shown, and restore says how to put them back by hand", async () => {
    const w = world();
    fsPair(w);
    const status = join(w.root, "status");
    // What `vdirsyncer repair foo` keeps: the storage name stands where a pair would, no run.
    await createDiskTrash(status, "foo", null).keep([
      {
        storage: "foo",
        side: "a",
        ident: "r",
        href: "r.ics",
        etag: null,
        raw: event("r", "Repaired"),
        reason: "update",
      },
    ]);
    const [entry] = await listJson(w);
    expect([entry?.pair, entry?.happened, entry?.by, entry?.run, entry?.name]).toEqual([
      "foo",
      "overwritten",
      null,
      null,
      "Repaired",
    ]);
    expect((await w.run(["trash", "list"])).stdout).toContain('  foo  a (foo)  overwritten  "Repaired"  r\n');
    expect((await w.run(["trash", "show", entry?.id as string])).stdout).toBe(event("r", "Repaired"));
    const r = await w.run(["trash", "restore", entry?.id as string]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("belong to no configured pair");
    expect(r.stderr).toContain("hint: Copy it back by hand: `vdirsyncer trash show ID > file`.");
  });
});

describe("trash prune and retention", () => {
  test("prune removes old versions but never the last run's; --json; a bad duration is an error", async () => {
    const w = world();
    await afterChanges(w);
    const status = join(w.root, "status");
    // Versions from an earlier run, long ago.
    await createDiskTrash(status, "foobar", null, {
      run: "old",
      origin: "sync",
      now: () => new Date("2020-01-01"),
    }).keep([
      {
        storage: "bar",
        side: "b",
        ident: "ancient",
        href: "ancient.ics",
        etag: null,
        raw: event("ancient"),
        reason: "delete",
      },
    ]);
    expect(listTrash(status)).toHaveLength(3);
    const pruned = await w.run(["trash", "prune", "--json"]);
    expect(pruned.code).toBe(0);
    const summary = JSON.parse(pruned.stdout) as { removed: number; kept: number; ids: string[] };
    expect(summary.removed).toBe(1);
    expect(summary.kept).toBe(2);
    expect(listTrash(status).map((e) => e.ident)).toEqual(["edit", "gone"]);
    // --older-than 0: everything may go, but these are the last run's.
    const all = await w.run(["trash", "prune", "--older-than", "0"]);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain("Removed 0 kept versions (0 B); 2 remain");
    expect(listTrash(status)).toHaveLength(2);
    // After a later run of the collection, they are no longer the last run's.
    w.write("foo/more.ics", event("more"));
    expect((await w.run(["sync"])).code).toBe(0);
    expect((await w.run(["trash", "prune", "--older-than", "0s"])).stderr).toContain(
      "Removed 2 kept versions",
    );
    expect(listTrash(status)).toEqual([]);

    const bad = await w.run(["trash", "prune", "--older-than", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid duration "soon" for --older-than.');
    const badSize = await w.run(["trash", "prune", "--max-size", "lots"]);
    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toContain('Invalid size "lots" for --max-size.');
  });

  test("a sync shrinks an oversized trash to 100 MiB and drops versions older than 30 days, keeping its own", async () => {
    const w = world();
    fsPair(w);
    w.write("foo/one.ics", event("one"));
    w.write("foo/two.ics", event("two"));
    w.write("bar/.keep", "");
    expect((await w.run(["discover"])).code).toBe(0);
    expect((await w.run(["sync"])).code).toBe(0);
    const status = join(w.root, "status");
    const day = 86400e3;
    const keep = async (ident: string, daysAgo: number, bytes?: number) => {
      await createDiskTrash(status, "foobar", null, {
        run: `r-${ident}`,
        origin: "sync",
        now: () => new Date(Date.now() - daysAgo * day),
      }).keep([
        {
          storage: "bar",
          side: "b",
          ident,
          href: `${ident}.ics`,
          etag: null,
          raw: event(ident),
          reason: "delete",
        },
      ]);
      // A sparse file: 60 MiB to the trash's size count, nothing on the disk.
      if (bytes !== undefined)
        truncateSync(listTrash(status).find((e) => e.ident === ident)?.itemPath as string, bytes);
    };
    await keep("ancient", 40);
    await keep("big-older", 3, 60 * 1024 * 1024);
    await keep("big-newer", 2, 60 * 1024 * 1024);
    expect(listTrash(status).reduce((n, e) => n + e.size, 0)).toBeGreaterThan(100 * 1024 * 1024);

    // This sync deletes an item: its version is the last run's, and stays whatever the limits say.
    rmSync(join(w.root, "foo/one.ics"));
    expect((await w.run(["sync"])).code).toBe(0);
    const left = listTrash(status);
    expect(left.map((e) => e.ident).sort()).toEqual(["big-newer", "one"]);
    expect(left.reduce((n, e) => n + e.size, 0)).toBeLessThanOrEqual(100 * 1024 * 1024);
    expect(existsSync(join(status, ".trash"))).toBe(true);
  });
});
