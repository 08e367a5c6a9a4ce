/**
 * `vdirsyncer check` against Radicale (passes), a wrong password (authentication fails with a hint, exit 1) and
 * a stopped server (not reachable), plus local folders and files; `vdirsyncer status` from the journal, the
 * status files and the daemon's state, including a collection that Python vdirsyncer synced since.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRadicale } from "@vdirsyncer/test-servers";
import { describe, expect, test } from "vitest";
import { account, RawDav } from "./dav-helpers.ts";
import { event, general, world } from "./helpers.ts";

describe("check", () => {
  test("Radicale with the right password passes every aspect; a local vdir passes; exit 0", async () => {
    const acc = await account("radicale");
    await new RawDav(acc).create("caldav", "work");
    const w = world();
    mkdirSync(join(w.root, "cal"));
    w.writeConfig(`${general(w.root)}
[storage server]
type = "caldav"
url = "${acc.url}"
username = "${acc.username}"
password = "${acc.password}"

[storage local]
type = "filesystem"
path = "{root}/cal/"
fileext = ".ics"
`);
    const r = await w.run(["check"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[storage server\] caldav$/m);
    expect(r.stdout).toMatch(/ok {4}reachable +.*answered HTTP 207/);
    expect(r.stdout).toMatch(/ok {4}authentication +HTTP 207: the server accepted the basic credentials/);
    expect(r.stdout).toMatch(/ok {4}collections +1 calendar: work\./);
    expect(r.stdout).toMatch(/ok {4}listing +/);
    expect(r.stdout).toMatch(/ok {4}reachable +The folder .*\/cal exists and can be written/);
    expect(r.stdout).toMatch(/All 2 storages passed\./);
    const j = await w.run(["check", "--json", "server"]);
    expect(j.code).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.ok).toBe(true);
    expect(out.storages).toHaveLength(1);
    expect(out.storages[0].collections.map((c: { id: string }) => c.id)).toEqual(["work"]);
    expect(out.storages[0].listing).toEqual(expect.any(String));
  });

  test("a wrong password fails authentication with a hint; exit 1", async () => {
    const acc = await account("radicale");
    const w = world();
    w.writeConfig(`${general(w.root)}
[storage server]
type = "caldav"
url = "${acc.url}"
username = "${acc.username}"
password = "not-the-password"
`);
    const r = await w.run(["check"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ok {4}reachable/);
    expect(r.stdout).toMatch(/FAIL {2}authentication +PROPFIND .* answered 401/);
    expect(r.stdout).toMatch(/hint: Check username and password/);
    expect(r.stdout).toMatch(/1 of 1 storage failed\./);
    const j = JSON.parse((await w.run(["check", "--json"])).stdout);
    expect(j.ok).toBe(false);
    expect(
      j.storages[0].results.find((x: { aspect: string }) => x.aspect === "authentication"),
    ).toMatchObject({
      ok: false,
      hint: expect.stringMatching(/username and password/),
    });
  });

  test("a stopped server is not reachable; exit 1", async () => {
    const server = await startRadicale();
    const url = server.url;
    await server.stop();
    const w = world();
    w.writeConfig(`${general(w.root)}
[storage server]
type = "carddav"
url = "${url}"
username = "user"
password = "password"
`);
    const r = await w.run(["check", "server"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}reachable +PROPFIND .* failed/);
    expect(r.stdout).toMatch(/hint: Check that the server is running and reachable/);
  }, 60_000);

  test("local storages: a missing folder, a read-only folder, a singlefile; a broken section; exit 1", async () => {
    const w = world();
    mkdirSync(join(w.root, "ro"));
    chmodSync(join(w.root, "ro"), 0o500);
    writeFileSync(join(w.root, "one.ics"), event("x"));
    w.writeConfig(`${general(w.root)}
[storage missing]
type = "filesystem"
path = "{root}/nope/"
fileext = ".ics"

[storage readonly]
type = "filesystem"
path = "{root}/ro/"
fileext = ".ics"

[storage single]
type = "singlefile"
path = "{root}/one.ics"

[storage typo]
type = "filesytem"
path = "{root}/x/"
fileext = ".ics"
`);
    const r = await w.run(["check", "--json"]);
    chmodSync(join(w.root, "ro"), 0o700);
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(
      JSON.parse(r.stdout).storages.map((s: { storage: string }) => [s.storage, s]),
    );
    expect(byName.missing.ok).toBe(false);
    expect(byName.missing.results[0].hint).toMatch(/mkdir -p/);
    // root may write anywhere: only a normal user sees the permission failure.
    if (process.getuid?.() !== 0) expect(byName.readonly.results[0].detail).toMatch(/cannot be written/);
    expect(byName.single).toMatchObject({ ok: true, type: "singlefile" });
    expect(byName.single.results[0].detail).toMatch(/one\.ics can be written/);
    expect(byName.typo.results[0]).toMatchObject({ aspect: "config", ok: false });
    expect(byName.typo.results[0].detail).toMatch(/Did you mean "filesystem"/);
  });
});

describe("status", () => {
  test("last run, items, and a collection that Python vdirsyncer synced since", async () => {
    const w = world();
    mkdirSync(join(w.root, "a"));
    mkdirSync(join(w.root, "b"));
    w.writeConfig(`${general(w.root)}
[pair cal]
a = "cal_a"
b = "cal_b"
collections = null

[storage cal_a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage cal_b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`);
    expect((await w.run(["discover"])).code).toBe(0);
    const none = await w.run(["status"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^Daemon: not running\.$/m);
    expect(none.stdout).toMatch(
      /^cal\n {2}last run: {2}none recorded by this tool\n {2}items: {5}no status yet$/m,
    );

    w.write("a/1.ics", event("one"));
    w.write("a/2.ics", event("two"));
    expect((await w.run(["sync"])).code).toBe(0);
    const after = await w.run(["status", "cal"]);
    expect(after.stdout).toMatch(
      /last run: {2}.* \(sync\), ok: 2 uploads, 0 updates, 0 deletes, 0 conflicts, 0 errors/,
    );
    expect(after.stdout).toMatch(/items: {5}2$/m);
    expect(after.stdout).not.toMatch(/another tool/);

    // Python vdirsyncer syncs a new item: the status changes after our last run.
    w.write("b/3.ics", event("three"));
    const py = spawnSync("/usr/bin/vdirsyncer", ["-c", w.config, "sync"], {
      env: { HOME: w.home, PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
      encoding: "utf8",
    });
    expect(py.status, py.stderr).toBe(0);
    const j = JSON.parse((await w.run(["status", "--json"])).stdout);
    expect(j.daemon.running).toBe(false);
    expect(j.collections).toHaveLength(1);
    expect(j.collections[0]).toMatchObject({
      name: "cal",
      items: 3,
      syncedElsewhere: true,
      lastRun: { result: "ok", uploads: 2, errors: 0 },
      nextRun: null,
    });
    const text = await w.run(["status"]);
    expect(text.stdout).toMatch(/note: {6}synced by another tool since/);
    // Our next run matches the status again.
    expect((await w.run(["sync"])).code).toBe(0);
    expect(JSON.parse((await w.run(["status", "--json"])).stdout).collections[0].syncedElsewhere).toBe(false);
  });

  test("a failed run shows its error; an unknown pair is an error", async () => {
    const w = world();
    mkdirSync(join(w.root, "a"));
    mkdirSync(join(w.root, "b"));
    w.writeConfig(`${general(w.root)}
[pair cal]
a = "cal_a"
b = "cal_b"
collections = null

[storage cal_a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage cal_b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`);
    expect((await w.run(["discover"])).code).toBe(0);
    w.write("a/1.ics", event("dup", "first"));
    w.write("a/2.ics", event("dup", "second"));
    expect((await w.run(["sync"])).code).toBe(1);
    const s = await w.run(["status"]);
    expect(s.stdout).toMatch(/\(sync\), failed: .*1 error$/m);
    expect(s.stdout).toMatch(/error: {5}Storage "cal_a" contains multiple items with the same UID/);
    const bad = await w.run(["status", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Pair nope does not exist/);
  });
});
