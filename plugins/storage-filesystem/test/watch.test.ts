// watch(): changes made by other programs reach onChange; our own temporary files do not; the signal ends it.
import { execFile } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempNameFor } from "../src/leftovers.ts";
import { event, freshDir, openDir } from "./helpers.ts";

const run = promisify(execFile);

/** Counts onChange calls and lets a test wait for the next one, at most `ms`. */
function recorder() {
  let calls = 0;
  let waiters: (() => void)[] = [];
  return {
    onChange: () => {
      calls++;
      for (const w of waiters.splice(0)) w();
    },
    get calls() {
      return calls;
    },
    /** Resolves on the next call after now; rejects after `ms` without one. */
    next(ms = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no onChange within ${ms} ms`)), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    reset() {
      calls = 0;
      waiters = [];
    },
  };
}

/** File system watchers this process holds. */
function watchers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap").length;
}

/** Waits (bounded) until the watcher count is `n`: handles close on the next turn of the event loop. */
async function watchersSettleAt(n: number): Promise<number> {
  for (let i = 0; i < 100 && watchers() !== n; i++) await sleep(10);
  return watchers();
}

describe("watch()", () => {
  it("calls onChange when another program writes, renames or removes a file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);

    let next = rec.next();
    await run("sh", ["-c", 'printf "%s" "$1" > "$2"', "sh", event("x").raw, join(dir, "x.ics")]);
    await next;
    next = rec.next();
    await run("mv", [join(dir, "x.ics"), join(dir, "y.ics")]);
    await next;
    next = rec.next();
    await run("rm", [join(dir, "y.ics")]);
    await next;
    next = rec.next();
    await run("sh", ["-c", 'printf Work > "$1"', "sh", join(dir, "displayname")]);
    await next;
  });

  it("groups a burst of writes into few calls", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);
    const next = rec.next();
    await run("sh", ["-c", `for i in $(seq 1 50); do echo x > "$1/f$i.ics"; done`, "sh", dir]);
    await next;
    expect(rec.calls).toBeGreaterThan(0);
    expect(rec.calls).toBeLessThan(50);
  });

  it("ignores our own temporary files and the ignored extension, and sees our writes", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);
    await writeFile(join(dir, tempNameFor("a.ics")), "partial");
    await writeFile(join(dir, "other.tmp"), "ignored by fileignoreext");
    await sleep(300);
    expect(rec.calls).toBe(0);
    const next = rec.next();
    await col.upload(event("ours"));
    await next;
  });

  it("follows the folder when another folder replaces it", async () => {
    const root = await freshDir();
    const dir = join(root, "cal");
    await mkdir(dir);
    const col = await openDir(dir);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);
    await mkdir(join(root, "cal.new"));
    let next = rec.next();
    await rm(dir, { recursive: true });
    await rename(join(root, "cal.new"), dir);
    await next;
    await sleep(100);
    next = rec.next();
    await writeFile(join(dir, "after.ics"), event("after").raw);
    await next;
  });

  it("stops when the signal aborts and leaves no watcher behind", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const before = watchers();
    const rec = recorder();
    const stops = [new AbortController(), new AbortController()];
    for (const s of stops) col.watch(rec.onChange, s.signal);
    expect(watchers()).toBe(before + 4); // the folder and its parent, per watch
    for (const s of stops) s.abort();
    expect(await watchersSettleAt(before)).toBe(before);
    await writeFile(join(dir, "late.ics"), event("late").raw);
    await sleep(300);
    expect(rec.calls).toBe(0);
  });

  it("does nothing for an aborted signal, and a missing folder is CollectionNotFoundError", async () => {
    const root = await freshDir();
    const dir = join(root, "cal");
    await mkdir(dir);
    const col = await openDir(dir);
    const before = watchers();
    col.watch(() => {}, AbortSignal.abort());
    expect(watchers()).toBe(before);
    await rm(dir, { recursive: true });
    let err: unknown;
    try {
      col.watch(() => {}, new AbortController().signal);
    } catch (e) {
      err = e;
    }
    expect(isVdirsyncerError(err, "COLLECTION_NOT_FOUND")).toBe(true);
    expect(await watchersSettleAt(before)).toBe(before);
  });
});
