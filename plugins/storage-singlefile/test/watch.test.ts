// watch(): another program's write of the file reaches onChange; other files in the folder do not; abort ends it.
import { execFile } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { event, openFile, tempDir } from "./helpers.ts";

const run = promisify(execFile);

/** Counts onChange calls; `next()` resolves on the next call, or rejects after a bounded wait. */
function recorder() {
  let calls = 0;
  const waiters: (() => void)[] = [];
  return {
    onChange: () => {
      calls++;
      for (const w of waiters.splice(0)) w();
    },
    get calls() {
      return calls;
    },
    next(ms = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no onChange within ${ms} ms`)), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function watchers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap").length;
}

async function watchersSettleAt(n: number): Promise<number> {
  for (let i = 0; i < 100 && watchers() !== n; i++) await sleep(10);
  return watchers();
}

describe("watch()", () => {
  it("calls onChange when another program rewrites or replaces the file, not for its neighbours", async () => {
    const dir = await tempDir();
    const file = join(dir, "cal.ics");
    await writeFile(file, event("a", "A"));
    const col = await openFile(file);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);

    await writeFile(join(dir, "other.ics"), event("o", "Other"));
    await writeFile(join(dir, ".cal.ics.0f0f.tmp"), "temp");
    await sleep(300);
    expect(rec.calls).toBe(0);

    let next = rec.next();
    await run("sh", ["-c", 'printf "%s" "$1" >> "$2"', "sh", event("b", "B"), file]);
    await next;
    next = rec.next();
    // Editors and vdirsyncer replace the file by a rename.
    await run("sh", ["-c", 'printf "%s" "$1" > "$2.new" && mv "$2.new" "$2"', "sh", event("c", "C"), file]);
    await next;
  });

  it("sees the storage's own flush, and follows the folder when it is replaced", async () => {
    const root = await tempDir();
    const dir = join(root, "cals");
    await mkdir(dir);
    const file = join(dir, "cal.ics");
    await writeFile(file, "");
    const col = await openFile(file);
    const rec = recorder();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    col.watch(rec.onChange, stop.signal);
    let next = rec.next();
    await col.upload(new Item(event("x", "X")));
    await col.flush();
    await next;

    await mkdir(join(root, "cals.new"));
    await writeFile(join(root, "cals.new", "cal.ics"), "");
    next = rec.next();
    await rm(dir, { recursive: true });
    await rename(join(root, "cals.new"), dir);
    await next;
    await sleep(100);
    next = rec.next();
    await writeFile(file, event("y", "Y"));
    await next;
  });

  it("stops when the signal aborts and leaves no watcher behind; a missing folder is CollectionNotFoundError", async () => {
    const root = await tempDir();
    const dir = join(root, "cals");
    await mkdir(dir);
    const file = join(dir, "cal.ics");
    await writeFile(file, "");
    const col = await openFile(file);
    const before = watchers();
    const rec = recorder();
    const stop = new AbortController();
    col.watch(rec.onChange, stop.signal);
    expect(watchers()).toBe(before + 2);
    stop.abort();
    expect(await watchersSettleAt(before)).toBe(before);
    await writeFile(file, event("late", "Late"));
    await sleep(300);
    expect(rec.calls).toBe(0);

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
