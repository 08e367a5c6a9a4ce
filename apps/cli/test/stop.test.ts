/**
 * SIGTERM and SIGINT on the real, built command in a child process: a sync into a slow storage is stopped, exits
 * 143 (or 130), leaves no lock behind, and the next sync converges with nothing lost or duplicated.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { event } from "./helpers.ts";
import { BIN, describeRun, ensureBuilt, type Ran, Sandbox } from "./interop/built-bin.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const ITEMS = 120;

let box: Sandbox;

beforeAll(() => {
  ensureBuilt();
  box = new Sandbox("vdirsyncer-stop-");
}, 300_000);

afterAll(() => box?.dispose());

/** A fresh world in the sandbox: notes on a (ITEMS items), the slow storage on b, both plugins next to the config. */
function setup(name: string): { home: string; config: string } {
  const home = box.path(name);
  const confDir = join(home, "conf");
  mkdirSync(join(confDir, "node_modules"), { recursive: true });
  for (const p of ["vdirsyncer-storage-notes", "vdirsyncer-storage-slow"]) {
    symlinkSync(join(FIXTURES, p), join(confDir, "node_modules", p), "dir");
  }
  const config = join(confDir, "config");
  box.write(
    `${name}/conf/config`,
    `[general]
status_path = "${home}/status/"

[pair pair]
a = "local"
b = "remote"
collections = null

[storage local]
type = "notes"
path = "${home}/a"

[storage remote]
type = "slow"
path = "${home}/b"
delay_ms = 20
`,
  );
  for (let i = 0; i < ITEMS; i++) box.write(`${name}/a/e${i}.note`, event(`e${i}`));
  mkdirSync(join(home, "b"), { recursive: true });
  return { home, config };
}

/** Runs the command to its end. */
function run(config: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return runUntil(config, args, env);
}

/**
 * Runs the command; whenever its stderr has `after` lines matching `pattern`, sends the next of `signals`.
 */
function runUntil(
  config: string,
  args: string[],
  env: Record<string, string>,
  trigger?: { pattern: RegExp; after: number[]; signals: NodeJS.Signals[] },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "-c", config, ...args], {
      cwd: box.home,
      env: { ...box.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = 0;
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!trigger) return;
      const seen = stderr.split("\n").filter((l) => trigger.pattern.test(l)).length;
      while (sent < trigger.signals.length && seen >= (trigger.after[sent] as number)) {
        child.kill(trigger.signals[sent] as NodeJS.Signals);
        sent++;
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({
        code: code ?? (signal === null ? null : -1),
        stdout,
        stderr,
        command: `vdirsyncer ${args.join(" ")}`,
      });
    });
  });
}

/** uid → number of files holding it in `dir`. */
function uidsIn(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".tmp") || name.startsWith(".")) continue;
    const uid = /^UID:(.*?)\r?$/m.exec(readFileSync(join(dir, name), "utf8"))?.[1] as string;
    out.set(uid, (out.get(uid) ?? 0) + 1);
  }
  return out;
}

function expectConverged(home: string): void {
  const b = uidsIn(join(home, "b"));
  expect(b.size).toBe(ITEMS);
  expect([...b.values()].every((n) => n === 1)).toBe(true);
  expect(uidsIn(join(home, "a")).size).toBe(ITEMS);
}

const COPY = /^Copying \(uploading\) item e\d+ to remote$/;

describe("stopping a sync", () => {
  test("SIGTERM: writes in flight finish, exit 143, no lock left, the next sync converges", async () => {
    const { home, config } = setup("term");
    expect((await run(config, ["discover"])).code).toBe(0);
    const r = await runUntil(config, ["sync"], {}, { pattern: COPY, after: [10], signals: ["SIGTERM"] });
    expect(r.code, describeRun(r)).toBe(143);
    expect(r.stderr).toContain("warning: Received SIGTERM: stopping.");
    expect(r.stderr).toMatch(/warning: pair: stopped; \d+ changes are left for the next sync\./);
    expect(existsSync(join(home, "status", "pair.lock"))).toBe(false);
    const partial = uidsIn(join(home, "b"));
    expect(partial.size).toBeGreaterThanOrEqual(10);
    expect(partial.size).toBeLessThan(ITEMS);
    // Every item the stopped run wrote is recorded: the next run copies only the rest, each once.
    const next = await run(config, ["sync"]);
    expect(next.code, describeRun(next)).toBe(0);
    expect(next.stderr.split("\n").filter((l) => COPY.test(l))).toHaveLength(ITEMS - partial.size);
    expectConverged(home);
    const quiet = await run(config, ["sync"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("Copying");
  }, 120_000);

  test("a second signal stops at once: exit 130, no lock left, nothing lost or duplicated", async () => {
    const { home, config } = setup("int");
    expect((await run(config, ["discover"])).code).toBe(0);
    // Each write takes 30 s: once the first is in flight, only a hard stop ends this run quickly.
    const r = await runUntil(
      config,
      ["sync"],
      { SLOW_STORAGE_DELAY_MS: "30000" },
      { pattern: COPY, after: [1, 1], signals: ["SIGINT", "SIGINT"] },
    );
    expect(r.code, describeRun(r)).toBe(130);
    expect(r.stderr).toContain("warning: Stopping now: abandoning the requests in flight.");
    expect(existsSync(join(home, "status", "pair.lock"))).toBe(false);
    const next = await run(config, ["sync"], { SLOW_STORAGE_DELAY_MS: "1" });
    expect(next.code, describeRun(next)).toBe(0);
    expectConverged(home);
  }, 120_000);
});
