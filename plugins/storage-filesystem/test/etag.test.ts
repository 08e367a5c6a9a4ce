// The etag and href strings must equal vdirsyncer's byte for byte, so an existing status continues unchanged.
import { execFile } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { etagOf } from "../src/index.ts";
import { collect, event, freshDir, openDir } from "./helpers.ts";

const run = promisify(execFile);

/** Asks the installed Python vdirsyncer for its (href, etag) listing of `dir`. */
async function pythonListing(dir: string, fileext = ".ics"): Promise<string[]> {
  const script = [
    "import asyncio, sys",
    "from vdirsyncer.storage.filesystem import FilesystemStorage",
    "async def main():",
    "    s = FilesystemStorage(path=sys.argv[1], fileext=sys.argv[2])",
    "    async for href, etag in s.list():",
    "        print(href + '\\t' + etag)",
    "asyncio.run(main())",
  ].join("\n");
  const { stdout } = await run("/usr/bin/python3", ["-c", script, dir, fileext]);
  return stdout.split("\n").filter(Boolean).sort();
}

describe("etag", () => {
  it("formats the status-format.md example exactly", () => {
    const stats = { mtimeNs: 1795388616908742034n, ino: 2162753n } as Parameters<typeof etagOf>[0];
    expect(etagOf(stats)).toBe("1795388616908742144.000000000;2162753");
  });

  it("equals <mtime ns as double>;<inode> of the file, as stat(1) reports it", async () => {
    const dir = await freshDir();
    const file = join(dir, "x.ics");
    await writeFile(file, "x");
    // A fixed nanosecond mtime whose double rounding is visible: ...742034 ns becomes ...742144.
    await run("touch", ["-m", "-d", "@1795388616.908742034", file]);
    const { stdout } = await run("stat", ["-c", "%i", file]);
    const col = await openDir(dir);
    const [ref] = await collect(col.list());
    expect(ref).toEqual({ href: "x.ics", etag: `1795388616908742144.000000000;${stdout.trim()}` });
    expect((await col.get("x.ics")).etag).toBe(ref!.etag);
  });

  it("matches Python vdirsyncer's listing of the same folder", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    for (const uid of ["plain", "with space", "x".repeat(300), "a/b", "ünï"]) await col.upload(event(uid));
    await writeFile(join(dir, "foreign name ä.ics"), event("foreign").raw);
    await writeFile(join(dir, "ignored.tmp"), "x");
    const ours = (await collect(col.list())).map((r) => `${r.href}\t${r.etag}`).sort();
    expect(ours).toHaveLength(6);
    expect(ours).toEqual(await pythonListing(dir));
  });

  it("changes when the file is replaced, even within the same mtime tick", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("tick"));
    const { etag: next } = await col.update(href, event("tick", "other"), etag!);
    expect(next).not.toBe(etag);
    const stats = await stat(join(dir, href), { bigint: true });
    expect(next).toBe(etagOf(stats));
  });
});
