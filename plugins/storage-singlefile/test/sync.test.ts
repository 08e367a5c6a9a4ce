import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { createMemoryStatus, IdentConflictError, syncCollection } from "@vdirsyncer/core/engine";
import { createMemoryStorage } from "@vdirsyncer/core/memory";
import { describe, expect, it } from "vitest";
import { duplicateHref } from "../src/single-file.ts";
import { card, collect, crlf, event, openFile, tempDir } from "./helpers.ts";

// The storage under the real engine, against the memory storage.
describe("with the sync engine", () => {
  it("copies both ways, then leaves the file alone on a sync with nothing to do", async () => {
    const path = join(await tempDir(), "cal.ics");
    await writeFile(path, event("from-file", "Datei"));
    const memory = createMemoryStorage().open(null);
    await memory.upload(new Item(event("from-memory", "Speicher")));
    const status = createMemoryStatus();
    const sides = async () => ({
      a: { name: "file", collection: await openFile(path) },
      b: { name: "mem", collection: memory },
      status,
    });

    await syncCollection(await sides());
    const text = await readFile(path, "utf8");
    expect(text).toContain("UID:from-file\r\n");
    expect(text).toContain("UID:from-memory\r\n");
    expect((await collect(memory.list())).map((r) => r.href).sort()).toEqual(["from-file", "from-memory"]);

    const before = await stat(path, { bigint: true });
    const report = await syncCollection(await sides());
    expect(report.applied).toBe(0);
    const after = await stat(path, { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
  });

  it("stops with an ident conflict on duplicate UIDs, naming both hrefs, and loses nothing", async () => {
    const cards = crlf(
      "BEGIN:VADDRESSBOOK",
      card("same", "First").trimEnd(),
      card("same", "Second").trimEnd(),
      "END:VADDRESSBOOK",
    );
    const path = join(await tempDir(), "cards.vcf");
    await writeFile(path, cards);
    const memory = createMemoryStorage().open(null);
    const err = await syncCollection({
      a: { name: "contacts_local", collection: await openFile(path) },
      b: { name: "contacts_remote", collection: memory },
      status: createMemoryStatus(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentConflictError);
    expect(isVdirsyncerError(err, "IDENT_CONFLICT")).toBe(true);
    expect((err as IdentConflictError).hrefs).toEqual(["same", duplicateHref("same", 2)]);
    expect(await readFile(path, "utf8")).toBe(cards);
    expect(await collect(memory.list())).toEqual([]);
  });
});
