import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Item, splitCollection } from "@vdirsyncer/core";
import { expect, it } from "vitest";
import { changedEvent, makeCalendar } from "../bench/make-calendar.ts";
import { collect, openFile, tempDir } from "./helpers.ts";

// Behaviour at size only; timings are for bench/large-file.ts, never asserted here.
it("a 10k-event file: list, update 10, flush writes every event once with the 10 changes", async () => {
  const count = 10_000;
  const path = join(await tempDir(), "big.ics");
  await writeFile(path, makeCalendar(count));
  const before = await stat(path, { bigint: true });
  const col = await openFile(path);

  const refs = await collect(col.list());
  expect(refs).toHaveLength(count);
  expect(new Set(refs.map((r) => r.href)).size).toBe(count);

  const changed = [0, 1, 999, 1000, 4321, 5000, 7777, 8888, 9998, 9999];
  const etags = new Map(refs.map((r) => [r.href, r.etag]));
  for (const i of changed) {
    await col.update(`event-${i}`, new Item(changedEvent(i)), etags.get(`event-${i}`)!);
  }
  expect((await stat(path, { bigint: true })).ino).toBe(before.ino); // still buffered
  await col.flush!();

  const items = splitCollection(await readFile(path, "utf8"));
  expect(items).toHaveLength(count);
  const byUid = new Map(items.map((item) => [item.uid, item]));
  expect(byUid.size).toBe(count);
  for (let i = 0; i < count; i++) {
    const raw = byUid.get(`event-${i}`)?.raw;
    if (changed.includes(i)) expect(raw).toContain(`SUMMARY:Geändert ${i}\r\n`);
    else expect(raw).toContain(`SUMMARY:Termin ${i} – Grüße\r\n`);
  }
  // Every item keeps the one shared timezone; the file holds it once.
  const text = await readFile(path, "utf8");
  expect(text.split("BEGIN:VTIMEZONE").length - 1).toBe(1);

  const relisted = await collect(col.list());
  expect(relisted).toHaveLength(count);
  for (const i of changed) {
    expect(relisted.find((r) => r.href === `event-${i}`)?.etag).toBe(new Item(changedEvent(i)).hash);
  }
});
