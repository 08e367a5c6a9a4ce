/**
 * Temporary files that name their writer, so that a later run can remove the ones an interrupted run left behind.
 *
 * A temporary file is `.<name>.vdts-<host>-<pid>-<start>-<random>.tmp`: `<host>` is a short hash of the host name,
 * `<pid>` the writing process and `<start>` that process's start time (Linux: clock ticks since boot, from
 * `/proc/<pid>/stat`; `0` where unknown). A leftover is removed only when it provably belongs to a run that is over:
 * written on this host by a pid that no longer exists, or whose pid now belongs to a process started at another
 * time. Files of another host, of a live run, or of any other program are never touched.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

/** Who writes temporary files from this process. */
export interface Writer {
  host: string;
  pid: number;
  start: string;
}

/** The start time of `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`); undefined off Linux or dead. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ")".
    const field = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return field !== undefined && /^\d+$/.test(field) ? field : undefined;
  } catch {
    return undefined;
  }
}

/** Eight hex digits for a host name: enough to tell hosts apart, and no dots or dashes in a file name. */
export function hostTag(name: string): string {
  return createHash("sha256").update(name).digest("hex").slice(0, 8);
}

let self: Writer | undefined;

/** This process as a writer; computed once. */
export function thisWriter(): Writer {
  self ??= { host: hostTag(hostname()), pid: process.pid, start: processStart(process.pid) ?? "0" };
  return self;
}

const TEMP = /\.vdts-([0-9a-f]{8})-(\d+)-(\d+)-[0-9a-f]{12}\.tmp$/;

/**
 * The name of a temporary file for `target`: hidden, ending in `.tmp`, naming this process, and short enough to be
 * creatable whenever the target itself is (the target's name is cut to 32 characters).
 */
export function tempNameFor(target: string, writer: Writer = thisWriter()): string {
  const prefix = Array.from(target).slice(0, 32).join("");
  return `.${prefix}.vdts-${writer.host}-${writer.pid}-${writer.start}-${randomBytes(6).toString("hex")}.tmp`;
}

/** The writer a temporary file name records, or undefined when the name is not one of ours. */
export function writerOf(name: string): Writer | undefined {
  if (!name.startsWith(".")) return undefined;
  const m = TEMP.exec(name);
  if (m === null) return undefined;
  return { host: m[1] as string, pid: Number(m[2]), start: m[3] as string };
}

/** True when `name` is a temporary file this storage writes (whoever's). */
export function isTempName(name: string): boolean {
  return writerOf(name) !== undefined;
}

/**
 * True when the run that wrote a file is certainly over: same host, and its pid is gone or belongs to a process
 * started at another time. A writer that is this very process is alive.
 */
export function isOver(writer: Writer, me: Writer = thisWriter()): boolean {
  if (writer.host !== me.host) return false;
  if (writer.pid === me.pid) return writer.start !== me.start && writer.start !== "0" && me.start !== "0";
  try {
    process.kill(writer.pid, 0);
  } catch (err) {
    // ESRCH: no such process. EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  const now = processStart(writer.pid);
  return writer.start !== "0" && now !== undefined && now !== writer.start;
}

/**
 * Removes the temporary files among `names` (entries of `dir`) that an interrupted run of ours left.
 * @returns the names removed
 */
export async function removeLeftovers(dir: string, names: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const writer = writerOf(name);
    if (writer === undefined || !isOver(writer)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already (another run cleaned it), or not ours to remove after all: leave it.
    }
  }
  return removed;
}
