/**
 * The real vdirsyncer discovers and syncs, then our engine runs on the same status directory: the same files keep
 * the same etags, so it must neither write nor download anything.
 */
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { fetches, syncPair, writes } from "./pair.ts";
import { statusRows, transferLines, vdirConfig, vdirsyncer, vdirsyncerSync, writeConfig } from "./vdirs.ts";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "vdirsyncer-0.19");

describe("after a live vdirsyncer 0.19 discover and sync", () => {
  it("our engine finds nothing to write and nothing to fetch, and leaves every row as it was", async () => {
    const root = tempDir();
    // The fixture's originals (the files vdirsyncer did not write): events incl. a UID-less and a unicode one,
    // an event on side b, and a vCard.
    mkdirSync(join(root, "a"));
    mkdirSync(join(root, "b"));
    cpSync(join(FIXTURE, "a", "work"), join(root, "a", "work"), { recursive: true });
    cpSync(join(FIXTURE, "b", "privé", "from-b.ics"), join(root, "b", "privé", "from-b.ics"));
    cpSync(join(FIXTURE, "contacts_a"), join(root, "contacts_a"), { recursive: true });
    mkdirSync(join(root, "contacts_b"));
    const config = vdirConfig();
    writeConfig(root, config);

    // discover asks once per missing collection whether to create it.
    const discover = vdirsyncer(root, ["discover"], "y\n".repeat(8));
    expect(discover.status, discover.output).toBe(0);
    const synced = vdirsyncerSync(root);
    expect(transferLines(synced).length).toBe(7);

    const cases = [
      ["cal", "work"],
      ["cal", "privé"],
      ["contacts", null],
    ] as const;
    const before = cases.map(([pair, name]) => statusRows(root, pair, name));
    expect(before.map((rows) => rows.length)).toEqual([5, 1, 1]);

    for (const pair of ["cal", "contacts"]) {
      const run = await syncPair({ root, config, pair });
      expect(run.errors).toEqual([]);
      expect(writes(run)).toBe(0);
      expect(fetches(run)).toBe(0);
      expect(run.totals.a.fetchedHrefs + run.totals.b.fetchedHrefs).toBe(0);
    }
    expect(cases.map(([pair, name]) => statusRows(root, pair, name))).toEqual(before);
  });
});
