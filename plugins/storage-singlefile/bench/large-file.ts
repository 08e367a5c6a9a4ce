/**
 * Prints how long the singlefile storage takes on files of 1k, 10k and 50k events: list, read all, update 10,
 * flush, and a flush with nothing to write. Per-item times that stay flat as the file grows show linear behaviour
 * (vdirsyncer < 0.19.2 was quadratic, #818).
 *
 * Run from plugins/storage-singlefile (core's sources use TypeScript parameter properties, hence the flag):
 *   node --conditions=source --experimental-transform-types --no-warnings bench/large-file.ts [sizes…]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Item, type StorageContext } from "@vdirsyncer/core";
import singlefile, { type SingleFileStorage } from "../src/index.ts";
import { changedEvent, makeCalendar } from "./make-calendar.ts";

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const signal = new AbortController().signal;
const stats = { add() {} };
const ctx: StorageContext = { instance: "bench", log: quiet, stats, signal };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

async function time<T>(task: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await task();
  return [result, performance.now() - start];
}

async function run(count: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "vdirsyncer-singlefile-bench-"));
  try {
    const path = join(dir, "calendar.ics");
    await writeFile(path, makeCalendar(count));
    const storage = await singlefile.create({ path, encoding: "utf-8" }, ctx);
    const col = await (storage as unknown as SingleFileStorage).open(null, { signal, stats });

    const [refs, list] = await time(async () => collect(col.list()));
    const [, getAll] = await time(async () => collect(col.getMany!(refs.map((r) => r.href))));
    const [, update] = await time(async () => {
      for (let i = 0; i < 10; i++) {
        const ref = refs[Math.floor((i * refs.length) / 10)]!;
        const n = Number(ref.href.slice("event-".length));
        await col.update(ref.href, new Item(changedEvent(n)), ref.etag);
      }
    });
    const [, flush] = await time(async () => col.flush!());
    const [, relist] = await time(async () => collect(col.list()));
    const [, idleFlush] = await time(async () => col.flush!());

    const per = (ms: number) => `${((ms * 1000) / count).toFixed(2)} µs/item`;
    console.log(
      [
        `${String(count).padStart(6)} items:`,
        `list ${list.toFixed(1)} ms (${per(list)})`,
        `getMany ${getAll.toFixed(1)} ms`,
        `update×10 ${update.toFixed(2)} ms`,
        `flush ${flush.toFixed(1)} ms (${per(flush)})`,
        `re-list ${relist.toFixed(1)} ms`,
        `idle flush ${idleFlush.toFixed(2)} ms`,
      ].join("  "),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const count of sizes.length > 0 ? sizes : [1_000, 10_000, 50_000]) await run(count);
