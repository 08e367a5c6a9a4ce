// Ports of vdirsyncer's tests/storage/test_filesystem.py, plus open/discover/create behaviour.
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import filesystem from "../src/index.ts";
import { collect, event, freshDir, makeStorage, OPEN, openDir } from "./helpers.ts";

describe("open()", () => {
  it("throws CollectionNotFoundError for a missing folder", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: join(root, "nope"), fileext: ".ics" });
    const err = await Promise.resolve(storage.open(null, OPEN)).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "COLLECTION_NOT_FOUND")).toBe(true);
    expect((err as Error).message).toContain(join(root, "nope"));
  });

  it("rejects a path that is a file with a message naming it (test_is_not_directory)", async () => {
    const root = await freshDir();
    const file = join(root, "file");
    await writeFile(file, "x");
    const storage = await makeStorage({ path: file, fileext: ".ics" });
    const err = await Promise.resolve(storage.open(null, OPEN)).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "USER")).toBe(true);
    expect((err as Error).message).toBe(`${file} is not a directory.`);
  });

  it("opens the folder ref.config names after a JSON round trip, never the href", async () => {
    const root = await freshDir();
    await mkdir(join(root, "work"));
    await mkdir(join(root, "decoy"));
    await writeFile(join(root, "work", "a.ics"), event("a").raw);
    const storage = await makeStorage({ path: root, fileext: ".ics" });
    const [info] = (await collect(storage.discover())).filter((c) => c.id === "work");
    const ref = JSON.parse(JSON.stringify({ ...info, href: join(root, "decoy") }));
    // Another storage instance, as in the next run of the command.
    const again = await makeStorage({ path: root, fileext: ".ics" });
    const col = await again.open(ref, OPEN);
    expect(col.dir).toBe(join(root, "work"));
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["a.ics"]);
  });

  it("reads a key absent from config as the configured option, and other keys over the options", async () => {
    const root = await freshDir();
    await writeFile(join(root, "a.ics"), event("a").raw);
    await writeFile(join(root, "b.vcf"), "x");
    const storage = await makeStorage({ path: root, fileext: ".ics" });
    expect((await storage.open({ id: "x", config: {} }, OPEN)).dir).toBe(root);
    const vcf = await storage.open({ id: "x", config: { fileext: ".vcf" } }, OPEN);
    expect((await collect(vcf.list())).map((r) => r.href)).toEqual(["b.vcf"]);
  });

  it("opens a relative path from vdirsyncer's cache (with its collection key) from the working directory", async () => {
    const root = await freshDir();
    await mkdir(join(root, "work"));
    const storage = await makeStorage({ path: "/nonexistent", fileext: ".ics" });
    const rel = relative(process.cwd(), join(root, "work"));
    const col = await storage.open({ id: "work", config: { collection: "work", path: rel } }, OPEN);
    expect(col.dir).toBe(join(root, "work"));
  });

  it("refuses a config the options schema refuses, naming the collection and the key", async () => {
    const storage = await makeStorage({ path: await freshDir(), fileext: ".ics" });
    const err = await storage.open({ id: "work", config: { path: 7, colour: "red" } }, OPEN).catch((e) => e);
    expect(isVdirsyncerError(err, "USER")).toBe(true);
    expect(err.message).toBe('The collection "work" of test has an invalid config.');
    expect(err.problems.join("\n")).toContain("path");
    expect(err.problems.join("\n")).toContain("colour");
  });

  it("creates nothing: a missing collection folder is CollectionNotFoundError until createCollection()", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: root, fileext: ".ics" });
    const ref = { id: "new", config: { path: join(root, "new") } };
    const err = await storage.open(ref, OPEN).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "COLLECTION_NOT_FOUND")).toBe(true);
    expect(await readdir(root)).toEqual([]);
    const info = await storage.createCollection("new");
    expect(info.config).toEqual(ref.config);
    expect(await collect((await storage.open(info, OPEN)).list())).toEqual([]);
  });
});

describe("discover()", () => {
  it("yields non-dot subfolders with id, absolute href and config.path (test_ignore_git_dirs)", async () => {
    const root = await freshDir();
    await mkdir(join(root, ".git"));
    await mkdir(join(root, "home"));
    await mkdir(join(root, "work"));
    await writeFile(join(root, "not-a-collection.ics"), "x");
    await symlink(join(root, "work"), join(root, "linked"));
    const storage = await makeStorage({ path: root, fileext: ".ics" });
    const found = await collect(storage.discover());
    expect(found).toEqual([
      { id: "home", href: join(root, "home"), config: { path: join(root, "home") } },
      { id: "linked", href: join(root, "linked"), config: { path: join(root, "linked") } },
      { id: "work", href: join(root, "work"), config: { path: join(root, "work") } },
    ]);
  });

  it("finds nothing under a missing path", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: join(root, "missing"), fileext: ".ics" });
    expect(await collect(storage.discover())).toEqual([]);
  });

  it("expands ~ and normalises the path", async () => {
    const root = await freshDir();
    await mkdir(join(root, "cals", "x"), { recursive: true });
    const previous = process.env.HOME;
    process.env.HOME = root;
    try {
      const storage = await makeStorage({ path: "~/cals/./y/../", fileext: ".ics" });
      expect(await collect(storage.discover())).toEqual([
        { id: "x", href: join(root, "cals", "x"), config: { path: join(root, "cals", "x") } },
      ]);
    } finally {
      process.env.HOME = previous;
    }
  });
});

