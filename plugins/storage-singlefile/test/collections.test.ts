// Collections from a CollectionRef (what the discovery cache holds), the configs vdirsyncer caches, parallel calls.
import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { createStorage as host } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import singlefile from "../src/index.ts";
import { collect, context, createStorage, event, OPEN, tempDir } from "./helpers.ts";

const PYTHON = "/usr/bin/python3";

/** What vdirsyncer's cache keeps of one collection's arguments: the keys whose value differs from the section. */
function delta(args: Record<string, unknown>, section: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === "collection") continue;
    if (!(k in section) || JSON.stringify(section[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

/** Runs vdirsyncer's own SingleFileStorage.discover / create_collection on `section`. */
function python(op: "discover" | "create", section: Record<string, unknown>, id?: string) {
  const script = `
import asyncio, json, sys
from vdirsyncer.storage.singlefile import SingleFileStorage
section = json.loads(sys.argv[2])
async def main():
    if sys.argv[1] == "discover":
        return [x async for x in SingleFileStorage.discover(**section)]
    return [await SingleFileStorage.create_collection(None if sys.argv[3] == "" else sys.argv[3], **section)]
print(json.dumps(asyncio.run(main())))`;
  const out = execFileSync(PYTHON, ["-c", script, op, JSON.stringify(section), id ?? ""], {
    encoding: "utf8",
  });
  return JSON.parse(out) as Record<string, unknown>[];
}

describe("open(ref)", () => {
  it("opens the file ref.config names after a JSON round trip, never the href, and creates nothing", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "work.ics"), event("w", "Work"));
    await writeFile(join(dir, "decoy.ics"), event("d", "Decoy"));
    const storage = await createStorage({ path: join(dir, "%s.ics") });
    const [work] = (await collect(storage.discover())).filter((c) => c.id === "work");
    const ref = JSON.parse(JSON.stringify({ ...work, href: join(dir, "decoy.ics") }));
    const again = await createStorage({ path: join(dir, "%s.ics") });
    expect((await collect((await again.open(ref, OPEN)).list())).map((r) => r.href)).toEqual(["w"]);

    const missing = { id: "new", config: { path: join(dir, "new.ics") } };
    const err = await again.open(missing, OPEN).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "COLLECTION_NOT_FOUND")).toBe(true);
    await expect(readFile(join(dir, "new.ics"))).rejects.toMatchObject({ code: "ENOENT" });
    const created = await again.createCollection("new");
    expect(created.config).toEqual(missing.config);
    expect(await collect((await again.open(created, OPEN)).list())).toEqual([]);
  });

  it("reads a key absent from config as the configured option; a cache's collection key is ignored", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "cal.ics"), Buffer.from(event("l", "K\xe4se"), "latin1"));
    const storage = await createStorage({ path: join(dir, "cal.ics"), encoding: "latin-1" });
    const col = await storage.open({ id: "x", config: { collection: "x" } }, OPEN);
    expect((await col.get("l")).item.raw).toContain("Käse");
    const err = await storage.open({ id: "x", config: { encoding: "klingon" } }, OPEN).catch((e) => e);
    expect(isVdirsyncerError(err, "USER")).toBe(true);
    expect(err.message).toBe('The collection "x" of test has an invalid config.');
  });

  it("reports the configs vdirsyncer caches for discover and create_collection", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "cals"));
    for (const name of ["work", "privé", ".hidden"]) await writeFile(join(dir, "cals", `${name}.ics`), "");
    for (const path of [
      join(dir, "cals", "%s.ics"),
      `${relative(process.cwd(), join(dir, "cals"))}/%s.ics`,
    ]) {
      const section = { path };
      const theirs = python("discover", section)
        .map((args) => ({ id: args.collection, config: delta(args, section) }))
        .sort((x, y) => String(x.id).localeCompare(String(y.id)));
      const storage = await createStorage(section);
      const ours = (await collect(storage.discover())).map(({ id, config }) => ({ id, config }));
      expect(ours, path).toEqual(theirs);
      const created = python("create", section, "neu")[0] as Record<string, unknown>;
      expect((await storage.createCollection("neu")).config).toEqual(delta(created, section));
    }
    const single = { path: `${relative(process.cwd(), join(dir, "one.ics"))}` };
    const created = python("create", single)[0] as Record<string, unknown>;
    expect((await (await createStorage(single)).createCollection(null)).config).toEqual(
      delta(created, single),
    );
  });
});

describe("parallel calls through the host", () => {
  it("lose no write: uploads, updates and deletes on two files of one instance, and two opens of one file", async () => {
    const dir = await tempDir();
    const checked = await singlefile.options["~standard"].validate({ path: join(dir, "%s.ics") });
    if (checked.issues) throw new Error("bad options");
    const storage = await host(singlefile, checked.value, { instance: "sf", log: context().log });
    expect(singlefile.capabilities.concurrency).toBeGreaterThan(1);
    const infos = [await storage.createCollection("one"), await storage.createCollection("two")];
    // Two opens of "one": both must go through one buffer, or the second flush would find the file changed.
    const cols = [
      await storage.open(infos[0]!),
      await storage.open(infos[0]!),
      await storage.open(infos[1]!),
    ];
    const N = 40;
    const ups = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const c = i % 3;
        return cols[c]!.upload!(new Item(event(`u${i}`, `v1 ${i}`))).then((w) => ({ i, c, ...w }));
      }),
    );
    const ups2 = await Promise.all(
      ups.map((u) =>
        cols[u.c]!.update!(u.href, new Item(event(`u${u.i}`, `v2 ${u.i}`)), u.etag!).then((w) => ({
          ...u,
          ...w,
        })),
      ),
    );
    await Promise.all(ups2.filter((u) => u.i % 4 === 0).map((u) => cols[u.c]!.delete!(u.href, u.etag!)));
    const contested = await Promise.allSettled(
      [0, 1].map((c) => cols[c]!.update!(ups2[1]!.href, new Item(event("u1", `v3 by ${c}`)), ups2[1]!.etag!)),
    );
    expect(contested.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    await Promise.all(cols.map((c) => c.flush!()));

    const expected = (file: number) =>
      ups2
        .filter((u) => u.i % 4 !== 0 && (file === 0 ? u.c !== 2 : u.c === 2))
        .map((u) => `u${u.i}`)
        .sort();
    for (const [file, name] of [
      [0, "one"],
      [1, "two"],
    ] as const) {
      const reread = await (await createStorage({ path: join(dir, "%s.ics") })).open(
        { id: name, config: { path: join(dir, `${name}.ics`) } },
        OPEN,
      );
      expect((await collect(reread.list())).map((r) => r.href).sort()).toEqual(expected(file));
    }
  });
});
