/**
 * The run files of one collection's journal on disk: where they are, reading them (a damaged one is skipped) and
 * writing one atomically. Internal to the package.
 */
import { readdirSync, readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { STATUS_FILE_MODE } from "./files.ts";
import { JOURNAL_FORMAT, type JournalRun } from "./journal-format.ts";
import { collectionTrashDir, makeDirs, RUNS_DIR, syncDir } from "./trash.ts";

export function runsDir(statusPath: string, pair: string, collection: string | null): string {
  return join(collectionTrashDir(statusPath, pair, collection), RUNS_DIR);
}

export function isRun(v: unknown): v is JournalRun {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<JournalRun>;
  return (
    r.format === JOURNAL_FORMAT &&
    typeof r.run === "string" &&
    typeof r.pair === "string" &&
    typeof r.started === "string" &&
    Array.isArray(r.actions)
  );
}

export function byStart(x: JournalRun, y: JournalRun): number {
  return x.started < y.started ? -1 : x.started > y.started ? 1 : x.run < y.run ? -1 : x.run > y.run ? 1 : 0;
}

export function readRunsIn(dir: string): { run: JournalRun; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { run: JournalRun; path: string }[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const path = join(dir, name);
    try {
      const v: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (isRun(v)) out.push({ run: v, path });
    } catch {
      // A damaged run file is skipped: the journal informs, it never decides alone.
    }
  }
  return out.sort((x, y) => byStart(x.run, y.run));
}

export function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** True when a run changed nothing and failed at nothing. */
export function idle(run: JournalRun): boolean {
  return run.actions.length === 0 && run.errors === 0;
}

export async function writeRunFile(dir: string, run: JournalRun): Promise<string> {
  await makeDirs(dir);
  const path = join(dir, `${run.run}.json`);
  const tmp = join(dir, `.${run.run}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, "w", STATUS_FILE_MODE);
    try {
      await fh.writeFile(`${JSON.stringify(run, null, 1)}\n`, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
  return path;
}
