import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { isVdirsyncerError, UserError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { findCodec } from "../src/codec.ts";
import { expandPath } from "../src/collection-paths.ts";
import singlefile from "../src/index.ts";
import { collect, createStorage, event, OPEN, tempDir } from "./helpers.ts";

async function validate(options: unknown) {
  return singlefile.options["~standard"].validate(options);
}

describe("definition", () => {
  it("declares the capabilities of a writable, discoverable, batch-reading storage without metadata", () => {
    expect(singlefile.type).toBe("singlefile");
    expect(singlefile.apiVersion).toBe(2);
    expect(singlefile.capabilities).toEqual({
      readOnly: false,
      discover: true,
      createCollection: true,
      metadata: [],
      ctag: false,
      syncToken: false,
      batchGet: true,
      watch: true,
      concurrency: 8,
    });
  });

  it("has exactly the methods its capabilities promise", async () => {
    const path = join(await tempDir(), "c.ics");
    await writeFile(path, "");
    const storage = await createStorage({ path });
    expect(typeof storage.discover).toBe("function");
    expect(typeof storage.createCollection).toBe("function");
    const col = await storage.open(null, OPEN);
    for (const m of ["list", "get", "getMany", "upload", "update", "delete", "flush", "watch"] as const) {
      expect(typeof col[m], m).toBe("function");
    }
    for (const m of ["getMeta", "setMeta", "collectionTag", "changes"] as const) {
      expect((col as unknown as Record<string, unknown>)[m], m).toBeUndefined();
    }
  });
});

describe("options", () => {
  it("requires path and defaults encoding to utf-8", async () => {
    expect(await validate({ path: "/x/y.ics" })).toEqual({ value: { path: "/x/y.ics", encoding: "utf-8" } });
    expect((await validate({})).issues?.length).toBeGreaterThan(0);
  });

  it("rejects unknown options, naming them", async () => {
    const result = await validate({ path: "/x.ics", fileext: ".ics" });
    expect(JSON.stringify(result.issues)).toContain("fileext");
  });

  it("rejects an encoding it cannot both read and write", async () => {
    const result = await validate({ path: "/x.ics", encoding: "shift_jis" });
    expect(result.issues?.[0]?.message).toContain("Unsupported encoding");
    expect((await validate({ path: "/x.ics", encoding: "UTF8" })).issues).toBeUndefined();
    expect((await validate({ path: "/x.ics", encoding: "iso-8859-1" })).issues).toBeUndefined();
  });
});

describe("paths", () => {
  it("expands ~ and makes the path absolute and normal", () => {
    expect(expandPath("~/cal/x.ics")).toBe(join(homedir(), "cal/x.ics"));
    expect(expandPath("/a/b/../c.ics")).toBe("/a/c.ics");
    expect(expandPath("rel.ics")).toBe(join(process.cwd(), "rel.ics"));
  });
});

describe("discover()", () => {
  it("finds the files that match path with %s as a wildcard, files only", async () => {
    const dir = await tempDir();
    for (const name of ["work.ics", "home.ics", ".hidden.ics", "notes.txt"])
      await writeFile(join(dir, name), "");
    await mkdir(join(dir, "folder.ics"));
    const storage = await createStorage({ path: join(dir, "%s.ics") });
    const found = await collect(storage.discover());
    expect(found).toEqual([
      { id: "home", href: join(dir, "home.ics"), config: { path: join(dir, "home.ics") } },
      { id: "work", href: join(dir, "work.ics"), config: { path: join(dir, "work.ics") } },
    ]);
  });

  it("handles %s in a directory name and keeps glob characters elsewhere literal", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "a"));
    await mkdir(join(dir, "b"));
    await writeFile(join(dir, "a", "cal[1].ics"), "");
    await writeFile(join(dir, "b", "other.ics"), "");
    const storage = await createStorage({ path: join(dir, "%s", "cal[1].ics") });
    expect((await collect(storage.discover())).map((c) => [c.id, c.href])).toEqual([
      ["a", join(dir, "a", "cal[1].ics")],
    ]);
  });

  it("finds nothing without exactly one %s, or when the directory is missing", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "x.ics"), "");
    expect(await collect((await createStorage({ path: join(dir, "x.ics") })).discover())).toEqual([]);
    expect(await collect((await createStorage({ path: join(dir, "%s-%s.ics") })).discover())).toEqual([]);
    expect(await collect((await createStorage({ path: join(dir, "nope", "%s.ics") })).discover())).toEqual(
      [],
    );
  });

  it("hands out collections that open() accepts", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "work.ics"), event("a", "A"));
    const storage = await createStorage({ path: join(dir, "%s.ics") });
    const [info] = await collect(storage.discover());
    const col = await storage.open(info!, OPEN);
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["a"]);
  });
});

describe("createCollection()", () => {
  it("creates an empty file and its parent directories", async () => {
    const dir = await tempDir();
    const storage = await createStorage({ path: join(dir, "deep", "er", "%s.ics") });
    const info = await storage.createCollection("work");
    const file = join(dir, "deep", "er", "work.ics");
    expect(info).toEqual({ id: "work", href: file, config: { path: file } });
    expect(await readFile(file, "utf8")).toBe("");
    expect(await collect((await storage.open(info, OPEN)).list())).toEqual([]);
  });

  it("leaves an existing file alone", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "work.ics"), event("a", "A"));
    const storage = await createStorage({ path: join(dir, "%s.ics") });
    await storage.createCollection("work");
    expect(await readFile(join(dir, "work.ics"), "utf8")).toBe(event("a", "A"));
  });

  it("with a name, requires exactly one %s in path", async () => {
    const dir = await tempDir();
    for (const path of [join(dir, "x.ics"), join(dir, "%s", "%s.ics")]) {
      const storage = await createStorage({ path });
      const err = await storage.createCollection("work").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(isVdirsyncerError(err, "USER")).toBe(true);
      expect((err as Error).message).toBe("Exactly one %s required in path if collection is not null.");
    }
  });

  it("with null, creates the configured file itself", async () => {
    const file = join(await tempDir(), "sub", "cal.ics");
    const storage = await createStorage({ path: file });
    const info = await storage.createCollection(null);
    expect(info).toEqual({ id: "cal.ics", href: file, config: { path: file } });
    expect((await stat(file)).isFile()).toBe(true);
  });
});

describe("codecs", () => {
  it("decode strictly and encode strictly", () => {
    const utf8 = findCodec("utf-8")!;
    expect(() => utf8.decode(Uint8Array.of(0xff))).toThrow();
    expect(() => utf8.encode("\uD800")).toThrow();
    const ascii = findCodec("ascii")!;
    expect(() => ascii.decode(Uint8Array.of(0x41, 0x80))).toThrow();
    expect(() => ascii.encode("é")).toThrow();
    const latin1 = findCodec("latin_1")!;
    expect(latin1.decode(Uint8Array.of(0xe9))).toBe("é");
    expect(() => latin1.encode("€")).toThrow();
    const utf16 = findCodec("utf-16-le")!;
    expect(utf16.decode(utf16.encode("Grüße €"))).toBe("Grüße €");
  });
});
