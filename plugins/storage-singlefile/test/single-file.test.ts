import { chmod, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AlreadyExistsError,
  CollectionNotFoundError,
  InvalidItemError,
  Item,
  isVdirsyncerError,
  NotFoundError,
  PreconditionFailedError,
  UserError,
  WrongEtagError,
} from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { duplicateHref } from "../src/single-file.ts";
import {
  card,
  collect,
  createStorage,
  crlf,
  event,
  OPEN,
  openFile,
  recordingLogger,
  tempDir,
} from "./helpers.ts";

// A calendar with a shared VTIMEZONE, a METHOD line and a recurrence exception grouped with its master event.
const CALENDAR = crlf(
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//test//EN",
  "METHOD:PUBLISH",
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:STANDARD",
  "DTSTART:19701025T030000",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "END:STANDARD",
  "END:VTIMEZONE",
  "BEGIN:VEVENT",
  "UID:event-1",
  "DTSTART;TZID=Europe/Berlin:20240101T100000",
  "SUMMARY:Eins",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:event-2",
  "SUMMARY:Zwei ü",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:event-1",
  "RECURRENCE-ID;TZID=Europe/Berlin:20240108T100000",
  "SUMMARY:Eins moved",
  "END:VEVENT",
  "END:VCALENDAR",
);

async function fileWith(content: string | Uint8Array, name = "cal.ics"): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

async function expectCode(promise: Promise<unknown>, code: Parameters<typeof isVdirsyncerError>[1]) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVdirsyncerError(err, code), `expected a ${code} error, got ${String(err)}`).toBe(true);
  return err as Error;
}

describe("vdirsyncer parity", () => {
  // Expected values produced by vdirsyncer 0.19.0's SingleFileStorage doing the same calls inside at_once().
  it("lists, updates, uploads and writes the file exactly as vdirsyncer does", async () => {
    const path = await fileWith(CALENDAR);
    const col = await openFile(path);
    expect(await collect(col.list())).toEqual([
      { href: "event-1", etag: "09679fb7696445bd6753cc15befcd962507a20f5a480ca133458e25ce8bf1273" },
      { href: "event-2", etag: "f767aa1f22ae419d359ca265eabc3eb358651a33334eff1edd236ecd757d85a9" },
    ]);
    const updated = await col.update(
      "event-2",
      new Item(
        crlf(
          "BEGIN:VCALENDAR",
          "VERSION:2.0",
          "PRODID:-//other//EN",
          "BEGIN:VEVENT",
          "UID:event-2",
          "SUMMARY:Zwei geändert",
          "END:VEVENT",
          "END:VCALENDAR",
        ),
      ),
      "f767aa1f22ae419d359ca265eabc3eb358651a33334eff1edd236ecd757d85a9",
    );
    expect(updated.etag).toBe("32193fa78d385d5749a58ba58cbd8e6c735b7f64043a5c2a45a3656ce8c8c7d9");
    expect(await col.upload(new Item(event("event-3", "Drei")))).toEqual({
      href: "event-3",
      etag: "26790b323d03642f4880c0cec9ce6694f936d22a6ab7b7a759653f0cb864e12f",
    });
    await col.flush?.();

    expect(await readFile(path, "utf8")).toBe(
      crlf(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "PRODID:-//other//EN",
        "BEGIN:VEVENT",
        "UID:event-1",
        "DTSTART;TZID=Europe/Berlin:20240101T100000",
        "SUMMARY:Eins",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:event-1",
        "RECURRENCE-ID;TZID=Europe/Berlin:20240108T100000",
        "SUMMARY:Eins moved",
        "END:VEVENT",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:event-2",
        "SUMMARY:Zwei geändert",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:event-3",
        "SUMMARY:Drei",
        "END:VEVENT",
        "END:VCALENDAR",
      ),
    );
    // After the rewrite the items carry the merged wrapper (two PRODID lines) and the shared VTIMEZONE. The hash
    // ignores both since vdirsyncer 0.20.0 (adjacent duplicate PRODIDs are all removed), so the etags are the ones
    // the writes returned and the next sync sees no change. vdirsyncer 0.19.0 hashed the second PRODID and listed
    // 3ddd070c…, 3c57028f…, 5f9d9e0a… here.
    expect(await collect(col.list())).toEqual([
      { href: "event-1", etag: "09679fb7696445bd6753cc15befcd962507a20f5a480ca133458e25ce8bf1273" },
      { href: "event-2", etag: "32193fa78d385d5749a58ba58cbd8e6c735b7f64043a5c2a45a3656ce8c8c7d9" },
      { href: "event-3", etag: "26790b323d03642f4880c0cec9ce6694f936d22a6ab7b7a759653f0cb864e12f" },
    ]);
  });

  it("get() returns the split item: the wrapper without METHOD, the event group and the timezone", async () => {
    const col = await openFile(await fileWith(CALENDAR));
    const { item, etag, href } = await col.get("event-1");
    expect(href).toBe("event-1");
    expect(etag).toBe(item.hash);
    expect(item.raw).not.toContain("METHOD");
    expect(item.raw).toContain("RECURRENCE-ID");
    expect(item.raw).toContain("TZID:Europe/Berlin");
  });
});

