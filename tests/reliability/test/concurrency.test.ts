/**
 * Concurrency: two of our syncs of one pair at once; another program editing the vdir during a sync; and our
 * sync racing Python vdirsyncer's on the same pair and status (a user who switched tools but kept a cron job).
 * The CI version races them on 400 items (a few seconds of sync); VDIRSYNCER_RELIABILITY_FULL=1 on 3,000
 * (VDIRSYNCER_RELIABILITY_RACE_ITEMS sets any count).
 */

const RACE_ITEMS = Number(process.env.VDIRSYNCER_RELIABILITY_RACE_ITEMS ?? (FULL ? 3000 : 400));

import { spawn } from "node:child_process";
import { readFileSync, unlinkSync } from "node:fs";
import { expect, test } from "vitest";
import { describeRan, type Ran } from "../src/command.ts";
import { FULL } from "../src/full.ts";
import { byUid, event, hashOf, readFolder, tally } from "../src/items.ts";
import { record } from "../src/record.ts";
import { World } from "../src/world.ts";

const VDIRS = `[general]
status_path = "{root}/status/"

[pair p]
a = "a"
b = "b"
collections = ["from a", "from b"]

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`;

function seed(world: World, n: number, prefix = "i"): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const uid = `${prefix}-${i}`;
    world.write(`a/c1/${uid}.ics`, event(uid));
    expected.set(uid, [hashOf(event(uid))]);
  }
  world.write("b/.keep", "");
  world.writeConfig(VDIRS);
  return expected;
}

test("two syncs of one pair at once: one waits for the lock or refuses clearly; nothing lost or doubled", async () => {
  const world = new World("vdirsyncer-two-syncs-");
  try {
    const expected = seed(world, 300);
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const [one, two] = await Promise.all([world.run(["sync"]), world.run(["sync"])]);
    const runs = [one, two] as Ran[];
    const failed = runs.filter((r) => r.code !== 0);
    const clear = failed.every((r) => /lock/i.test(r.stderr) && /^hint: /m.test(r.stderr));
    const again = await world.run(["sync"]);
    const t = tally(readFolder(world.path("a", "c1")), readFolder(world.path("b", "c1")), expected);
    record("concurrency", "two syncs at once", {
      exits: runs.map((r) => r.code),
      refusedClearly:
        failed.length === 0 ? "waited" : clear ? "refused, naming the lock" : "failed unclearly",
      lost: t.lost,
      duplicated: t.duplicated,
      different: t.different,
    });
    expect(
      runs.some((r) => r.code === 0),
      runs.map(describeRan).join("\n"),
    ).toBe(true);
    expect(clear, failed.map(describeRan).join("\n")).toBe(true);
    expect(again.code, describeRan(again)).toBe(0);
    expect(t, t.details.join("; ")).toMatchObject({ lost: 0, duplicated: 0, different: 0 });
  } finally {
    world.dispose();
  }
});

test("another program edits the vdir during a sync: nothing lost, the next sync carries its edits", async () => {
  const world = new World("vdirsyncer-editor-race-");
  try {
    const n = 400;
    const expected = seed(world, n);
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const first = await world.run(["sync"]);
    expect(first.code, describeRan(first)).toBe(0);
    // Edits on both sides so the sync has work; then the "editor" changes files while it runs.
    for (let i = 0; i < n; i += 4) {
      const uid = `i-${i}`;
      const text = event(uid, `${uid} edited before the sync`);
      world.write(`a/c1/${uid}.ics`, text);
      expected.set(uid, [hashOf(text)]);
    }
    const deleted = new Set<string>();
    const edits = () => {
      for (let i = 1; i < n; i += 8) {
        const uid = `i-${i}`;
        const text = event(uid, `${uid} edited during the sync`);
        world.write(`a/c1/${uid}.ics`, text);
        expected.set(uid, [hashOf(text)]);
      }
      for (let i = 3; i < n; i += 40) {
        const uid = `i-${i}`;
        try {
          unlinkSync(world.path("a", "c1", `${uid}.ics`));
        } catch {}
        expected.delete(uid);
        deleted.add(uid);
      }
      for (let k = 0; k < 10; k++) {
        const uid = `new-${k}`;
        world.write(`a/c1/${uid}.ics`, event(uid));
        expected.set(uid, [hashOf(event(uid))]);
      }
    };
    let edited = false;
    const racing = await world.run(["sync"], {
      onStderr: () => {
        if (!edited) {
          edited = true;
          edits();
        }
      },
    });
    const next = await world.run(["sync"]);
    const t = tally(readFolder(world.path("a", "c1")), readFolder(world.path("b", "c1")), expected, deleted);
    const raceLines = racing.stderr.split("\n").filter((l) => /^(error|warning)/.test(l));
    record("concurrency", "editor during a sync", {
      racingExit: racing.code,
      raceReports: raceLines.length,
      nextExit: next.code,
      lost: t.lost,
      duplicated: t.duplicated,
      different: t.different,
      resurrected: t.resurrected,
    });
    expect(edited).toBe(true);
    expect(next.code, describeRan(next)).toBe(0);
    expect(t, t.details.join("; ")).toMatchObject({ lost: 0, duplicated: 0, different: 0, resurrected: 0 });
  } finally {
    world.dispose();
  }
});

