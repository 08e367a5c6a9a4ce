/**
 * The journal and the trash live in a folder vdirsyncer never reads: a status folder full of them is still one the
 * real vdirsyncer 0.19 syncs on from without transfers, and the tools still take turns without re-transferring.
 */
import { readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyRetention, readRuns } from "../../src/journal.ts";
import { listTrash } from "../../src/trash.ts";
import { tempDir } from "../helpers.ts";
import { fetches, syncPair, writes } from "./pair.ts";
import {
  event,
  itemsByIdent,
  putFiles,
  statusRows,
  transferLines,
  vdirConfig,
  vdirsyncerSync,
  writeConfig,
  writePairCache,
} from "./vdirs.ts";

function edit(path: string, text: string): void {
  writeFileSync(`${path}.edit`, text);
  renameSync(`${path}.edit`, path);
}

describe("a status folder with our journal and trash, read by vdirsyncer 0.19", () => {
  it("vdirsyncer syncs on from it without transfers, and taking turns still transfers nothing", async () => {
    const root = tempDir();
    const dir = (p: string) => join(root, p);
    putFiles(dir("a/work"), {
      "keep.ics": event("keep@example.com", "Kept"),
      "edit.ics": event("edit@example.com", "Before"),
      "gone.ics": event("gone@example.com", "Dentist"),
    });
    putFiles(dir("b/work"), {});
    putFiles(dir("a/home"), {});
    putFiles(dir("b/home"), {});
    putFiles(dir("contacts_a"), {});
    putFiles(dir("contacts_b"), {});
    const config = vdirConfig();
    writeConfig(root, config);
    writePairCache(root, config, "cal", ["work", "home"]);
    const status = dir("status");

    expect((await syncPair({ root, config, pair: "cal", journal: true })).errors).toEqual([]);
    edit(dir("a/work/edit.ics"), event("edit@example.com", "After"));
    rmSync(dir("a/work/gone.ics"));
    const second = await syncPair({ root, config, pair: "cal", journal: true });
    expect(second.errors).toEqual([]);
    applyRetention(status, { olderThanMs: 30 * 86400e3, maxBytes: 100 * 2 ** 20 });

    // Our extra files: run files per collection and trash entries linked to the run that kept them.
    const runs = readRuns(status, { pair: "cal", collection: "work" });
    expect(runs.length).toBe(2);
    const last = runs[runs.length - 1];
    expect(last?.actions.map((a) => `${a.kind} ${a.side} ${a.ident} ${a.name}`).sort()).toEqual([
      "delete b gone@example.com Dentist",
      "update b edit@example.com After",
    ]);
    expect(
      listTrash(status)
        .map((e) => `${e.reason} ${e.name} ${e.run === last?.run}`)
        .sort(),
    ).toEqual(["delete Dentist true", "update Before true"]);
    expect(readdirSync(join(status, ".trash", "cal", "work", "runs")).length).toBe(2);
    const rows = statusRows(root, "cal", "work");

    // vdirsyncer reads the status folder as it is and has nothing to do.
    expect(transferLines(vdirsyncerSync(root, "cal"))).toEqual([]);
    expect(statusRows(root, "cal", "work")).toEqual(rows);

    // Turn: vdirsyncer carries an edit over, then our journaled sync has nothing to transfer, and back.
    edit(dir("a/work/keep.ics"), event("keep@example.com", "Kept, edited"));
    expect(transferLines(vdirsyncerSync(root, "cal"))).toEqual([
      "Copying (updating) item keep@example.com to cal_b/work",
    ]);
    const ours = await syncPair({ root, config, pair: "cal", journal: true });
    expect(ours.errors).toEqual([]);
    expect(writes(ours)).toBe(0);
    expect(fetches(ours)).toBe(0);
    const hrefB = statusRows(root, "cal", "work").find((r) => r.ident === "edit@example.com")?.b.href;
    edit(dir(`b/work/${hrefB}`), event("edit@example.com", "Edited on b"));
    const back = await syncPair({ root, config, pair: "cal", journal: true });
    expect(writes(back)).toBe(1);
    expect(transferLines(vdirsyncerSync(root, "cal"))).toEqual([]);
    expect(itemsByIdent(dir("a/work"))).toEqual(itemsByIdent(dir("b/work")));
    // Our idle run after vdirsyncer's turn replaced nothing informative: the changing runs are all there.
    expect(
      readRuns(status, { pair: "cal", collection: "work" }).filter((r) => r.actions.length > 0),
    ).toHaveLength(3);
  });
});