describe("buffered writes", () => {
  it("writes nothing before flush() and the file exactly once at flush()", async () => {
    const path = await fileWith(CALENDAR);
    const before = await stat(path, { bigint: true });
    const col = await openFile(path);
    for (const n of [3, 4, 5]) await col.upload(new Item(event(`event-${n}`, `Nummer ${n}`)));
    const { etag } = await col.get("event-1");
    await col.delete("event-1", etag);

    const buffered = await stat(path, { bigint: true });
    expect(buffered.ino).toBe(before.ino);
    expect(buffered.mtimeNs).toBe(before.mtimeNs);
    expect(await readFile(path, "utf8")).toBe(CALENDAR);

    await col.flush?.();
    const after = await stat(path, { bigint: true });
    expect(after.ino).not.toBe(before.ino); // replaced by rename, not rewritten in place
    const text = await readFile(path, "utf8");
    for (const n of [3, 4, 5]) expect(text).toContain(`UID:event-${n}\r\n`);
    expect(text).not.toContain("UID:event-1\r\n");
    expect(text).toContain("UID:event-2\r\n");
    expect(await readdir(join(path, ".."))).toEqual(["cal.ics"]); // no temporary file left behind
  });

  it("does not touch the file when nothing changed", async () => {
    const path = await fileWith(CALENDAR);
    const before = await stat(path, { bigint: true });
    const col = await openFile(path);
    await collect(col.list());
    await col.get("event-2");
    await collect(col.getMany!(["event-1", "event-2"]));
    await col.flush?.();
    await col.flush?.();
    const after = await stat(path, { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    // vdirsyncer would have rewritten it (dropping METHOD); we leave the user's file alone.
    expect(await readFile(path, "utf8")).toBe(CALENDAR);
  });

  it("loads the file before a write that comes before any list()", async () => {
    const path = await fileWith(CALENDAR);
    const col = await openFile(path);
    await col.upload(new Item(event("event-3", "Drei")));
    await col.flush?.();
    const again = await openFile(path);
    expect((await collect(again.list())).map((r) => r.href)).toEqual(["event-1", "event-2", "event-3"]);
  });

  it("keeps working after a flush: lists what was written, then writes again", async () => {
    const path = await fileWith(CALENDAR);
    const col = await openFile(path);
    await col.upload(new Item(event("event-3", "Drei")));
    await col.flush?.();
    const refs = await collect(col.list());
    expect(refs.map((r) => r.href)).toEqual(["event-1", "event-2", "event-3"]);
    const three = refs.find((r) => r.href === "event-3")!;
    await col.update("event-3", new Item(event("event-3", "Drei neu")), three.etag);
    await col.upload(new Item(event("event-4", "Vier")));
    await col.flush?.();
    const text = await readFile(path, "utf8");
    expect(text).toContain("SUMMARY:Drei neu\r\n");
    expect(text).not.toContain("SUMMARY:Drei\r\n");
    expect(text).toContain("UID:event-4\r\n");
  });

  it("list() includes buffered writes", async () => {
    const col = await openFile(await fileWith(CALENDAR));
    await col.upload(new Item(event("event-3", "Drei")));
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["event-1", "event-2", "event-3"]);
  });

  it("keeps the file's permission bits when it rewrites it", async () => {
    const path = await fileWith(CALENDAR);
    await chmod(path, 0o640);
    const col = await openFile(path);
    await col.upload(new Item(event("event-3", "Drei")));
    await col.flush?.();
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  it("sees a change another program made while nothing was buffered", async () => {
    const path = await fileWith(event("a", "A"));
    const col = await openFile(path);
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["a"]);
    const other = await openFile(path);
    await other.upload(new Item(event("b", "B")));
    await other.flush?.();
    expect((await col.get("b")).item.raw).toContain("SUMMARY:B");
  });

  it("writes an empty file when every item was deleted", async () => {
    const path = await fileWith(event("a", "A"));
    const col = await openFile(path);
    const [ref] = await collect(col.list());
    await col.delete(ref!.href, ref!.etag);
    await col.flush?.();
    expect(await readFile(path, "utf8")).toBe("");
    expect(await collect(col.list())).toEqual([]);
  });
});

describe("concurrent modification", () => {
  it("refuses to flush over a file another program changed, and writes nothing", async () => {
    const path = await fileWith(CALENDAR);
    const col = await openFile(path);
    await collect(col.list());
    await col.upload(new Item(event("event-3", "Drei")));
    const theirs = event("theirs", "written meanwhile");
    await writeFile(path, theirs);

    const err = await expectCode(col.flush!(), "PRECONDITION_FAILED");
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err.message).toContain(`Some other program modified the file ${path}`);
    expect(await readFile(path, "utf8")).toBe(theirs);
    // The buffered upload is dropped; the next call reads the other program's version.
    expect((await collect(col.list())).map((r) => r.href)).toEqual(["theirs"]);
  });

  it("notices a same-size rewrite that kept the mtime (content hash)", async () => {
    const path = await fileWith(event("aaa", "one"));
    const fixed = new Date(1_700_000_000_000);
    await utimes(path, fixed, fixed);
    const col = await openFile(path);
    await collect(col.list());
    await col.upload(new Item(event("b", "B")));
    // Same inode (written in place), same size, same mtime: only the content differs.
    await writeFile(path, event("bbb", "two"));
    await utimes(path, fixed, fixed);

    await expectCode(col.flush!(), "PRECONDITION_FAILED");
    expect(await readFile(path, "utf8")).toBe(event("bbb", "two"));
  });

  it("refuses to flush when the file was removed meanwhile", async () => {
    const path = await fileWith(CALENDAR);
    const col = await openFile(path);
    await col.upload(new Item(event("event-3", "Drei")));
    const { rm } = await import("node:fs/promises");
    await rm(path);
    await expectCode(col.flush!(), "PRECONDITION_FAILED");
    await expect(stat(path)).rejects.toThrow();
  });
});

describe("duplicate UIDs", () => {
  const CARDS = crlf(
    "BEGIN:VADDRESSBOOK",
    card("same", "First").trimEnd(),
    card("other", "Other").trimEnd(),
    card("same", "Second").trimEnd(),
    "END:VADDRESSBOOK",
  );

  it("lists every item, the second one of a UID under a distinct href, and warns", async () => {
    const log = recordingLogger();
    const path = await fileWith(CARDS, "cards.vcf");
    const col = await openFile(path, log);
    const refs = await collect(col.list());
    expect(refs.map((r) => r.href)).toEqual(["same", "other", duplicateHref("same", 2)]);
    expect((await col.get("same")).item.raw).toContain("FN:First");
    expect((await col.get(duplicateHref("same", 2))).item.raw).toContain("FN:Second");
    // Both carry the same ident: that is what makes the engine stop with an ident conflict.
    expect((await col.get(duplicateHref("same", 2))).item.ident).toBe("same");
    expect(log.lines.some((l) => l.startsWith("warn:") && l.includes("same") && l.includes("repair"))).toBe(
      true,
    );
  });

  it("keeps both in the file after list + flush without changes, and after an unrelated write", async () => {
    const path = await fileWith(CARDS, "cards.vcf");
    const col = await openFile(path);
    await collect(col.list());
    await col.flush?.();
    expect(await readFile(path, "utf8")).toBe(CARDS);

    const other = await col.get("other");
    await col.update("other", new Item(card("other", "Other changed")), other.etag);
    await col.flush?.();
    const text = await readFile(path, "utf8");
    expect(text).toContain("FN:First\r\n");
    expect(text).toContain("FN:Second\r\n");
    expect(text).toContain("FN:Other changed\r\n");
  });

  it("lets repair give the duplicate its own UID (upload the new one, delete the old href)", async () => {
    const path = await fileWith(CARDS, "cards.vcf");
    const col = await openFile(path);
    const dup = await col.get(duplicateHref("same", 2));
    await col.upload(dup.item.withUid("fresh-uid"));
    await col.delete(dup.href, dup.etag);
    await col.flush?.();
    const again = await openFile(path);
    expect((await collect(again.list())).map((r) => r.href).sort()).toEqual(["fresh-uid", "other", "same"]);
    expect((await again.get("fresh-uid")).item.raw).toContain("FN:Second");
  });

  it("never gives a duplicate an href that is another item's UID", async () => {
    const taken = duplicateHref("x", 2);
    const path = await fileWith(
      crlf(
        "BEGIN:VADDRESSBOOK",
        card("x", "One").trimEnd(),
        card("x", "Two").trimEnd(),
        card(taken, "Three").trimEnd(),
        "END:VADDRESSBOOK",
      ),
      "cards.vcf",
    );
    const refs = await collect((await openFile(path)).list());
    expect(refs.map((r) => r.href)).toEqual(["x", duplicateHref("x", 3), taken]);
  });
});

describe("item errors", () => {
  it("upload() of an existing ident throws AlreadyExistsError", async () => {
    const col = await openFile(await fileWith(CALENDAR));
    const err = await expectCode(col.upload(new Item(event("event-1", "again"))), "ALREADY_EXISTS");
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as AlreadyExistsError).existingHref).toBe("event-1");
  });

  it("update() and delete() check the etag and the href", async () => {
    const col = await openFile(await fileWith(CALENDAR));
    const item = new Item(event("event-1", "x"));
    expect(await expectCode(col.update("event-1", item, "stale"), "WRONG_ETAG")).toBeInstanceOf(
      WrongEtagError,
    );
    expect(await expectCode(col.delete("event-1", "stale"), "WRONG_ETAG")).toBeInstanceOf(WrongEtagError);
    expect(await expectCode(col.update("nope", item, "x"), "NOT_FOUND")).toBeInstanceOf(NotFoundError);
    expect(await expectCode(col.delete("nope", "x"), "NOT_FOUND")).toBeInstanceOf(NotFoundError);
    await expectCode(col.get("nope"), "NOT_FOUND");
  });

  it("getMany() reads each href once, yields nothing for [], and throws for a missing href", async () => {
    const col = await openFile(await fileWith(CALENDAR));
    const got = await collect(col.getMany!(["event-2", "event-1", "event-2"]));
    expect(got.map((g) => ("href" in g ? g.href : "")).sort()).toEqual(["event-1", "event-2"]);
    expect(await collect(col.getMany!([]))).toEqual([]);
    await expectCode(collect(col.getMany!(["event-1", "missing"])), "NOT_FOUND");
  });
});

