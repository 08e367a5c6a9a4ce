// Temporary files left by interrupted runs: removed when they provably belong to a run that is over, never otherwise.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it, onTestFinished } from "vitest";
import { hostTag, isOver, processStart, tempNameFor, thisWriter, writerOf } from "../src/leftovers.ts";
import { collect, event, freshDir, makeContext, openDir } from "./helpers.ts";

/** Starts a child that creates one temporary file in `dir` as our writes do; resolves with the child and the name. */
async function tempWriter(dir: string): Promise<{ child: ChildProcess; name: string }> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--experimental-transform-types",
      "--no-warnings",
      join(import.meta.dirname, "fixtures", "temp-writer.ts"),
      dir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const lines = createInterface({ input: child.stdout! });
  const [name] = (await once(lines, "line")) as [string];
  return { child, name };
}

describe("temporary file names", () => {
  it("name this host, this process and its start time", () => {
    const name = tempNameFor("a.ics");
    expect(name).toMatch(/^\.a\.ics\.vdts-[0-9a-f]{8}-\d+-\d+-[0-9a-f]{12}\.tmp$/);
    expect(writerOf(name)).toEqual({
      host: hostTag(hostname()),
      pid: process.pid,
      start: thisWriter().start,
    });
    expect(thisWriter().start).toBe(processStart(process.pid));
    expect(writerOf(".a.ics.0123456789ab.tmp")).toBeUndefined();
    expect(writerOf("a.ics")).toBeUndefined();
  });

  it("judge a run over only on this host, by a gone pid or a reused one", () => {
    const me = thisWriter();
    expect(isOver(me)).toBe(false);
    expect(isOver({ ...me, host: me.host === "00000000" ? "00000001" : "00000000", pid: 2 ** 22 + 1 })).toBe(
      false,
    );
    expect(isOver({ ...me, pid: 2 ** 22 + 1 })).toBe(true); // above Linux's pid_max: no such process
    expect(isOver({ ...me, start: String(Number(me.start) + 1) })).toBe(true); // our pid, another start: reused
  });
});

describe("leftovers of killed runs", () => {
  it("are removed by the next listing when their process was killed, and nothing else is", async () => {
    const dir = await freshDir();
    const { child: killed, name: fromKilled } = await tempWriter(dir);
    const { child: alive, name: fromAlive } = await tempWriter(dir);
    killed.kill("SIGKILL");
    await once(killed, "exit");

    const me = thisWriter();
    const otherHost = tempNameFor("b.ics", { ...me, host: me.host === "00000000" ? "00000001" : "00000000" });
    const reused = tempNameFor("c.ics", { ...me, pid: alive.pid!, start: "1" });
    const ours = tempNameFor("d.ics");
    const foreign = [".x.ics.0123456789ab.tmp", ".#editor-lock.tmp", "notes.tmp"];
    for (const name of [otherHost, reused, ours, ...foreign]) await writeFile(join(dir, name), "x");
    await writeFile(join(dir, "item.ics"), event("item").raw);

    const ctx = makeContext();
    const listing = await openDir(dir, { fileext: "", fileignoreext: "" }, ctx);
    // Our temporary files are never items, even with no fileext and nothing ignored.
    expect((await collect(listing.list())).map((r) => r.href).sort()).toEqual(
      [...foreign, "item.ics"].sort(),
    );
    const left = await readdir(dir);
    expect(left).not.toContain(fromKilled);
    expect(left).not.toContain(reused);
    expect(left).toEqual(expect.arrayContaining([fromAlive, otherHost, ours, ...foreign, "item.ics"]));
    expect(
      ctx.lines
        .filter((l) => l.message.startsWith("Removed "))
        .map((l) => l.message)
        .sort(),
    ).toEqual(
      [fromKilled, reused].map((n) => `Removed ${join(dir, n)}, left over by an interrupted sync.`).sort(),
    );
  });
});