describe("createCollection()", () => {
  it("creates <path>/<id> with parents, mode 0750, and is idempotent", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: join(root, "deep", "cals"), fileext: ".ics" });
    const info = await storage.createCollection("work");
    const dir = join(root, "deep", "cals", "work");
    expect(info).toEqual({ id: "work", href: dir, config: { path: dir } });
    expect((await stat(dir)).mode & 0o777).toBe(0o750 & ~process.umask());
    await storage.createCollection("work");
    const col = await storage.open(info, OPEN);
    expect(await collect(col.list())).toEqual([]);
  });

  it("creates the path itself for null", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: join(root, "cal"), fileext: ".ics" });
    const info = await storage.createCollection(null);
    expect(info.href).toBe(join(root, "cal"));
    expect((await stat(join(root, "cal"))).isDirectory()).toBe(true);
  });

  it("refuses collection names that are not a single folder name", async () => {
    const root = await freshDir();
    const storage = await makeStorage({ path: join(root, "cals"), fileext: ".ics" });
    for (const id of ["../evil", "a/b", ".", "..", "", "x\0y"]) {
      await expect(storage.createCollection(id)).rejects.toMatchObject({ code: "USER" });
    }
    expect(await readdir(root)).toEqual([]);
  });

  it("reports a file in the way", async () => {
    const root = await freshDir();
    await writeFile(join(root, "work"), "x");
    const storage = await makeStorage({ path: root, fileext: ".ics" });
    await expect(storage.createCollection("work")).rejects.toThrow(
      `${join(root, "work")} is not a directory.`,
    );
  });
});

