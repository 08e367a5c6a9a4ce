/**
 * UIDs that look like paths, or are too long for a file name, synced between two vdirs: every file lands inside a
 * collection folder, every item arrives once, and a second sync has nothing to do.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { fetches, syncPair, writes } from "./pair.ts";
import {
  event,
  itemsByIdent,
  putFiles,
  statusProblems,
  statusRows,
  transferLines,
  vdirConfig,
  vdirsyncerSync,
  walk,
  writeConfig,
  writePairCache,
} from "./vdirs.ts";

describe("hostile UIDs, filesystem to filesystem", () => {
  it("never create a path outside the collection folders", async () => {
    const root = tempDir();
    const escapee = `interop-escapee-${randomUUID()}`;
    const uids = [
      "../../x",
      `../../../${escapee}`,
      "a/b",
      "/etc/passwd-like",
      ".",
      "..",
      "u".repeat(300),
      `${"ü".repeat(200)}-long-in-bytes`,
      "ünïcödé-😀",
      "日本語のUID",
      "back\\slash",
      ".hidden",
      "x.tmp",
    ];
    const files: Record<string, string> = {};
    for (const [i, uid] of uids.entries()) files[`item-${i}.ics`] = event(uid, `Hostile ${i}`);
    putFiles(join(root, "a", "work"), files);
    putFiles(join(root, "b", "work"), {});
    const config = vdirConfig();
    writePairCache(root, config, "cal", ["work"]);

    const first = await syncPair({ root, config, pair: "cal" });
    expect(first.errors).toEqual([]);
    expect(first.totals.b.upload).toBe(uids.length);

    const outside = walk(root).filter((p) => !/^(a\/work|b\/work|status)\//.test(p) && p !== "config");
    expect(outside).toEqual([]);
    // Nothing climbed out of the root either (`../../../<escapee>` from b/work is the root's parent).
    expect(existsSync(resolve(root, "..", escapee))).toBe(false);
    expect(existsSync(resolve(root, "x"))).toBe(false);
    // Nested folders inside a collection would be just as wrong.
    expect(walk(root).filter((p) => /^[ab]\/work\/.*\//.test(p))).toEqual([]);

    const a = itemsByIdent(join(root, "a", "work"));
    const b = itemsByIdent(join(root, "b", "work"));
    expect([...b.keys()].sort()).toEqual([...uids].sort());
    expect(b).toEqual(a);
    const dirs = { a: join(root, "a", "work"), b: join(root, "b", "work") };
    expect(statusProblems(statusRows(root, "cal", "work"), dirs)).toEqual([]);

    const second = await syncPair({ root, config, pair: "cal" });
    expect(second.errors).toEqual([]);
    expect(writes(second)).toBe(0);
    expect(fetches(second)).toBe(0);

    // vdirsyncer agrees with the hrefs and rows we made for them.
    writeConfig(root, config);
    expect(transferLines(vdirsyncerSync(root, "cal"))).toEqual([]);
  });
});
