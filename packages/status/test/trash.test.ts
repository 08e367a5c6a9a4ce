import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { TrashEntry } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import {
  createDiskTrash,
  findTrashEntries,
  listTrash,
  readTrashItem,
  removeDeadTempBatches,
  removeTrashEntries,
} from "../src/trash.ts";
import { tempDir } from "./helpers.ts";

const event = (uid: string) =>
  `BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
const entry = (over: Partial<TrashEntry>): TrashEntry => ({
  storage: "cal_a",
  side: "a",
  ident: "i",
  href: "i.ics",
  etag: "1.000000000;2",
  raw: event("i"),
  reason: "update",
  ...over,
});

/** Every file under `dir`, relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

describe("createDiskTrash", () => {
  it("keeps each item with a sidecar that lists back exactly", async () => {
    const status = tempDir();
    const trash = createDiskTrash(status, "p", "c");
    const card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:k\r\nFN:K\r\nEND:VCARD\r\n";
    await trash.keep([
      entry({ ident: "one", href: "1.ics", raw: event("one") }),
      entry({
        ident: "k",
        href: "k.vcf",
        raw: card,
        side: "b",
        storage: "contacts_b",
        etag: null,
        reason: "delete",
      }),
    ]);
    const listed = listTrash(status);
    expect(listed.map(({ itemPath, sidecarPath, time, id, size, hash, ...rest }) => rest)).toEqual([
      {
        format: 2,
        run: null,
        origin: null,
        name: null,
        uid: "one",
        pair: "p",
        collection: "c",
        storage: "cal_a",
        side: "a",
        ident: "one",
        href: "1.ics",
        etag: "1.000000000;2",
        reason: "update",
        file: "0.ics",
      },
      {
        format: 2,
        run: null,
        origin: null,
        name: "K",
        uid: "k",
        pair: "p",
        collection: "c",
        storage: "contacts_b",
        side: "b",
        ident: "k",
        href: "k.vcf",
        etag: null,
        reason: "delete",
        file: "1.vcf",
      },
    ]);
    expect(readFileSync(listed[0]?.itemPath ?? "", "utf8")).toBe(event("one"));
    expect(readFileSync(listed[1]?.itemPath ?? "", "utf8")).toBe(card);
    expect(Number.isNaN(Date.parse(listed[0]?.time ?? ""))).toBe(false);
    expect(statSync(listed[0]?.itemPath ?? "").mode & 0o777).toBe(0o600);
    expect(statSync(join(status, ".trash")).mode & 0o777).toBe(0o700);
  });

  it("never uses hrefs, idents or names as paths", async () => {
    const status = join(tempDir(), "status");
    const nasty = ["../x", "/etc/passwd", "a/b/../../c", "..", ".", "ünï😀", "con:1", "_"];
    for (const name of nasty) {
      await createDiskTrash(status, name, name).keep([entry({ href: name, ident: name, storage: name })]);
    }
    await createDiskTrash(status, "p", null).keep([entry({ href: "../../escape.ics" })]);
    // Everything stayed inside .trash, one level per pair and collection, plus the batch.
    const files = walk(status);
    expect(files.every((f) => f.startsWith(".trash/") && f.split("/").length === 5)).toBe(true);
    const listed = listTrash(status);
    expect(listed).toHaveLength(nasty.length + 1);
    expect(new Set(listed.map((e) => e.href))).toEqual(new Set([...nasty, "../../escape.ics"]));
    // Null and "_" are different collections.
    const nullEntry = listed.find((e) => e.collection === null);
    const underscore = listed.find((e) => e.collection === "_");
    expect(nullEntry?.pair).toBe("p");
    expect(
      relative(status, nullEntry?.itemPath ?? "")
        .split("/")
        .slice(0, 3),
    ).toEqual([".trash", "p", "_"]);
    expect(
      relative(status, underscore?.itemPath ?? "")
        .split("/")
        .slice(0, 3),
    ).toEqual([".trash", "%5F", "%5F"]);
  });

  it("puts batches of the same millisecond side by side and ignores unfinished ones", async () => {
    const status = tempDir();
    const trash = createDiskTrash(status, "p", "c");
    await Promise.all([1, 2, 3, 4, 5].map((n) => trash.keep([entry({ ident: `i${n}` })])));
    await trash.keep([]);
    expect(
      listTrash(status)
        .map((e) => e.ident)
        .sort(),
    ).toEqual(["i1", "i2", "i3", "i4", "i5"]);
    const base = join(status, ".trash", "p", "c");
    expect(readdirSync(base).filter((d) => d.startsWith("."))).toEqual([]);
  });

  it("lists nothing when there is no trash", () => {
    expect(listTrash(tempDir())).toEqual([]);
  });

  it("gives each entry a short stable id, reads sidecars of the first format, and removes entries cleanly", async () => {
    const status = tempDir();
    await createDiskTrash(status, "p", "c", { run: "R1", origin: "sync" }).keep([
      entry({ ident: "one", raw: event("one") }),
      entry({ ident: "two", raw: event("two") }),
    ]);
    // A batch written before ids and runs existed.
    const old = join(status, ".trash", "p", "c", "2024-01-01T00-00-00.000Z-0");
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, "0.ics"), "BEGIN:VCARD\r\nUID:v1\r\nFN:Old  Card\r\nEND:VCARD\r\n");
    writeFileSync(
      join(old, "0.json"),
      JSON.stringify({
        ...entry({ ident: "v1" }),
        raw: undefined,
        format: 1,
        pair: "p",
        collection: "c",
        time: "2024-01-01T00:00:00.000Z",
        file: "0.ics",
      }),
    );
    const listed = listTrash(status);
    expect(listed.map((e) => [e.ident, e.run, e.origin, e.name, e.uid])).toEqual([
      ["v1", null, null, "Old Card", "v1"],
      ["one", "R1", "sync", null, "one"],
      ["two", "R1", "sync", null, "two"],
    ]);
    const ids = listed.map((e) => e.id);
    expect(ids.every((id) => /^[0-9a-f]{10}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    // The same ids on every listing, and a unique prefix finds an entry.
    expect(listTrash(status).map((e) => e.id)).toEqual(ids);
    const [first] = findTrashEntries(status, (ids[1] as string).slice(0, 6).toUpperCase());
    expect(first?.ident).toBe("one");
    expect(readTrashItem(first as (typeof listed)[0])).toBe(event("one"));
    expect(findTrashEntries(status, "abc")).toEqual([]);
    expect(listTrash(status, { pair: "p", collection: "c" })).toHaveLength(3);
    expect(listTrash(status, { pair: "p", collection: null })).toEqual([]);

    removeTrashEntries(listed.filter((e) => e.run === "R1"));
    removeTrashEntries(listed.filter((e) => e.run === "R1"));
    expect(listTrash(status).map((e) => e.ident)).toEqual(["v1"]);
    expect(readdirSync(join(status, ".trash", "p", "c"))).toEqual(["2024-01-01T00-00-00.000Z-0"]);
  });
});

describe("temporary batches left by killed runs", () => {
  /** Starts a real process that creates `.tmp-<its pid>-0` with one item file in `base`, then waits. */
  async function writer(base: string): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("node:fs"), path = require("node:path");
const dir = path.join(${JSON.stringify(base)}, ".tmp-" + process.pid + "-0");
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "0.ics"), "BEGIN:VCALENDAR\\r\\nEND:VCALENDAR\\r\\n");
process.stdout.write("ready\\n");
setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await once(child.stdout as NodeJS.ReadableStream, "data");
    return child;
  }

  it("the next keep removes a killed run's folder, and nothing else", async () => {
    const status = tempDir();
    const base = join(status, ".trash", "p", "c");
    mkdirSync(base, { recursive: true });
    const killed = await writer(base);
    killed.kill("SIGKILL");
    await once(killed, "exit");
    const alive = await writer(base);
    try {
      // A live writer's pid, reused by a process that started after the folder was last written.
      const reused = await writer(base);
      const old = new Date(Date.now() - 3_600_000);
      const reusedDir = join(base, `.tmp-${reused.pid}-0`);
      utimesSync(reusedDir, old, old);
      try {
        // Not ours: a folder with something we never write, a name we never use, a file named like a batch.
        mkdirSync(join(base, `.tmp-${killed.pid}-1`, "sub"), { recursive: true });
        mkdirSync(join(base, ".tmp-notapid-0"));
        writeFileSync(join(base, `.tmp-${killed.pid}-2`), "a file");
        await createDiskTrash(status, "p", "c").keep([entry({})]);
        const left = readdirSync(base).sort();
        expect(left).not.toContain(`.tmp-${killed.pid}-0`);
        expect(left).not.toContain(`.tmp-${reused.pid}-0`);
        expect(left).toEqual(
          expect.arrayContaining([
            `.tmp-${alive.pid}-0`,
            `.tmp-${killed.pid}-1`,
            `.tmp-${killed.pid}-2`,
            ".tmp-notapid-0",
          ]),
        );
        expect(readdirSync(join(base, `.tmp-${alive.pid}-0`))).toEqual(["0.ics"]);
        // The new batch is there and lists.
        expect(listTrash(status).map((e) => e.uid)).toEqual(["i"]);
      } finally {
        reused.kill("SIGKILL");
      }
    } finally {
      alive.kill("SIGKILL");
    }
  });

  it("removeDeadTempBatches leaves the folder of a live process that wrote it", async () => {
    const status = tempDir();
    const base = join(status, ".trash", "p", "c");
    mkdirSync(base, { recursive: true });
    const alive = await writer(base);
    try {
      expect(removeDeadTempBatches(base)).toEqual([]);
      expect(readdirSync(base)).toEqual([`.tmp-${alive.pid}-0`]);
    } finally {
      alive.kill("SIGKILL");
    }
    await once(alive, "exit");
    expect(removeDeadTempBatches(base)).toEqual([join(base, `.tmp-${alive.pid}-0`)]);
    expect(readdirSync(base)).toEqual([]);
  });
});
