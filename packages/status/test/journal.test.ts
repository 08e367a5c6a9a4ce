import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Item } from "@vdirsyncer/core";
import {
  createMemoryStatus,
  type SyncEvent,
  syncCollection,
  type WritableCollection,
} from "@vdirsyncer/core/engine";
import { createMemoryStorage } from "@vdirsyncer/core/memory";
import { describe, expect, it } from "vitest";
import { applyRetention, lastChange, readRuns } from "../src/journal.ts";
import { JOURNAL_KEEP_RUNS, type JournalRun, newRunId } from "../src/journal-format.ts";
import { RunRecorder } from "../src/run-recorder.ts";
import { createDiskTrash, itemName, listTrash } from "../src/trash.ts";
import { tempDir } from "./helpers.ts";

const event = (uid: string, summary: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

async function memory(): Promise<WritableCollection> {
  return (await createMemoryStorage().open(null)) as WritableCollection;
}

/** Runs one journaled sync of a ↔ b, as the command does. */
async function journaledSync(
  root: string,
  a: WritableCollection,
  b: WritableCollection,
  status: ReturnType<typeof createMemoryStatus>,
  options: { now?: () => Date; forceDelete?: boolean } = {},
): Promise<JournalRun> {
  const journal = new RunRecorder(root, { kind: "sync", pair: "p", collection: "c", now: options.now });
  journal.storages = { a: "p_a/c", b: "p_b/c" };
  await syncCollection({
    a: { name: "p_a/c", collection: journal.observe("a", a) },
    b: { name: "p_b/c", collection: journal.observe("b", b) },
    status,
    trash: journal.trash,
    forceDelete: options.forceDelete,
    onEvent: (e: SyncEvent) => journal.onEvent(e),
    onError: (err) => journal.error(err),
  });
  return journal.finish();
}

/** A clock that moves one second per call. */
function clock(): () => Date {
  let t = Date.parse("2025-01-01T00:00:00Z");
  return () => {
    t += 1000;
    return new Date(t);
  };
}

describe("itemName", () => {
  it("takes the main component's SUMMARY or FN, unfolded, unescaped and without control characters", () => {
    const folded =
      "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:1\r\nBEGIN:VALARM\r\nSUMMARY:alarm\r\nEND:VALARM\r\nSUMMARY;LANGUAGE=de:Zahn\r\n arzt\\, Dr. X\\nRaum 2\u0007\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    expect(itemName(folded)).toBe("Zahnarzt, Dr. X Raum 2");
    expect(itemName("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erika \u001b[31mM\r\nEND:VCARD\r\n")).toBe(
      "Erika [31mM",
    );
    expect(itemName("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")).toBeNull();
    expect(itemName(event("x", "y".repeat(500)))?.length).toBe(200);
  });
});

describe("the journal of a sync", () => {
  it("records every action with its result, the item's name, and the trash entries that hold what it replaced", async () => {
    const root = tempDir();
    const a = await memory();
    const b = await memory();
    await a.upload(new Item(event("keep", "Kept")));
    await a.upload(new Item(event("edit", "Old title")));
    await a.upload(new Item(event("gone", "Dentist")));
    const status = createMemoryStatus();
    const first = await journaledSync(root, a, b, status);
    expect(first.actions.map((x) => `${x.kind} ${x.side} ${x.ident} ${x.name} ${x.result}`).sort()).toEqual([
      "upload b edit Old title done",
      "upload b gone Dentist done",
      "upload b keep Kept done",
    ]);
    expect(first.actions.every((x) => x.href !== null && x.hash !== null && x.trash.length === 0)).toBe(true);
    expect(first.result).toBe("ok");

    // Edit on a, delete on a: b's versions are overwritten and deleted.
    const hrefs = new Map<string, string>();
    for await (const ref of a.list()) hrefs.set((await a.get(ref.href)).item.ident, ref.href);
    const editHref = hrefs.get("edit") as string;
    await a.update(editHref, new Item(event("edit", "New title")), (await a.get(editHref)).etag);
    const goneHref = hrefs.get("gone") as string;
    await a.delete(goneHref, (await a.get(goneHref)).etag);
    const second = await journaledSync(root, a, b, status);
    const byIdent = new Map(second.actions.map((x) => [x.ident, x]));
    expect(byIdent.get("edit")).toMatchObject({
      kind: "update",
      side: "b",
      name: "New title",
      result: "done",
    });
    expect(byIdent.get("gone")).toMatchObject({ kind: "delete", side: "b", name: "Dentist", hash: null });
    const trash = listTrash(root);
    const kept = (ident: string) => trash.filter((e) => e.ident === ident);
    expect(kept("edit").map((e) => [e.name, e.run, e.origin, e.side, e.reason])).toEqual([
      ["Old title", second.run, "sync", "b", "update"],
    ]);
    expect(byIdent.get("edit")?.trash).toEqual(kept("edit").map((e) => e.id));
    expect(byIdent.get("gone")?.trash).toEqual(kept("gone").map((e) => e.id));
    expect(kept("gone")[0]).toMatchObject({ name: "Dentist", uid: "gone", reason: "delete" });
    // The written version's hash is what undo compares the current version with.
    expect(byIdent.get("edit")?.hash).toBe(new Item(event("edit", "New title")).hash);

    expect(readRuns(root, { pair: "p", collection: "c" }).map((r) => r.run)).toEqual([first.run, second.run]);
    expect(lastChange(root, "p", "c").run?.run).toBe(second.run);
  });

  it("lets idle runs replace each other and keeps the last runs only", async () => {
    const root = tempDir();
    const a = await memory();
    const b = await memory();
    await a.upload(new Item(event("one", "One")));
    const status = createMemoryStatus();
    const now = clock();
    const changing = await journaledSync(root, a, b, status, { now });
    await journaledSync(root, a, b, status, { now });
    const idle = await journaledSync(root, a, b, status, { now });
    expect(readRuns(root, { pair: "p", collection: "c" }).map((r) => r.run)).toEqual([
      changing.run,
      idle.run,
    ]);
    // An idle run after the change does not hide it from undo.
    expect(lastChange(root, "p", "c").run?.run).toBe(changing.run);

    const dir = join(root, ".trash", "p", "c", "runs");
    for (let i = 0; i < JOURNAL_KEEP_RUNS + 5; i++) {
      const r = new RunRecorder(root, { kind: "restore", pair: "p", collection: "c", now });
      r.error(new Error(`failure ${i}\u0007 with a bell`));
      await r.finish();
    }
    const left = readRuns(root, { pair: "p", collection: "c" });
    expect(left).toHaveLength(JOURNAL_KEEP_RUNS);
    expect(left[left.length - 1]?.messages).toEqual([`failure ${JOURNAL_KEEP_RUNS + 4} with a bell`]);
    expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, `${left[0]?.run}.json`), "utf8")).format).toBe(1);
  });

  it("an undo of the last change leaves nothing to undo until a sync changes something again", async () => {
    const root = tempDir();
    const now = clock();
    const sync = new RunRecorder(root, { kind: "sync", pair: "p", collection: null, now });
    sync.add({
      kind: "delete",
      side: "a",
      ident: "x",
      href: "x.ics",
      name: null,
      uid: "x",
      hash: null,
      result: "done",
      trash: [],
    });
    const done = await sync.finish();
    const undo = new RunRecorder(root, { kind: "undo", pair: "p", collection: null, undoes: done.run, now });
    undo.add({
      kind: "restore",
      side: "a",
      ident: "x",
      href: "x.ics",
      name: null,
      uid: "x",
      hash: "h",
      result: "done",
      trash: [],
    });
    const undone = await undo.finish();
    expect(lastChange(root, "p", null)).toEqual({ run: done, undone });
    const later = new RunRecorder(root, { kind: "sync", pair: "p", collection: null, now });
    later.add({
      kind: "upload",
      side: "b",
      ident: "x",
      href: "x.ics",
      name: null,
      uid: "x",
      hash: "h",
      result: "done",
      trash: [],
    });
    const next = await later.finish();
    expect(lastChange(root, "p", null)).toEqual({ run: next, undone: undefined });
    expect(lastChange(root, "p", "other")).toEqual({ run: undefined, undone: undefined });
  });

  it("run ids sort by time", () => {
    const x = newRunId(new Date("2025-06-14T15:30:12.345Z"));
    expect(x).toMatch(/^20250614T153012Z-[0-9a-f]{6}$/);
    expect(newRunId(new Date("2025-06-14T15:30:13Z")) > x).toBe(true);
  });
});

