// Metadata files: color, displayname, description, order (vdirsyncer's get_meta/set_meta).
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MetaKey } from "@vdirsyncer/core";
import { pyStrip } from "@vdirsyncer/core/compat";
import { describe, expect, it } from "vitest";
import { collect, freshDir, openDir } from "./helpers.ts";

describe("metadata", () => {
  it("is undefined on a fresh collection (test_empty_metadata)", async () => {
    const col = await openDir(await freshDir());
    expect(await col.getMeta("color")).toBeUndefined();
    expect(await col.getMeta("displayname")).toBeUndefined();
  });

  it("writes the stripped value without a trailing newline, mode 0600 (test_metadata)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    await col.setMeta("color", "#ff0000\n");
    expect(await readFile(join(dir, "color"), "utf8")).toBe("#ff0000");
    expect((await stat(join(dir, "color"))).mode & 0o777).toBe(0o600);
    expect(await col.getMeta("color")).toBe("#ff0000");
    await col.setMeta("color", undefined);
    expect(await col.getMeta("color")).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    await col.setMeta("color", undefined); // removing twice is fine
  });

  it("strips what other programs wrote", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "displayname"), "  Work  \n");
    const col = await openDir(dir);
    expect(await col.getMeta("displayname")).toBe("Work");
  });

  for (const value of [
    "",
    "Hello there!",
    "Österreich",
    "中国",
    "한글",
    crypto.randomUUID(),
    "فلسطين",
    "hello wörld",
  ]) {
    it(`round-trips ${JSON.stringify(value)} (test_metadata_normalization)`, async () => {
      const col = await openDir(await freshDir());
      for (const key of ["displayname", "description", "order", "color"] as MetaKey[]) {
        await col.setMeta(key, value);
        expect(await col.getMeta(key)).toBe(value.trim());
      }
    });
  }

  it("metadata files are not listed as items with fileext .ics", async () => {
    const col = await openDir(await freshDir());
    await col.setMeta("displayname", "x");
    expect(await collect(col.list())).toEqual([]);
  });

  it("an undecodable metadata file is an error naming it", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "displayname"), Buffer.from([0x41, 0xff]));
    const col = await openDir(dir);
    await expect(col.getMeta("displayname")).rejects.toThrow(
      `${join(dir, "displayname")} is not valid utf-8 text`,
    );
  });

  it("refuses keys that are not vdir metadata", async () => {
    const col = await openDir(await freshDir());
    await expect(col.getMeta("../x" as MetaKey)).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await expect(col.setMeta("../x" as MetaKey, "y")).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});

describe("pyStrip() as the metadata normalisation", () => {
  const cases: [string, string][] = [
    [" \t\r\nx\n", "x"],
    ["\x1c\x1d\x1e\x1fx\x85", "x"], // Python whitespace that String.prototype.trim keeps
    ["\ufeffx\ufeff", "\ufeffx\ufeff"], // the reverse: trim strips it, Python does not
    ["\u3000x\u2028", "x"],
    ["", ""],
  ];
  for (const [input, output] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(output)}`, () => expect(pyStrip(input)).toBe(output));
  }
});
