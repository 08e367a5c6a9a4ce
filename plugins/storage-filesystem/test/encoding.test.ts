// Strict decoding with the `encoding` option; undecodable files are reported with their full path.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type InvalidItemError, isVdirsyncerError } from "@vdirsyncer/core";
import { createMemoryStatus, syncCollection } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import { resolveCodec, UnknownEncodingError } from "../src/codec.ts";
import { collect, event, freshDir, openDir } from "./helpers.ts";

const LATIN1_EVENT = Buffer.from(
  "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:l1\r\nSUMMARY:K\xe4se\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
  "latin1",
);
const JUNK = Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x80, 0x00, 0xc3, 0x28, 0x9f]);

describe("reading undecodable files", () => {
  it("get() of a latin-1 file with encoding utf-8 throws InvalidItemError naming the file", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "latin.ics"), LATIN1_EVENT);
    const col = await openDir(dir);
    const err = (await col.get("latin.ics").catch((e: unknown) => e)) as InvalidItemError;
    expect(isVdirsyncerError(err, "ITEM_INVALID")).toBe(true);
    expect(err.message).toBe(`Cannot read ${join(dir, "latin.ics")}: it is not valid utf-8 text.`);
    expect(err.context).toMatchObject({ href: "latin.ics", location: join(dir, "latin.ics") });
  });

  it("get() of binary junk says it looks binary", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "junk.ics"), JUNK);
    const col = await openDir(dir);
    await expect(col.get("junk.ics")).rejects.toThrow(
      `Cannot read ${join(dir, "junk.ics")}: it is not valid utf-8 text (it contains NUL bytes, so it looks like a binary file).`,
    );
  });

  it("getMany() yields a failure for bad files and goes on with the others", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    const good = await col.upload(event("good"));
    await writeFile(join(dir, "latin.ics"), LATIN1_EVENT);
    await writeFile(join(dir, "junk.ics"), JUNK);
    const results = await collect(col.getMany(["latin.ics", good.href, "junk.ics"]));
    const byHref = new Map(results.map((r) => [r.href, r]));
    expect(byHref.size).toBe(3);
    expect("item" in byHref.get(good.href)!).toBe(true);
    for (const bad of ["latin.ics", "junk.ics"]) {
      const r = byHref.get(bad)!;
      expect("error" in r && isVdirsyncerError(r.error, "ITEM_INVALID")).toBe(true);
      expect("error" in r && r.error.message).toContain(join(dir, bad));
    }
  });

  it("the same latin-1 file reads with encoding latin-1, and writes back byte for byte", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "latin.ics"), LATIN1_EVENT);
    const col = await openDir(dir, { encoding: "latin-1" });
    const got = await col.get("latin.ics");
    expect(got.item.raw).toContain("SUMMARY:Käse");
    await col.update("latin.ics", got.item, got.etag);
    expect(await readFile(join(dir, "latin.ics"))).toEqual(LATIN1_EVENT);
  });

  it("reads an item that starts with a UTF-8 byte-order mark without it, so that it parses", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "bom.ics"), `\ufeff${event("bom").raw}`);
    const col = await openDir(dir);
    const got = await col.get("bom.ics");
    expect(got.item.raw).toBe(event("bom").raw);
    expect(got.item.uid).toBe("bom");
    expect(got.item.parsed?.name).toBe("VCALENDAR");
    const [many] = await collect(col.getMany(["bom.ics"]));
    expect(many).toEqual(got);
  });

  it("syncs a vdir item with a byte-order mark like any other (vdirsyncer copies it too)", async () => {
    const a = await freshDir();
    const b = await freshDir();
    await writeFile(join(a, "bom.ics"), `\ufeff${event("bom").raw}`);
    const errors: unknown[] = [];
    const report = await syncCollection({
      a: { name: "a", collection: await openDir(a) },
      b: { name: "b", collection: await openDir(b) },
      status: createMemoryStatus(),
      onError: (e) => errors.push(e),
    });
    expect(errors).toEqual([]);
    expect(report.plan.actions.map((x) => [x.kind, x.ident])).toEqual([["upload", "bom"]]);
    expect(await readFile(join(b, "bom.ics"), "utf8")).toBe(event("bom").raw);
  });

  it("keeps a byte-order mark in a metadata value, as vdirsyncer does", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "displayname"), "\ufeffWork");
    expect(await (await openDir(dir)).getMeta("displayname")).toBe("\ufeffWork");
  });
});

describe("writing text the encoding cannot hold", () => {
  it("upload() with encoding latin-1 of Chinese text throws InvalidItemError and writes nothing", async () => {
    const dir = await freshDir();
    const col = await openDir(dir, { encoding: "latin-1" });
    const err = await col.upload(event("zh", "中国")).catch((e: unknown) => e);
    expect(isVdirsyncerError(err, "ITEM_INVALID")).toBe(true);
    expect((err as Error).message).toContain("U+4E2D cannot be encoded in latin-1");
    expect(await readdir(dir)).toEqual([]);
  });

  it("upload() of a lone surrogate throws instead of writing U+FFFD", async () => {
    const dir = await freshDir();
    const col = await openDir(dir);
    await expect(col.upload(event("s", "bad \ud800 text"))).rejects.toMatchObject({ code: "ITEM_INVALID" });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("resolveCodec()", () => {
  const cases: [label: string, bytes: number[], text: string | null][] = [
    ["utf-8", [0xc3, 0xa4], "ä"],
    ["UTF_8", [0xc3, 0xa4], "ä"],
    ["utf8", [0xff], null],
    ["ascii", [0x41], "A"],
    ["ascii", [0xe4], null], // Python rejects; WHATWG's "ascii" would decode as windows-1252
    ["latin_1", [0x80, 0xe4], "\x80ä"], // true ISO-8859-1, not windows-1252
    ["cp1252", [0x80], "€"],
    ["windows-1252", [0x81], "\x81"],
    ["iso-8859-15", [0xa4], "€"],
    ["utf-16-le", [0x41, 0x00], "A"],
    ["utf-16-be", [0xd8, 0x00], null],
  ];
  for (const [label, bytes, text] of cases) {
    it(`${label} decodes [${bytes.map((b) => b.toString(16)).join(" ")}] ${text === null ? "as an error" : `as ${JSON.stringify(text)}`}`, () => {
      const codec = resolveCodec(label);
      if (text === null) {
        expect(() => codec.decode(Uint8Array.from(bytes))).toThrow();
      } else {
        expect(codec.decode(Uint8Array.from(bytes))).toBe(text);
        expect([...codec.encode(text)]).toEqual(bytes);
      }
    });
  }

  it("rejects unknown and multi-byte legacy encodings", () => {
    expect(() => resolveCodec("klingon")).toThrow(UnknownEncodingError);
    expect(() => resolveCodec("shift_jis")).toThrow(/not supported for writing/);
  });
});
