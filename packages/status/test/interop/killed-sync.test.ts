/**
 * A sync killed with SIGKILL in the middle of 500 uploads, then run again: the status never runs ahead of the
 * files, the next run uploads exactly what is missing, and every item ends up once on each side.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { GROUP_ROWS } from "../../src/sqlite-status.ts";
import { tempDir } from "../helpers.ts";
import { fetches, syncPair, writes } from "./pair.ts";
import {
  event,
  itemsByIdent,
  putFiles,
  readVdir,
  statusProblems,
  statusRows,
  vdirConfig,
  writePairCache,
} from "./vdirs.ts";

const ITEMS = 500;
const KILL_AFTER = 100;

describe("a sync killed mid-run", () => {
  it("is completed by the next run: each item once on both sides, only the missing ones uploaded", async () => {
    const root = tempDir();
    const dirs = { a: join(root, "a", "work"), b: join(root, "b", "work") };
    const files: Record<string, string> = {};
    for (let i = 0; i < ITEMS; i++) files[`item-${i}.ics`] = event(`item-${i}@example.com`, `Item ${i} ☕`);
    putFiles(dirs.a, files);
    putFiles(dirs.b, {});
    const config = vdirConfig();
    writePairCache(root, config, "cal", ["work"]);

    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--experimental-transform-types",
        "--no-warnings",
        join(import.meta.dirname, "sync-child.ts"),
        root,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const exited = once(child, "exit");
    let copying = 0;
    let finished = false;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === "done") finished = true;
      if (!line.startsWith("Copying")) continue;
      copying++;
      if (copying === KILL_AFTER) child.kill("SIGKILL");
    }
    const [code, signal] = await exited;
    expect({ code, signal, finished, stderr }).toEqual({
      code: null,
      signal: "SIGKILL",
      finished: false,
      stderr: "",
    });
    expect(copying).toBeGreaterThanOrEqual(KILL_AFTER);

    // What the kill left: some uploads done, and every status row describes a file that exists. Rows are written
    // in groups (GROUP_ROWS rows or GROUP_MS), so up to a group plus the uploads in flight (8) may lack a row;
    // the next run must re-derive those without transferring them again.
    const onB = readVdir(dirs.b).size;
    expect(onB).toBeGreaterThanOrEqual(KILL_AFTER - 8);
    expect(onB).toBeLessThan(ITEMS);
    const rows = statusRows(root, "cal", "work");
    const problems = statusProblems(rows, dirs);
    const rowless = (dir: string) =>
      problems.filter((p) => p.startsWith(`${dir}/`) && p.endsWith(" has no status row"));
    expect(problems.filter((p) => !p.endsWith(" has no status row"))).toEqual([]);
    expect(rowless(dirs.a).length).toBe(ITEMS - rows.length);
    expect(rowless(dirs.b).length).toBe(onB - rows.length);
    expect(onB - rows.length).toBeLessThanOrEqual(GROUP_ROWS + 8);

    const again = await syncPair({ root, config, pair: "cal" });
    expect(again.errors).toEqual([]);
    expect(again.warnings.some((w) => w.includes("no longer running"))).toBe(true);
    expect(again.totals.b.upload).toBe(ITEMS - onB);
    expect(again.totals.b.update + again.totals.b.delete).toBe(0);
    expect(again.totals.a.upload + again.totals.a.update + again.totals.a.delete).toBe(0);

    const a = itemsByIdent(dirs.a);
    expect(a.size).toBe(ITEMS);
    expect(itemsByIdent(dirs.b)).toEqual(a);
    // Temporary files a killed write may leave are hidden and end in .tmp: never listed as items.
    const stray = readdirSync(dirs.b).filter((name) => !name.endsWith(".ics"));
    expect(stray.every((name) => name.startsWith(".") && name.endsWith(".tmp"))).toBe(true);
    expect(statusProblems(statusRows(root, "cal", "work"), dirs)).toEqual([]);

    const idle = await syncPair({ root, config, pair: "cal" });
    expect(idle.errors).toEqual([]);
    expect(writes(idle)).toBe(0);
    expect(fetches(idle)).toBe(0);
  });
});
