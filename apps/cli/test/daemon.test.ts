/**
 * The daemon in-process on filesystem vdirs: local changes reach the other side, failures back off without
 * stopping the other pairs, pairs are never synced twice at once, a second daemon refuses, no prompts, a
 * suspend is noticed, SIGHUP-style reloads and `discover` are picked up, and a graceful stop exits 0.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lockPair } from "@vdirsyncer/status";
import { describe, expect, test } from "vitest";
import {
  backoffDelay,
  DEFAULT_TIMING,
  debouncedDue,
  isOffline,
  pollDelay,
  retryAfterOf,
  wallClockJumped,
} from "../src/daemon/policy.ts";
import { readDaemonState } from "../src/daemon/state.ts";
import { startDaemon } from "./daemon-helpers.ts";
import { event, general, type World, world } from "./helpers.ts";

/** A world with pair `cal` between the vdirs a/ and b/ (collections = null), discovered. */
async function calWorld(extra = ""): Promise<World> {
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
${extra}`);
  const d = await w.run(["discover", "cal"]);
  expect(d.code, d.stderr).toBe(0);
  return w;
}

const uids = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".ics"))
    .map((f) => /UID:(.*)\r/.exec(readFileSync(join(dir, f), "utf8"))?.[1])
    .sort();

describe("policy", () => {
  const t = { ...DEFAULT_TIMING, intervalMs: 1000, jitter: 0.1, retryMs: 100, maxBackoffMs: 1000 };
  test("polls at the interval, moved by at most the jitter", () => {
    expect(pollDelay(t, () => 0)).toBe(900);
    expect(pollDelay(t, () => 0.5)).toBe(1000);
    expect(pollDelay(t, () => 1)).toBe(1100);
    expect(pollDelay({ ...t, jitter: 0 }, () => 1)).toBe(1000);
  });
  test("backs off exponentially up to the cap, never below Retry-After", () => {
    const seq = [1, 2, 3, 4, 5, 50].map((n) => backoffDelay(t, n, undefined, () => 0));
    expect(seq).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(t, 1, 5000, () => 0)).toBe(5000);
    expect(backoffDelay(t, 4, 10, () => 0)).toBe(800);
    // Jitter only ever shortens, by at most 10 %.
    expect(backoffDelay(t, 2, undefined, () => 1)).toBe(180);
  });
  test("debounces a burst, but not beyond five debounce periods after its first change", () => {
    const d = { ...t, debounceMs: 100 };
    expect(debouncedDue(d, 0, 0)).toBe(100);
    expect(debouncedDue(d, 0, 250)).toBe(350);
    expect(debouncedDue(d, 0, 480)).toBe(500);
  });
  test("a wall clock far ahead of the monotonic one is a suspend", () => {
    expect(wallClockJumped(1000, 1100, 60_000)).toBe(false);
    expect(wallClockJumped(1000, 3_600_000, 60_000)).toBe(true);
  });
  test("Retry-After and offline failures are found through the cause chain", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const wrapped = new Error("PROPFIND failed", {
      cause: new TypeError("fetch failed", { cause: refused }),
    });
    expect(isOffline(wrapped)).toBe(true);
    expect(isOffline(new Error("401 Unauthorized"))).toBe(false);
    const slow = new Error("429", { cause: Object.assign(new Error("x"), { retryAfterMs: 7000 }) });
    expect(retryAfterOf(slow)).toBe(7000);
    expect(retryAfterOf(new Error("500"))).toBeUndefined();
  });
});

describe("daemon", () => {
  test("a local edit reaches the other side after the debounce, both ways; a stop exits 0 and records it", async () => {
    const w = await calWorld();
    const d = startDaemon(w, { timing: { intervalMs: 60_000, debounceMs: 30 } });
    await d.round();
    w.write("a/one.ics", event("one"));
    await d.until(() => uids(join(w.root, "b")).includes("one"));
    w.write("b/two.ics", event("two"));
    await d.until(() => uids(join(w.root, "a")).includes("two"));
    expect(await d.stop()).toBe(0);
    expect(uids(join(w.root, "a"))).toEqual(["one", "two"]);
    expect(uids(join(w.root, "b"))).toEqual(["one", "two"]);
    // Synced by the watchers, not by polls: the interval is a minute.
    expect(d.rounds.length).toBeLessThan(10);
    const state = readDaemonState(join(w.root, "status"));
    expect(state?.stopped).not.toBeNull();
    expect(state?.collections.cal?.failures).toBe(0);
    expect(existsSync(join(w.root, "status", ".daemon.lock"))).toBe(false);
    expect(existsSync(join(w.root, "status", "cal.lock"))).toBe(false);
    // The journal has the runs that changed something, for `status` and `undo`.
    const s = await w.run(["status", "--json"]);
    const row = JSON.parse(s.stdout).collections[0];
    expect(row.lastRun.result).toBe("ok");
    expect(row.items).toBe(2);
  });

  test("polls collections that cannot watch (here: a change the watcher cannot see, with watching off)", async () => {
    const w = await calWorld();
    const d = startDaemon(w, { timing: { intervalMs: 40, debounceMs: 10_000 } });
    await d.round();
    w.write("a/p.ics", event("p"));
    // The debounce is 10 s, so only the 40 ms poll can bring it over this fast.
    await d.until(() => uids(join(w.root, "b")).includes("p"), 5_000);
    expect(await d.stop()).toBe(0);
  });

  test("a second daemon on the same status folder refuses; the first goes on", async () => {
    const w = await calWorld();
    const d = startDaemon(w);
    await d.round();
    const second = await w.run(["daemon"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/A vdirsyncer daemon \(process \d+\) is already running/);
    expect(second.stderr).toMatch(/hint: Stop that daemon first/);
    w.write("a/x.ics", event("x"));
    await d.until(() => uids(join(w.root, "b")).includes("x"));
    expect(await d.stop()).toBe(0);
  });

  test("a pair locked by a sync is skipped quietly and synced once the lock is released", async () => {
    const w = await calWorld();
    const lock = await lockPair(join(w.root, "status"), "cal");
    const d = startDaemon(w);
    w.write("a/l.ics", event("l"));
    await d.round();
    await d.round();
    expect(uids(join(w.root, "b"))).toEqual([]);
    lock.release();
    await d.until(() => uids(join(w.root, "b")).includes("l"));
    expect(await d.stop()).toBe(0);
    expect(d.stderr.text).not.toMatch(/error|warning/);
  });

  test("a failing pair is reported once and backs off; the other pair syncs on", async () => {
    const w = await calWorld(`
[pair broken]
a = "br_a"
b = "br_b"
collections = null

[storage br_a]
type = "filesystem"
path = "{root}/br_a/"
fileext = ".ics"

[storage br_b]
type = "filesystem"
path = "{root}/br_b/"
fileext = ".ics"
`);
    mkdirSync(join(w.root, "br_a"));
    mkdirSync(join(w.root, "br_b"));
    const disc = await w.run(["discover", "broken"]);
    expect(disc.code, disc.stderr).toBe(0);
    // Two different items with one UID on one side: the collection fails on every attempt.
    w.write("br_a/1.ics", event("dup", "first"));
    w.write("br_a/2.ics", event("dup", "second"));
    const d = startDaemon(w);
    await d.until(() => d.rounds.filter((r) => r.synced.includes("broken")).length >= 3);
    w.write("a/ok.ics", event("ok"));
    await d.until(() => uids(join(w.root, "b")).includes("ok"));
    expect(await d.stop()).toBe(0);
    const errors = d.stderr.text.split("\n").filter((l) => l.startsWith("error: broken:"));
    expect(errors.length).toBe(1);
    const state = readDaemonState(join(w.root, "status"));
    expect(state?.collections.broken?.failures).toBeGreaterThanOrEqual(3);
    expect(state?.collections.broken?.lastError).toMatch(/multiple items with the same UID/);
  });

  test("a pair whose password is asked at a prompt is left out with what to do; never a question", async () => {
    const w = await calWorld(`
[pair asks]
a = "cal_a"
b = "dav"
collections = null

[storage dav]
type = "caldav"
url = "http://127.0.0.1:9/"
username = "bob"
password.fetch = ["prompt", "Password for bob"]
`);
    const d = startDaemon(w);
    await d.round();
    w.write("a/q.ics", event("q"));
    await d.until(() => uids(join(w.root, "b")).includes("q"));
    expect(await d.stop()).toBe(0);
    expect(d.stderr.text).toMatch(/Pair asks is left out of the daemon/);
    expect(d.stderr.text).toMatch(/`password.fetch` of \[storage dav\] asks at a prompt/);
    expect(d.stderr.text).toMatch(/hint: .*vdirsyncer sync asks/);
    expect(d.stderr.text).not.toMatch(/Password for bob/);
  });

  test("a wall-clock jump (suspend and resume) makes every collection due at once", async () => {
    const w = await calWorld();
    let offset = 0;
    const clock = { mono: () => performance.now(), wall: () => Date.now() + offset };
    const d = startDaemon(w, { clock, timing: { intervalMs: 3_600_000, debounceMs: 3_600_000 } });
    await d.round();
    // A change the watcher reports would wait an hour (debounce), the poll an hour too.
    w.write("a/s.ics", event("s"));
    await new Promise((r) => setTimeout(r, 100));
    expect(uids(join(w.root, "b"))).toEqual([]);
    offset = 3 * 3_600_000;
    await d.until(() => uids(join(w.root, "b")).includes("s"), 10_000);
    expect(await d.stop()).toBe(0);
    expect(d.stderr.text).toMatch(/The clock jumped .* checking every collection/);
  });

  test("a rewritten discovery cache is picked up without a restart", async () => {
    const w = world();
    for (const p of ["a/one", "b"]) mkdirSync(join(w.root, p), { recursive: true });
    w.writeConfig(`${general(w.root)}
[pair multi]
a = "m_a"
b = "m_b"
collections = ["from a"]
implicit = "create"

[storage m_a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage m_b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`);
    const disc = await w.run(["discover"]);
    expect(disc.code, disc.stderr).toBe(0);
    const d = startDaemon(w, { timing: { discoverMs: 50 } });
    await d.round();
    mkdirSync(join(w.root, "a", "two"));
    await d.until(() => /New collection "two" on storage m_a/.test(d.stderr.text), 20_000);
    expect((await w.run(["discover", "multi"])).code).toBe(0);
    w.write("a/two/t.ics", event("t"));
    await d.until(
      () => existsSync(join(w.root, "b", "two")) && uids(join(w.root, "b", "two")).includes("t"),
      20_000,
    );
    expect(await d.stop()).toBe(0);
    expect(d.stderr.text).toMatch(/The collections of pair multi changed/);
  }, 60_000);

  test("memory stays flat over 200 rounds", async () => {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const w = await calWorld();
    for (let i = 0; i < 20; i++) w.write(`a/m${i}.ics`, event(`m${i}`));
    const d = startDaemon(w, { timing: { intervalMs: 1, jitter: 0, debounceMs: 1 } });
    const heapAt = async (n: number) => {
      await d.until(() => d.rounds.length >= n, 120_000);
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const early = await heapAt(40);
    // Keep the folders changing so that real work happens in every round.
    let i = 0;
    const writer = setInterval(() => writeFileSync(join(w.root, "a", "m0.ics"), event("m0", `v${i++}`)), 5);
    let late: number;
    try {
      late = await heapAt(200);
    } finally {
      clearInterval(writer);
    }
    expect(await d.stop()).toBe(0);
    expect(late - early).toBeLessThan(4 * 1024 * 1024);
  }, 180_000);
});

describe("completion of daemon, status and check", () => {
  test("every option of the new commands is completed in bash, zsh and fish, and so are their names", async () => {
    const w = world();
    w.writeConfig(general(w.root));
    const scripts = {
      bash: (await w.run(["completion", "bash"])).stdout,
      zsh: (await w.run(["completion", "zsh"])).stdout,
      fish: (await w.run(["completion", "fish"])).stdout,
    };
    for (const command of ["daemon", "status", "check"]) {
      const help = (await w.run([command, "--help"])).stdout;
      const options = [...new Set(help.match(/--[a-z][a-z-]+/g) ?? [])].filter(
        (o) => !["--help", "--version", "--verbosity", "--config"].includes(o),
      );
      expect(options.length).toBeGreaterThan(0);
      for (const shell of ["bash", "zsh", "fish"] as const) {
        const script = scripts[shell];
        expect(script).toMatch(new RegExp(`\\b${command}\\b`));
        for (const o of options) {
          const line = script
            .split("\n")
            .find((l) =>
              shell === "fish"
                ? l.includes(`__fish_seen_subcommand_from ${command}"`) && l.endsWith(`-l ${o.slice(2)}`)
                : l.trimStart().startsWith(`${command})`) && l.includes(o),
            );
          expect(line, `${shell}: ${command} ${o}`).toBeDefined();
        }
      }
    }
    expect(scripts.bash).toMatch(/discover\|daemon\|status\) names="\$\(vdirsyncer completion --names pairs/);
    expect(scripts.bash).toMatch(/repair\|check\) names="\$\(vdirsyncer completion --names storages/);
  });
});

describe("contrib", () => {
  test("the systemd units pass systemd-analyze verify and start real vdirsyncer commands", () => {
    const dir = fileURLToPath(new URL("../contrib", import.meta.url));
    const units = ["vdirsyncer-daemon.service", "vdirsyncer-sync.service", "vdirsyncer-sync.timer"];
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", ...units.map((u) => join(dir, u))], {
      encoding: "utf8",
      env: { ...process.env, XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), "units-")) },
    });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
    const text = (u: string) => readFileSync(join(dir, u), "utf8");
    expect(text("vdirsyncer-daemon.service")).toMatch(/^ExecStart=vdirsyncer daemon$/m);
    expect(text("vdirsyncer-daemon.service")).toMatch(/^ExecReload=kill -HUP \$MAINPID$/m);
    expect(text("vdirsyncer-sync.service")).toMatch(/^ExecStart=vdirsyncer sync$/m);
    expect(text("vdirsyncer-sync.timer")).toMatch(/^OnCalendar=\*:0\/15$/m);
  });
});