/** Python vdirsyncer, checked to be the Python one. */
function pythonVdirsyncer(): string {
  const path = "/usr/bin/vdirsyncer";
  const head = readFileSync(path, "utf8").split("\n", 1)[0] ?? "";
  if (!/python/.test(head)) throw new Error(`${path} is not Python vdirsyncer (its first line is ${head}).`);
  return path;
}

function runPython(
  world: World,
  args: string[],
  onStderr?: () => void,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonVdirsyncer(), args, {
      cwd: world.root,
      env: { ...world.env, VDIRSYNCER_CONFIG: world.config, PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => {
      stderr += t;
      onStderr?.();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 110_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

type Outcome = { code: number | null; stderr: string };

test.each(["ours", "Python"] as const)(
  `%s first, the other 2 s after its first line, on one pair and status of ${RACE_ITEMS} items: no duplicates`,
  async (first) => {
    const world = new World("vdirsyncer-vs-python-");
    try {
      const n = RACE_ITEMS;
      const expected = seed(world, n);
      const d = await world.run(["discover"], { input: "y\n".repeat(5) });
      expect(d.code, describeRan(d)).toBe(0);
      // The second starts 2 s after the first printed its first line, so that the first is syncing by then
      // however slow the machine is to start it.
      const runOurs = (onStderr?: () => void): Promise<Outcome> =>
        world.run(["sync"], { timeoutMs: 110_000, ...(onStderr ? { onStderr } : {}) });
      let second: Promise<Outcome> | undefined;
      const startSecond = () => {
        second ??= new Promise((r) => setTimeout(r, 2000)).then(() =>
          first === "ours" ? runPython(world, ["sync"]) : runOurs(),
        );
      };
      const f = await (first === "ours" ? runOurs(startSecond) : runPython(world, ["sync"], startSecond));
      startSecond();
      const sec = await (second as Promise<Outcome>);
      const [o, p] = first === "ours" ? [f, sec] : [sec, f];
      const after = await world.run(["sync"], { timeoutMs: 110_000 });
      const a = readFolder(world.path("a", "c1"));
      const b = readFolder(world.path("b", "c1"));
      const t = tally(a, b, expected);
      const dupB = b.size - byUid(b).size;
      record("concurrency", `${first} first, the other (ours or Python vdirsyncer) 2 s later`, {
        items: n,
        oursExit: o.code,
        oursError: o.stderr.split("\n").find((l) => /^(error|critical)/.test(l)) ?? "",
        pythonExit: p.code,
        pythonError: p.stderr.split("\n").find((l) => /^(error|critical)/i.test(l)) ?? "",
        lost: t.lost,
        duplicated: t.duplicated,
        duplicatedOnB: dupB,
        different: t.different,
      });
      expect(after.code, describeRan(after)).toBe(0);
      expect(t.lost, t.details.join("; ")).toBe(0);
      expect(
        t.duplicated,
        `${t.duplicated} duplicates (b: ${b.size} files for ${byUid(b).size} UIDs); ${t.details.join("; ")}`,
      ).toBe(0);
    } finally {
      world.dispose();
    }
  },
  300_000,
);
