// Writes are atomic: a failure leaves the old content and no temporary file; concurrent writers do not clash.
import { execFile } from "node:child_process";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterEach, describe, expect, it } from "vitest";
import { copyExclusive, TargetExistsError, tempNameFor } from "../src/atomic.ts";
import { collect, event, freshDir, openDir } from "./helpers.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const undo: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const f of undo.splice(0).reverse()) await f();
});

/**
 * Makes `path` unwritable. Root ignores permission bits, so as root the immutable attribute is used instead
 * (ext4 and most Linux file systems support it).
 */
async function freeze(path: string) {
  if (isRoot) {
    await run("chattr", ["+i", path]);
    undo.push(() => run("chattr", ["-i", path]));
  } else {
    const { mode } = await stat(path);
    await chmod(path, (await stat(path)).isDirectory() ? 0o555 : 0o444);
    undo.push(() => chmod(path, mode));
  }
}

describe("atomic writes", () => {
  it("upload() into a read-only folder fails and leaves nothing behind", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href } = await col.upload(event("existing"));
    const before = await readFile(join(dir, href));
    await freeze(dir);
    await expect(col.upload(event("new"))).rejects.toThrow();
    await expect(col.setMeta("color", "#ff0000")).rejects.toThrow();
    expect(await readdir(dir)).toEqual([href]);
    expect(await readFile(join(dir, href))).toEqual(before);
  });

  it("update() that cannot replace the file keeps the old content and removes its temporary file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("keep", "old"));
    // As root the file itself is frozen (rename over it fails after the temp file was written);
    // otherwise the folder is (the temp file cannot even be created).
    await freeze(isRoot ? join(dir, href) : dir);
    await expect(col.update(href, event("keep", "new"), etag!)).rejects.toThrow();
    expect(await readdir(dir)).toEqual([href]);
    expect(await readFile(join(dir, href), "utf8")).toContain("SUMMARY:old");
    expect((await col.get(href)).etag).toBe(etag);
  });

  it("an upload that loses the race for a name removes its temporary file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    await writeFile(join(dir, "taken.ics"), "someone else's");
    const err = await col.upload(event("taken")).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "ALREADY_EXISTS")).toBe(true);
    expect(await readdir(dir)).toEqual(["taken.ics"]);
    expect(await readFile(join(dir, "taken.ics"), "utf8")).toBe("someone else's");
  });

  it("the copy fallback (no hard links) refuses a taken name and writes mode 0600", async () => {
    const dir = await freshDir();
    const tmp = join(dir, ".src.tmp");
    await writeFile(tmp, "content", { mode: 0o644 });
    await writeFile(join(dir, "taken.ics"), "other");
    await expect(copyExclusive(tmp, join(dir, "taken.ics"))).rejects.toBeInstanceOf(TargetExistsError);
    expect(await readFile(join(dir, "taken.ics"), "utf8")).toBe("other");
    const stats = await copyExclusive(tmp, join(dir, "new.ics"));
    expect(await readFile(join(dir, "new.ics"), "utf8")).toBe("content");
    expect(Number(stats.mode) & 0o777).toBe(0o600);
  });

  it("temporary names are hidden, never end in an item extension and stay short", () => {
    const name = tempNameFor(`${"ü".repeat(300)}.ics`);
    expect(name.startsWith(".")).toBe(true);
    expect(name.endsWith(".tmp")).toBe(true);
    expect(Buffer.byteLength(name)).toBeLessThan(255);
  });

  it("update() changes the folder's mtime (khal caches on it)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("mt"));
    const old = new Date(2000, 0, 1);
    await import("node:fs/promises").then((fs) => fs.utimes(dir, old, old));
    await col.update(href, event("mt", "changed"), etag!);
    expect((await stat(dir)).mtimeMs).toBeGreaterThan(old.getTime());
  });
});

describe("concurrent writers", () => {
  it("50 concurrent uploads of different items all land", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => col.upload(event(`c${i}`))));
    const listed = await collect(col.list());
    expect(listed.map((r) => r.href).sort()).toEqual(results.map((r) => r.href).sort());
    expect((await readdir(dir)).length).toBe(50);
  });

  it("of 10 concurrent uploads to one name exactly one wins, whole", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => col.upload(event("same", `writer ${i}`))),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(isVdirsyncerError(o.reason, "ALREADY_EXISTS")).toBe(true);
    }
    expect(await readdir(dir)).toEqual(["same.ics"]);
    const text = await readFile(join(dir, "same.ics"), "utf8");
    expect(text).toMatch(/SUMMARY:writer \d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n$/);
  });

  it("of concurrent updates with the same etag, the file always holds one complete version", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("race"));
    await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => col.update(href, event("race", `v${i}`), etag!)),
    );
    expect(await readdir(dir)).toEqual([href]);
    expect((await col.get(href)).item.raw).toMatch(/SUMMARY:v\d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n$/);
  });
});
