import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isVdirsyncerError, type VdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { STATUS_LOCKED } from "../src/errors.ts";
import { FOREIGN_LOCK_EXPIRY_MS, lockHolder, lockPair } from "../src/lock.ts";
import { collectingLog, firstLine, tempDir } from "./helpers.ts";

async function lockError(p: Promise<unknown>): Promise<VdirsyncerError> {
  try {
    await p;
  } catch (err) {
    if (isVdirsyncerError(err, STATUS_LOCKED)) return err;
    throw err;
  }
  throw new Error("expected a status/LOCKED error");
}

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await once(child, "exit");
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

describe("lockPair", () => {
  it("writes a lock file with our pid and removes it on release", async () => {
    const dir = tempDir();
    const lock = await lockPair(dir, "p");
    expect(lock.path).toBe(join(dir, "p.lock"));
    const info = JSON.parse(readFileSync(lock.path, "utf8"));
    expect(info.pid).toBe(process.pid);
    expect(typeof info.started).toBe("string");
    lock.release();
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it("keeps a second lock of the same pair out, and lets other pairs run", async () => {
    const dir = tempDir();
    const first = await lockPair(dir, "p");
    const other = await lockPair(dir, "q");
    const err = await lockError(lockPair(dir, "p", { waitMs: 150, pollMs: 20 }));
    expect(err.message).toBe(
      `Pair p is being synced by process ${process.pid} since ${JSON.parse(readFileSync(first.path, "utf8")).started} (lock file ${first.path}).`,
    );
    expect(err.hint).toContain(`delete ${first.path}`);
    other.release();
    first.release();
    (await lockPair(dir, "p")).release();
  });

  it("waits for a release within waitMs", async () => {
    const dir = tempDir();
    const first = await lockPair(dir, "p");
    const second = lockPair(dir, "p", { waitMs: 10_000, pollMs: 10 });
    setTimeout(() => first.release(), 50);
    const lock = await second;
    expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over a stale lock from a dead process, with a warning", async () => {
    const dir = tempDir();
    const pid = await deadPid();
    const path = join(dir, "p.lock");
    writeFileSync(
      path,
      JSON.stringify({ pid, started: "2020-01-01T00:00:00.000Z", hostname: hostname(), token: "x" }),
    );
    const log = collectingLog();
    const lock = await lockPair(dir, "p", { waitMs: 0, log });
    expect(log.warnings).toEqual([
      `Taking over the lock of pair p from process ${pid}, which is no longer running (${path}).`,
    ]);
    expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("does not judge a lock from another host by its pid", async () => {
    const dir = tempDir();
    const pid = await deadPid();
    writeFileSync(
      join(dir, "p.lock"),
      JSON.stringify({ pid, started: "s", hostname: `not-${hostname()}`, token: "x" }),
    );
    const err = await lockError(lockPair(dir, "p", { waitMs: 30, pollMs: 10 }));
    expect(err.hint).toContain(`not-${hostname()}`);
  });

  it("excludes a lock held by another Node process until that process releases it", async () => {
    const dir = tempDir();
    const src = join(import.meta.dirname, "..", "src", "lock.ts");
    const holder = spawn(
      process.execPath,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--conditions=source",
        "--input-type=module",
        "-e",
        `import { lockPair } from ${JSON.stringify(src)};
const lock = await lockPair(${JSON.stringify(dir)}, "p");
console.log("held");
process.stdin.on("end", () => { lock.release(); console.log("released"); });
process.stdin.resume();`,
      ],
      { stdio: ["pipe", "pipe", "inherit"], cwd: join(import.meta.dirname, "..") },
    );
    try {
      expect(await firstLine(holder.stdout)).toBe("held");
      const err = await lockError(lockPair(dir, "p", { waitMs: 100, pollMs: 20 }));
      expect(err.message).toContain(`process ${holder.pid} `);
      expect(err.message).toContain(join(dir, "p.lock"));
      const waiting = lockPair(dir, "p", { waitMs: 20_000, pollMs: 20 });
      holder.stdin.end();
      const lock = await waiting;
      expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
      lock.release();
    } finally {
      holder.stdin.end();
      if (holder.exitCode === null) await once(holder, "exit");
    }
    expect(holder.exitCode).toBe(0);
  });

  it("a holder that exits without release() still removes its lock", async () => {
    const dir = tempDir();
    const src = join(import.meta.dirname, "..", "src", "lock.ts");
    const child = spawn(
      process.execPath,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--conditions=source",
        "--input-type=module",
        "-e",
        `import { existsSync } from "node:fs";
const { lockPair } = await import(${JSON.stringify(src)});
const lock = await lockPair(${JSON.stringify(dir)}, "p");
if (!existsSync(lock.path)) process.exit(3);
process.exit(0);`,
      ],
      { stdio: ["ignore", "inherit", "inherit"], cwd: join(import.meta.dirname, "..") },
    );
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(existsSync(join(dir, "p.lock"))).toBe(false);
  });

  it("a crashed holder leaves a stale lock that the next run takes over", async () => {
    const dir = tempDir();
    const src = join(import.meta.dirname, "..", "src", "lock.ts");
    const crasher = spawn(
      process.execPath,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--conditions=source",
        "--input-type=module",
        "-e",
        `import { lockPair } from ${JSON.stringify(src)};
await lockPair(${JSON.stringify(dir)}, "p");
process.kill(process.pid, "SIGKILL");`,
      ],
      { stdio: ["ignore", "inherit", "inherit"], cwd: join(import.meta.dirname, "..") },
    );
    await once(crasher, "exit");
    expect(existsSync(join(dir, "p.lock"))).toBe(true);
    const log = collectingLog();
    const lock = await lockPair(dir, "p", { waitMs: 0, log });
    expect(log.warnings[0]).toContain(`from process ${crasher.pid}, which is no longer running`);
    lock.release();
  });

  describe("a lock from another host", () => {
    function foreignLock(dir: string, ageMs: number): string {
      const path = join(dir, "p.lock");
      writeFileSync(
        path,
        JSON.stringify({ pid: 4242, started: "2025-01-01T00:00:00.000Z", hostname: "laptop", token: "x" }),
      );
      const then = new Date(Date.now() - ageMs);
      utimesSync(path, then, then);
      return path;
    }

    it("is taken over when its holder did not refresh it for two hours, naming host, pid and age", async () => {
      const dir = tempDir();
      const path = foreignLock(dir, FOREIGN_LOCK_EXPIRY_MS + 5 * 60_000);
      const log = collectingLog();
      const lock = await lockPair(dir, "p", { waitMs: 0, log });
      expect(log.warnings).toEqual([
        `Taking over the lock of pair p from process 4242 on host laptop: it was taken 2025-01-01T00:00:00.000Z and not refreshed for 2 h 5 min, so that sync is gone (${path}).`,
      ]);
      expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(process.pid);
      lock.release();
    });

    it("stands while it is fresher than that, and the error names its holder", async () => {
      const dir = tempDir();
      foreignLock(dir, FOREIGN_LOCK_EXPIRY_MS - 60_000);
      const err = await lockError(lockPair(dir, "p", { waitMs: 0 }));
      expect((err as { holder?: unknown }).holder).toEqual({
        pid: 4242,
        hostname: "laptop",
        started: "2025-01-01T00:00:00.000Z",
      });
      expect(err.hint).toContain("taken over once nobody refreshed it for 2 h 0 min");
      expect(lockHolder(dir, "p")).toEqual({
        pid: 4242,
        hostname: "laptop",
        started: "2025-01-01T00:00:00.000Z",
      });
    });
  });

  it("is refreshed by its holder while held, so another host never takes a running sync's lock", async () => {
    const dir = tempDir();
    const lock = await lockPair(dir, "p", { refreshMs: 20 });
    const old = new Date(Date.now() - FOREIGN_LOCK_EXPIRY_MS * 2);
    utimesSync(lock.path, old, old);
    for (let i = 0; i < 500 && statSync(lock.path).mtimeMs <= old.getTime(); i++) await sleep(10);
    expect(statSync(lock.path).mtimeMs).toBeGreaterThan(old.getTime() + FOREIGN_LOCK_EXPIRY_MS);
    lock.release();
    expect(lockHolder(dir, "p")).toBeUndefined();
  });

  it("lockHolder names a live holder of this host and ignores a dead one", async () => {
    const dir = tempDir();
    const lock = await lockPair(dir, "p");
    expect(lockHolder(dir, "p")).toMatchObject({ pid: process.pid, hostname: hostname() });
    lock.release();
    writeFileSync(
      join(dir, "p.lock"),
      JSON.stringify({ pid: await deadPid(), started: "s", hostname: hostname(), token: "x" }),
    );
    expect(lockHolder(dir, "p")).toBeUndefined();
  });
});