describe("items", () => {
  it("round-trips an item and names it after its UID", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const item = event("abc-123.example.com");
    const written = await col.upload(item);
    expect(written.href).toBe("abc-123.example.com.ics");
    const got = await col.get(written.href);
    expect(got.item.raw).toBe(item.raw);
    expect(got.etag).toBe(written.etag);
    expect(await collect(col.list())).toEqual([{ href: written.href, etag: written.etag }]);
    expect(await readFile(join(dir, written.href), "utf8")).toBe(item.raw);
  });

  it("uses <uid><fileext> for safe UIDs and a uuid otherwise", async () => {
    const col = await openDir(await freshDir());
    expect((await col.upload(event("Safe_UID.1+2-3"))).href).toBe("Safe_UID.1+2-3.ics");
    expect((await col.upload(event("with space"))).href).toMatch(/^[0-9a-f-]{36}\.ics$/);
    expect((await col.upload(event("ät"))).href).toMatch(/^[0-9a-f-]{36}\.ics$/);
  });

  it("names a UID-less item after its hash", async () => {
    const col = await openDir(await freshDir());
    const item = event(undefined);
    expect((await col.upload(item)).href).toBe(`${item.hash}.ics`);
  });

  it("upload() of a taken href throws AlreadyExistsError and keeps the first file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    await col.upload(event("dup", "first"));
    const err = await col.upload(event("dup", "second")).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "ALREADY_EXISTS")).toBe(true);
    expect((err as { existingHref: string }).existingHref).toBe("dup.ics");
    expect(await readFile(join(dir, "dup.ics"), "utf8")).toContain("SUMMARY:first");
    expect(await readdir(dir)).toEqual(["dup.ics"]);
  });

  it("update() keeps the file name, changes the etag and checks the old one", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("u1", "old"));
    const { etag: etag2 } = await col.update(href, event("u1", "new"), etag);
    expect(etag2).not.toBe(etag);
    expect((await col.get(href)).item.raw).toContain("SUMMARY:new");
    expect(await readdir(dir)).toEqual(["u1.ics"]);
    await expect(col.update(href, event("u1", "newer"), etag)).rejects.toMatchObject({ code: "WRONG_ETAG" });
    await expect(col.update("gone.ics", event("u1"), etag2!)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await col.get(href)).item.raw).toContain("SUMMARY:new");
  });

  it("delete() checks existence and etag, then removes the file", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("d1"));
    await expect(col.delete("other.ics", etag!)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(col.delete(href, "1.000000000;1")).rejects.toMatchObject({ code: "WRONG_ETAG" });
    await col.delete(href, etag!);
    expect(await readdir(dir)).toEqual([]);
    await expect(col.get(href)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(col.delete(href, etag!)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("item files are mode 0600", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href, etag } = await col.upload(event("m1"));
    expect((await stat(join(dir, href))).mode & 0o777).toBe(0o600);
    await col.update(href, event("m1", "changed"), etag!);
    expect((await stat(join(dir, href))).mode & 0o777).toBe(0o600);
  });

  it("upload() of non-text raw content throws TypeError and leaves no file (test_broken_data)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const broken = Object.create(Item.prototype, { raw: { value: Buffer.from("UID:x") } }) as Item;
    await expect(col.upload(broken)).rejects.toThrow(TypeError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("a UID with a slash never becomes a path (test_ident_with_slash)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href } = await col.upload(event("a/b/c"));
    expect(href).not.toContain("/");
    expect(await readdir(dir)).toEqual([href]);
  });

  it("a 1800-character UID gets a random href (test_too_long_uid)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href } = await col.upload(event("x".repeat(1800)));
    expect(href).toMatch(/^[0-9a-f-]{36}\.ics$/);
    expect(await readdir(dir)).toEqual([href]);
  });

  it("getMany() reads each distinct href once, [] yields nothing, a missing href throws", async () => {
    const col = await openDir(await freshDir());
    const hrefs: string[] = [];
    for (let i = 0; i < 70; i++) hrefs.push((await col.upload(event(`many-${i}`))).href);
    const got = await collect(col.getMany([...hrefs, ...hrefs.slice(0, 5)]));
    expect(got.map((g) => g.href).sort()).toEqual([...hrefs].sort());
    expect(await collect(col.getMany([]))).toEqual([]);
    await expect(collect(col.getMany([hrefs[0]!, "missing.ics"]))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("list()", () => {
  it("ignores .tmp files (test_ignore_tmp_files)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const { href } = await col.upload(event("keep"));
    await writeFile(join(dir, "x.ics.tmp"), "junk");
    await writeFile(join(dir, "other.txt"), "junk");
    expect((await collect(col.list())).map((r) => r.href)).toEqual([href]);
  });

  it("ignores .tmp files with an empty fileext (test_ignore_tmp_files_empty_fileext)", async () => {
    const dir = await freshDir();
    const col = await openDir(dir, { fileext: "" });
    const { href } = await col.upload(event("keep"));
    expect(href).toBe("keep");
    await writeFile(join(dir, "x.tmp"), "junk");
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["keep"]);
  });

  it('ignores editor backups with fileignoreext = "~" (test_ignore_files_typical_backup)', async () => {
    const dir = await freshDir();
    const col = await openDir(dir, { fileext: "", fileignoreext: "~" });
    await col.upload(event("keep"));
    await writeFile(join(dir, "keep~"), "junk");
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["keep"]);
  });

  it("lists files behind symlinks but not folders or dangling links", async () => {
    const dir = await freshDir();
    const outside = await freshDir();
    await writeFile(join(outside, "real.ics"), event("real").raw);
    await symlink(join(outside, "real.ics"), join(dir, "linked.ics"));
    await symlink(join(outside, "gone.ics"), join(dir, "dangling.ics"));
    await mkdir(join(dir, "folder.ics"));
    const col = await openDir(dir);
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["linked.ics"]);
  });

  it("throws CollectionNotFoundError when the folder disappears after open()", async () => {
    const root = await freshDir();
    await mkdir(join(root, "c"));
    const col = await openDir(join(root, "c"));
    await import("node:fs/promises").then((fs) => fs.rmdir(join(root, "c")));
    await expect(collect(col.list())).rejects.toMatchObject({ code: "COLLECTION_NOT_FOUND" });
  });

  it("lists 500 files with their etags", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const written = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      await writeFile(join(dir, `f${i}.ics`), event(`f${i}`).raw);
    }
    for (const ref of await collect(col.list())) written.set(ref.href, ref.etag);
    expect(written.size).toBe(500);
    for (const [href, etag] of written) expect((await col.get(href)).etag).toBe(etag);
  });
});

describe("definition", () => {
  it("declares the filesystem type and its capabilities", () => {
    expect(filesystem.type).toBe("filesystem");
    expect(filesystem.apiVersion).toBe(2);
    expect(filesystem.capabilities).toEqual({
      readOnly: false,
      discover: true,
      createCollection: true,
      metadata: ["displayname", "color", "description", "order"],
      ctag: false,
      syncToken: false,
      batchGet: true,
      watch: true,
      concurrency: 16,
    });
  });
});
