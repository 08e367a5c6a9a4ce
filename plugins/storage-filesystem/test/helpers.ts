import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Item, type OpenOptions, type StorageContext } from "@vdirsyncer/core";
import { afterEach } from "vitest";
import filesystem, { type FilesystemStorage, type VdirCollection } from "../src/index.ts";

const made: string[] = [];

afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A new empty folder under the OS temp dir, removed after the test. */
export async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vdirsyncer-fs-"));
  made.push(dir);
  return dir;
}

/** A log that remembers what it was told. */
export interface RecordingContext extends StorageContext {
  lines: { level: string; message: string }[];
}

export function makeContext(): RecordingContext {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return {
    instance: "test",
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    stats: { add() {} },
    signal: new AbortController().signal,
    lines,
  };
}

/** What a host passes to `open()` when it never stops the collection. */
export const OPEN: OpenOptions = { signal: new AbortController().signal, stats: { add() {} } };

/** The interpreter Python vdirsyncer is installed for (a python3 earlier on PATH may lack it). */
export const PYTHON = "/usr/bin/python3";

/** Validates `raw` options like the CLI does and creates the storage. */
export async function makeStorage(raw: Record<string, unknown>, ctx: StorageContext = makeContext()) {
  const result = await filesystem.options["~standard"].validate(raw);
  if (result.issues) throw new Error(result.issues.map((i) => i.message).join("; "));
  return filesystem.create(result.value, ctx) as FilesystemStorage;
}

/** Opens `path` itself as the collection. */
export async function openDir(
  path: string,
  extra: Record<string, unknown> = {},
  ctx: StorageContext = makeContext(),
): Promise<VdirCollection> {
  const storage = await makeStorage({ path, fileext: ".ics", ...extra }, ctx);
  return storage.open(null, OPEN);
}

/** An event with the given UID (none when `uid` is undefined). */
export function event(uid: string | undefined, summary = "Meeting ät Café 中国"): Item {
  const uidLine = uid === undefined ? "" : `UID:${uid}\r\n`;
  return new Item(
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n${uidLine}` +
      `DTSTART:20240101T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
  );
}

/** Every path under `root` (files and folders), relative, sorted. */
export async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, prefix: string) => {
    for (const name of await readdir(dir)) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      out.push(rel);
      if ((await stat(join(dir, name))).isDirectory()) await visit(join(dir, name), rel);
    }
  };
  await visit(root, "");
  return out.sort();
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}
