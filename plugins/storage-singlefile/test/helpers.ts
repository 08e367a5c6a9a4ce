import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, OpenOptions, StorageContext } from "@vdirsyncer/core";
import { afterEach } from "vitest";
import singlefile, { type SingleFileCollection, type SingleFileStorage } from "../src/index.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vdirsyncer-singlefile-"));
  dirs.push(dir);
  return dir;
}

/** A logger that keeps its lines, so tests can assert on warnings. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}

/** A storage context for tests. */
export function context(log: Logger = recordingLogger()): StorageContext {
  return { instance: "test", log, stats: { add() {} }, signal: new AbortController().signal };
}

/** What a host passes to `open()` when it never stops the collection. */
export const OPEN: OpenOptions = { signal: new AbortController().signal, stats: { add() {} } };

/** Validates `options` through the storage's own schema and creates the storage, as the CLI does. */
export async function createStorage(options: Record<string, unknown>, log?: Logger) {
  const result = await singlefile.options["~standard"].validate(options);
  if (result.issues) throw new Error(result.issues.map((i) => i.message).join("; "));
  return (await singlefile.create(result.value, context(log))) as unknown as SingleFileStorage;
}

/** Opens the file at `path` as a collection (`collections = null`). */
export async function openFile(path: string, log?: Logger): Promise<SingleFileCollection> {
  const storage = await createStorage({ path }, log);
  return storage.open(null, OPEN);
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** Joins lines with CRLF and ends with one. */
export function crlf(...lines: string[]): string {
  return `${lines.join("\r\n")}\r\n`;
}

/** A VCALENDAR with one VEVENT. */
export function event(uid: string, summary: string): string {
  return crlf(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//test//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    `SUMMARY:${summary}`,
    "END:VEVENT",
    "END:VCALENDAR",
  );
}

/** A VCARD. */
export function card(uid: string, name: string): string {
  return crlf("BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${name}`, "END:VCARD");
}
