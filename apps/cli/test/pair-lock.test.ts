import { join } from "node:path";
import { lockPair, type PairLock } from "@vdirsyncer/status";
import { afterEach, describe, expect, test } from "vitest";
import { PAIR_LOCK } from "../src/pair-locks.ts";
import { event, general, type World, world } from "./helpers.ts";

/** A pair `foobar` of two filesystem storages with collection `c`, discovered, item `one` on foo. */
async function prepared(): Promise<World> {
  const w = world();
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = ["c"]
metadata = ["displayname"]

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
`);
  w.write("foo/c/one.ics", event("one"));
  w.write("foo/c/displayname", "Work");
  w.write("bar/c/.keep", "");
  const d = await w.run(["discover"]);
  expect(d.code, d.stderr).toBe(0);
  return w;
}

const status = (w: World) => join(w.root, "status");
const held: PairLock[] = [];
const defaultWait = PAIR_LOCK.waitMs;
afterEach(() => {
  for (const l of held.splice(0)) l.release();
  PAIR_LOCK.waitMs = defaultWait;
});

/** Takes a lock the way another of our processes would (this test process is its live holder). */
async function hold(w: World, name: string): Promise<PairLock> {
  const lock = await lockPair(status(w), name, { waitMs: 0 });
  held.push(lock);
  return lock;
}

describe("sync meeting a held pair lock", () => {
  test("waits for another sync of ours to finish, then syncs", async () => {
    const w = await prepared();
    const lock = await hold(w, "foobar");
    const running = w.run(["sync"]);
    // The sync is waiting (longer than the 5 s it used to give up after): nothing copied while the lock is held.
    await new Promise((r) => setTimeout(r, 5500));
    expect(w.files("bar/c")).toEqual([".keep"]);
    lock.release();
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(w.files("bar/c")).toEqual([".keep", "one.ics"]);
  });

  test("skips the pair with a warning and exit 0 when our own daemon holds it", async () => {
    const w = await prepared();
    await hold(w, ".daemon");
    await hold(w, "foobar");
    PAIR_LOCK.waitMs = 200;
    const r = await w.run(["sync"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: foobar: skipped: the vdirsyncer daemon (process ${process.pid}) is syncing this pair and keeps it in sync.\n`,
    );
    expect(r.stderr).not.toContain("error:");
    expect(w.files("bar/c")).toEqual([".keep"]);
  });

  test("fails with status/LOCKED (exit 1) when another holder keeps it", async () => {
    const w = await prepared();
    // A daemon runs, but the pair is held by someone else (here: a lock file of a live process that is no daemon).
    await hold(w, "foobar");
    PAIR_LOCK.waitMs = 200;
    const r = await w.run(["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: foobar: Pair foobar is being synced by process \d+ since /m);
    expect(w.files("bar/c")).toEqual([".keep"]);
  });
});

describe("metasync, discover and repair take the pair lock", () => {
  test("each waits for the lock and fails with status/LOCKED while another sync holds it", async () => {
    const w = await prepared();
    const lock = await hold(w, "foobar");
    PAIR_LOCK.waitMs = 200;
    const locked = /^(error|critical): (foobar: )?Pair foobar is being synced by process \d+/m;
    const m = await w.run(["metasync"]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(locked);
    expect(w.files("bar/c")).toEqual([".keep"]);
    const d = await w.run(["discover", "foobar"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(locked);
    w.write(
      "foo/c/nouid.ics",
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    const before = w.read("foo/c/nouid.ics");
    const r = await w.run(["repair", "foo/c"], { stdin: "y\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(locked);
    expect(w.read("foo/c/nouid.ics")).toBe(before);

    lock.release();
    const m2 = await w.run(["metasync"]);
    expect(m2.code, m2.stderr).toBe(0);
    expect(w.read("bar/c/displayname")).toBe("Work");
    expect((await w.run(["discover", "foobar"])).code).toBe(0);
    const r2 = await w.run(["repair", "foo/c"], { stdin: "y\n" });
    expect(r2.code, r2.stderr).toBe(0);
    expect(w.files("foo/c").join(" ")).not.toContain("nouid.ics");
  });
});
