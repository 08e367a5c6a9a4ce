// The collection configs discover() and createCollection() report are the deltas Python vdirsyncer writes into
// its discovery cache (`<pair>.collections`) for the same section: each program must read the other's cache.
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { collect, freshDir, makeStorage, PYTHON } from "./helpers.ts";

/** What vdirsyncer's cache keeps of one collection's arguments: the keys whose value differs from the section. */
function delta(args: Record<string, unknown>, section: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === "collection") continue;
    if (!(k in section) || JSON.stringify(section[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

/** Runs vdirsyncer's own FilesystemStorage.discover / create_collection on `section`. */
function python(op: "discover" | "create", section: Record<string, unknown>, home: string, id?: string) {
  const script = `
import asyncio, json, sys
from vdirsyncer.storage.filesystem import FilesystemStorage
section = json.loads(sys.argv[2])
async def main():
    if sys.argv[1] == "discover":
        return [x async for x in FilesystemStorage.discover(**section)]
    return [await FilesystemStorage.create_collection(sys.argv[3], **section)]
print(json.dumps(asyncio.run(main())))`;
  const out = execFileSync(PYTHON, ["-c", script, op, JSON.stringify(section), id ?? ""], {
    encoding: "utf8",
    env: { ...process.env, HOME: home },
  });
  return JSON.parse(out) as Record<string, unknown>[];
}

async function withHome<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env.HOME;
  process.env.HOME = home;
  try {
    return await fn();
  } finally {
    process.env.HOME = previous;
  }
}

describe("collection configs match vdirsyncer's discovery cache", () => {
  const spellings = (root: string) => [
    join(root, "cals"),
    `${join(root, "cals")}/`,
    `${root}//cals/./`,
    "~/cals/",
    `${relative(process.cwd(), join(root, "cals"))}/`,
  ];

  it("discover(): the same config per collection as vdirsyncer's discover", async () => {
    const root = await freshDir();
    for (const name of ["work", "privé", ".git"]) await mkdir(join(root, "cals", name), { recursive: true });
    for (const path of spellings(root)) {
      const section = { path, fileext: ".ics" };
      const theirs = python("discover", section, root)
        .map((args) => ({ id: args.collection, config: delta(args, section) }))
        .sort((x, y) => String(x.id).localeCompare(String(y.id)));
      const ours = await withHome(root, async () => {
        const storage = await makeStorage(section);
        return (await collect(storage.discover())).map(({ id, config }) => ({ id, config }));
      });
      expect(ours, path).toEqual(theirs);
      expect(ours.length).toBe(2);
    }
  });

  it("createCollection(): the same config as vdirsyncer's create_collection", async () => {
    const root = await freshDir();
    for (const path of spellings(root)) {
      const section = { path, fileext: ".ics" };
      const theirs = python("create", section, root, "neu")[0] as Record<string, unknown>;
      const ours = await withHome(root, async () => (await makeStorage(section)).createCollection("neu"));
      expect(ours.config, path).toEqual(delta(theirs, section));
      expect(ours.href).toBe(join(root, "cals", "neu"));
    }
  });
});
