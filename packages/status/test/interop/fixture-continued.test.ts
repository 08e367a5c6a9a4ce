/**
 * A user switches from vdirsyncer 0.19 to us: the committed fixture (real discover + sync) continues with
 * nothing written anywhere, and vdirsyncer can take over again afterwards.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { fetches, syncPair, writes } from "./pair.ts";
import {
  statusProblems,
  statusRows,
  transferLines,
  vdirConfig,
  vdirsyncerSync,
  withoutEtags,
} from "./vdirs.ts";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "vdirsyncer-0.19");

const collections = [
  { pair: "cal", name: "work", a: "a/work", b: "b/work", ext: ".ics" },
  { pair: "cal", name: "privé", a: "a/privé", b: "b/privé", ext: ".ics" },
  { pair: "contacts", name: null, a: "contacts_a", b: "contacts_b", ext: ".vcf" },
] as const;

describe("the vdirsyncer 0.19 fixture, continued by our engine", () => {
  it("writes nothing on either side, refetches only once, and keeps vdirsyncer's rows but for the etags", async () => {
    const root = tempDir();
    // A copy gives every file a new inode, so all etags in the status are stale: fetching is expected once.
    cpSync(FIXTURE, root, { recursive: true });
    const config = vdirConfig();
    const before = collections.map((c) => statusRows(root, c.pair, c.name));

    for (const pair of ["cal", "contacts"]) {
      const first = await syncPair({ root, config, pair });
      expect(first.errors).toEqual([]);
      expect(writes(first)).toBe(0);
      expect(fetches(first)).toBeGreaterThan(0);
      expect(first.lines.filter((l) => !l.startsWith("Syncing "))).toEqual([]);
      expect(first.collections.length).toBe(pair === "cal" ? 2 : 1);
    }
    for (const [i, c] of collections.entries()) {
      const rows = statusRows(root, c.pair, c.name);
      expect(withoutEtags(rows)).toEqual(withoutEtags(before[i] ?? []));
      expect(statusProblems(rows, { a: join(root, c.a), b: join(root, c.b) }, c.ext)).toEqual([]);
    }

    for (const pair of ["cal", "contacts"]) {
      const second = await syncPair({ root, config, pair });
      expect(second.errors).toEqual([]);
      expect(writes(second)).toBe(0);
      expect(fetches(second)).toBe(0);
      expect(second.totals.a.list + second.totals.b.list).toBeGreaterThan(0);
    }

    // And back: vdirsyncer accepts the status we left and finds nothing to do.
    const output = vdirsyncerSync(root);
    expect(output).toContain("Syncing cal/work");
    expect(transferLines(output)).toEqual([]);
  });
});