describe("unreadable files", () => {
  it("a parse error names the file and the line, and nothing is written", async () => {
    const broken = crlf(
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "END:VCALENDAR",
      "stray line",
      "BEGIN:VCALENDAR",
      "END:VCALENDAR",
    );
    const path = await fileWith(broken);
    const col = await openFile(path);
    const err = await expectCode(collect(col.list()), "ITEM_INVALID");
    expect(err).toBeInstanceOf(InvalidItemError);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/line 4\b/);
    await expectCode(col.upload(new Item(event("new", "New"))), "ITEM_INVALID");
    await col.flush?.();
    expect(await readFile(path, "utf8")).toBe(broken);
  });

  it("a file in another encoding throws InvalidItemError naming the file and the line", async () => {
    const latin1 = Buffer.from(event("a", "Gr\u00fc\u00dfe"), "latin1");
    const path = await fileWith(latin1);
    const col = await openFile(path);
    const err = await expectCode(collect(col.list()), "ITEM_INVALID");
    expect(err.message).toContain(path);
    expect(err.message).toContain("utf-8");
    expect(err.message).toContain("line 6");
    await col.flush?.();
    expect(Buffer.compare(await readFile(path), latin1)).toBe(0);
  });

  it("reads and writes back the configured encoding", async () => {
    const latin1 = Buffer.from(event("a", "Gr\u00fc\u00dfe"), "latin1");
    const path = await fileWith(latin1);
    const col = await (await createStorage({ path, encoding: "latin-1" })).open(null, OPEN);
    const got = await col.get("a");
    expect(got.item.raw).toContain("SUMMARY:Grüße");
    await col.update("a", new Item(event("a", "Tschüß")), got.etag);
    await col.flush?.();
    expect((await readFile(path)).toString("latin1")).toContain("SUMMARY:Tschüß\r\n");
  });

  it("refuses to write a character the encoding cannot hold, and writes nothing", async () => {
    const path = await fileWith(event("a", "A"));
    const col = await (await createStorage({ path, encoding: "ascii" })).open(null, OPEN);
    await col.upload(new Item(event("b", "Grüße")));
    const err = await expectCode(col.flush!(), "ITEM_INVALID");
    expect(err.message).toContain(path);
    expect(await readFile(path, "utf8")).toBe(event("a", "A"));
  });

  it("drops a UTF-8 byte order mark instead of failing on the first line", async () => {
    const path = await fileWith(`\uFEFF${event("a", "A")}`);
    expect((await collect((await openFile(path)).list())).map((r) => r.href)).toEqual(["a"]);
  });
});

describe("opening", () => {
  it("a missing file throws CollectionNotFoundError", async () => {
    const path = join(await tempDir(), "missing.ics");
    const storage = await createStorage({ path });
    const err = await expectCode(
      Promise.resolve().then(() => storage.open(null, OPEN)),
      "COLLECTION_NOT_FOUND",
    );
    expect(err).toBeInstanceOf(CollectionNotFoundError);
    expect(err.message).toContain(path);
  });

  it("a directory throws UserError", async () => {
    const storage = await createStorage({ path: await tempDir() });
    expect(
      await expectCode(
        Promise.resolve().then(() => storage.open(null, OPEN)),
        "USER",
      ),
    ).toBeInstanceOf(UserError);
  });

  it("an empty file is an empty collection", async () => {
    const col = await openFile(await fileWith(""));
    expect(await collect(col.list())).toEqual([]);
  });
});
