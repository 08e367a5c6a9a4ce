/**
 * Broken files in a vdir, through the real filesystem storage and engine: each is reported once with a message
 * that names it, the good items sync, and a good item that turns into junk is never deleted on the other side.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Item, isVdirsyncerError, type VdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { syncPair, writes } from "./pair.ts";
import { event, itemsByIdent, putFiles, statusRows, vdirConfig, writePairCache } from "./vdirs.ts";

/** Random bytes that are certainly not UTF-8 (0xFF never occurs in it) and contain a NUL. */
function junk(): Uint8Array {
  return Buffer.concat([Buffer.from([0xff, 0x00]), randomBytes(510)]);
}

/** The error reported for `file`, checked to name the file: its full path, or its name and the storage. */
function errorFor(errors: VdirsyncerError[], file: string, path: string): VdirsyncerError {
  const found = errors.filter((e) => e.message.includes(file));
  expect(found.map((e) => e.message)).toHaveLength(1);
  const err = found[0] as VdirsyncerError;
  expect(isVdirsyncerError(err, "ITEM_INVALID")).toBe(true);
  expect(err.code).toBe("ITEM_INVALID");
  if (!err.message.includes(path)) expect(err.message).toContain("cal_a/work");
  return err;
}

describe("malformed items in a vdir", () => {
  it("are reported by file name with ITEM_INVALID, good and UID-less items sync, and nothing is deleted for them", async () => {
    const root = tempDir();
    const a = join(root, "a", "work");
    const b = join(root, "b", "work");
    putFiles(a, {
      "good-1.ics": event("good-1", "Good one"),
      "good-2.ics": event("good-2", "Good two"),
      "no-uid.ics": event(undefined, "No UID, still fine"),
      "binary.ics": junk(),
      "latin1.ics": Buffer.from(event("latin1", "Grüße aus Köln"), "latin1"),
      "broken.ics":
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:No END lines\r\n",
    });
    putFiles(b, {});
    const config = vdirConfig({ cal_a: { encoding: "utf-8" } });
    writePairCache(root, config, "cal", ["work"]);

    const first = await syncPair({ root, config, pair: "cal" });
    expect(first.errors).toHaveLength(3);
    for (const file of ["binary.ics", "latin1.ics", "broken.ics"])
      errorFor(first.errors, file, join(a, file));
    const noUidIdent = new Item(event(undefined, "No UID, still fine")).ident;
    expect([...itemsByIdent(b).keys()].sort()).toEqual(["good-1", "good-2", noUidIdent].sort());
    expect(first.totals.b.upload).toBe(3);
    expect(first.totals.a.upload + first.totals.a.update + first.totals.a.delete).toBe(0);
    // The bad files are left exactly as they were.
    expect(readFileSync(join(a, "latin1.ics"))).toEqual(
      Buffer.from(event("latin1", "Grüße aus Köln"), "latin1"),
    );

    // A synced item becomes junk on a: b's copy stays, untouched, and so does its status row.
    const row = statusRows(root, "cal", "work").find((r) => r.ident === "good-1");
    const bPath = join(b, row?.b.href ?? "");
    const bBefore = { text: readFileSync(bPath, "utf8"), mtime: statSync(bPath, { bigint: true }).mtimeNs };
    writeFileSync(join(a, "good-1.ics"), junk());
    for (let run = 0; run < 2; run++) {
      const again = await syncPair({ root, config, pair: "cal" });
      expect(again.errors).toHaveLength(4);
      errorFor(again.errors, "good-1.ics", join(a, "good-1.ics"));
      expect(writes(again)).toBe(0);
      expect(readFileSync(bPath, "utf8")).toBe(bBefore.text);
      expect(statSync(bPath, { bigint: true }).mtimeNs).toBe(bBefore.mtime);
      expect(statusRows(root, "cal", "work").find((r) => r.ident === "good-1")).toEqual(row);
    }

    // Repaired on a, it syncs again as an ordinary edit.
    writeFileSync(join(a, "good-1.ics"), event("good-1", "Good one, repaired"));
    const repaired = await syncPair({ root, config, pair: "cal" });
    expect(repaired.errors).toHaveLength(3);
    expect(repaired.totals.b.update).toBe(1);
    expect(itemsByIdent(b).get("good-1")).toContain("SUMMARY:Good one, repaired");
  });
});
