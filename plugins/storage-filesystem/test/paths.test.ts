// No UID and no href may reach a path outside the collection folder.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { hrefForIdent, isPlainFileName } from "../src/names.ts";
import { collect, event, freshDir, openDir, walk } from "./helpers.ts";

const ODD_UIDS = [
  "../../x",
  "../outside",
  "a/b",
  "/etc/passwd",
  ".",
  "..",
  "...",
  ".hidden",
  "x".repeat(250),
  "x".repeat(300),
  "ü".repeat(200),
  "test @ foo ät bar град сатану",
  "20210609T084907Z-@synaps-web-54fddfdf7-7kcfm%0A.ics",
  "back\\slash",
  "tab\there",
];

/** A root with a collection folder `col` and a sentinel file next to it. */
async function layout() {
  const root = await freshDir();
  const dir = join(root, "col");
  await mkdir(dir);
  await writeFile(join(root, "x.ics"), "sentinel");
  await writeFile(join(root, "outside.ics"), "sentinel");
  return { root, dir };
}

/** Asserts that nothing but `col/<plain names>` and the sentinels exists under `root`. */
async function expectContained(root: string) {
  for (const path of await walk(root)) {
    if (path === "col" || path === "x.ics" || path === "outside.ics") continue;
    expect(path.startsWith("col/"), path).toBe(true);
    expect(path.slice(4).includes("/"), path).toBe(false);
  }
  expect(await readFile(join(root, "x.ics"), "utf8")).toBe("sentinel");
  expect(await readFile(join(root, "outside.ics"), "utf8")).toBe("sentinel");
}

describe("odd UIDs", () => {
  for (const fileext of [".ics", ""]) {
    for (const uid of [...ODD_UIDS, ""]) {
      it(`UID ${JSON.stringify(uid.length > 40 ? `${uid.slice(0, 12)}…(${uid.length})` : uid)} with fileext ${JSON.stringify(fileext)} stays inside the folder`, async () => {
        const { root, dir } = await layout();
        const col = await openDir(dir, { fileext });
        const item = event(uid);
        const { href, etag } = await col.upload(item);
        expect(isPlainFileName(href)).toBe(true);
        expect(href.endsWith(fileext)).toBe(true);
        await expectContained(root);
        expect((await col.get(href)).item.raw).toBe(item.raw);
        expect((await collect(col.list())).map((r) => r.href)).toContain(href);
        const { etag: etag2 } = await col.update(href, event(uid, "changed"), etag!);
        await expectContained(root);
        await col.delete(href, etag2!);
        await expectContained(root);
        expect(await walk(dir)).toEqual([]);
      });
    }
  }

  it("keeps safe UIDs as names, including 250 characters, and a dotted one", () => {
    expect(hrefForIdent("x".repeat(250), ".ics")).toBe(`${"x".repeat(250)}.ics`);
    expect(hrefForIdent(".", ".ics")).toBe("..ics");
    expect(hrefForIdent(".", "")).toMatch(/^[0-9a-f-]{36}$/);
    expect(hrefForIdent("..", "")).toMatch(/^[0-9a-f-]{36}$/);
    expect(hrefForIdent("", ".ics")).toMatch(/^[0-9a-f-]{36}\.ics$/);
    expect(hrefForIdent(undefined, ".vcf")).toMatch(/^[0-9a-f-]{36}\.vcf$/);
  });

  it("gives a 300-character UID a random name and leaves no temporary file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href } = await col.upload(event("y".repeat(300)));
    expect(href).toMatch(/^[0-9a-f-]{36}\.ics$/);
    expect(await walk(dir)).toEqual([href]);
  });
});

describe("hrefs that are not a file name in the folder", () => {
  const BAD = [
    "../x.ics",
    "../col/a.ics",
    "a/b.ics",
    "/etc/passwd",
    join("..", "outside.ics"),
    ".",
    "..",
    "",
    "a\0.ics",
    "col/../x.ics",
  ];

  for (const href of BAD) {
    it(`${JSON.stringify(href)} is NotFound for get, getMany, update and delete`, async () => {
      const { root, dir } = await layout();
      const col = await openDir(dir);
      const { etag } = await col.upload(event("a"));
      const sentinelEtag = etag!;
      for (const attempt of [
        () => col.get(href),
        () => collect(col.getMany([href])),
        () => col.update(href, event("evil"), sentinelEtag),
        () => col.delete(href, sentinelEtag),
      ]) {
        const err = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isVdirsyncerError(err, "NOT_FOUND"), String(err)).toBe(true);
      }
      await expectContained(root);
      expect(await walk(dir)).toEqual(["a.ics"]);
    });
  }

  it("a folder inside the collection is not an item", async () => {
    const dir = await freshDir();
    await mkdir(join(dir, "sub.ics"));
    const col = await openDir(dir);
    await expect(col.get("sub.ics")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(col.delete("sub.ics", "x")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