describe("retention", () => {
  const entry = (ident: string, size = 100) => ({
    storage: "p_a/c",
    side: "a" as const,
    ident,
    href: `${ident}.ics`,
    etag: null,
    raw: event(ident, "x".repeat(size)),
    reason: "delete" as const,
  });

  it("removes entries by age, then by size, oldest first, and never the last run's", async () => {
    const root = tempDir();
    const day = 86400e3;
    const start = Date.parse("2025-01-01T00:00:00Z");
    // Three runs of p/c: 40 days ago, 20 days ago, 1 day ago (the last); and one of q/null 40 days ago.
    const runAt = async (pair: string, collection: string | null, at: number, idents: string[]) => {
      const r = new RunRecorder(root, { kind: "sync", pair, collection, now: () => new Date(at) });
      await r.trash.keep(idents.map((i) => entry(i, 10_000)));
      r.add({
        kind: "delete",
        side: "a",
        ident: idents[0] as string,
        href: null,
        name: null,
        uid: null,
        hash: null,
        result: "done",
        trash: [],
      });
      return r.finish();
    };
    const now = start + 60 * day;
    await runAt("p", "c", now - 40 * day, ["old1", "old2"]);
    await runAt("p", "c", now - 20 * day, ["mid1", "mid2"]);
    await runAt("p", "c", now - day, ["new1"]);
    await runAt("q", null, now - 40 * day, ["qold"]);
    const left = () =>
      listTrash(root)
        .map((e) => e.ident)
        .sort();

    // By age: the p/c entries of 40 days go; q's are its last run's and stay, however old.
    const aged = applyRetention(root, { olderThanMs: 30 * day, now });
    expect(aged.removed.map((e) => e.ident).sort()).toEqual(["old1", "old2"]);
    expect(left()).toEqual(["mid1", "mid2", "new1", "qold"]);

    // By size: the oldest unprotected go until the rest fits; the last runs' stay even above the limit.
    const one = listTrash(root)[0]?.size as number;
    const sized = applyRetention(root, { maxBytes: 3 * one, now });
    expect(sized.removed.map((e) => e.ident)).toEqual(["mid1"]);
    expect(applyRetention(root, { maxBytes: 0, now }).removed.map((e) => e.ident)).toEqual(["mid2"]);
    expect(left()).toEqual(["new1", "qold"]);
    // Emptied batch folders are gone.
    expect(readdirSync(join(root, ".trash", "p", "c")).sort()).toHaveLength(2);
  });

  it("keeps entries newer than a collection's last run (a run still going) and the newest batch without a journal", async () => {
    const root = tempDir();
    const r = new RunRecorder(root, { kind: "sync", pair: "p", collection: "c", now: () => new Date(1000) });
    await r.finish();
    // A run in progress keeps versions; its journal is not written yet.
    const running = new RunRecorder(root, {
      kind: "sync",
      pair: "p",
      collection: "c",
      now: () => new Date(5000),
    });
    await running.trash.keep([entry("busy")]);
    // Entries of a repair (no journal): only the newest batch is protected.
    await createDiskTrash(root, "st", null, { now: () => new Date(1000) }).keep([entry("r1")]);
    await createDiskTrash(root, "st", null, { now: () => new Date(2000) }).keep([entry("r2")]);
    const result = applyRetention(root, { olderThanMs: 0, now: 10_000 });
    expect(result.removed.map((e) => e.ident)).toEqual(["r1"]);
    expect(
      listTrash(root)
        .map((e) => e.ident)
        .sort(),
    ).toEqual(["busy", "r2"]);
  });
});
