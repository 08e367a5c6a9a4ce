/**
 * The trash: every item version the engine overwrites or deletes is kept first, so no sync destroys data
 * beyond recovery; `vdirsyncer trash` lists, shows, restores and prunes it.
 *
 * Layout: `<status_path>/.trash/<pair>/<collection or _>/<time>-<n>/` per `keep()` batch, holding for each
 * entry `<i>.ics` (or `.vcf`) with the raw item and `<i>.json` describing it (the sidecar). Pair and collection
 * names are percent-encoded; hrefs and idents are never used in paths, only stored in the JSON. The journal of
 * runs lives next to the batches, in `runs/` (see journal.ts).
 *
 * An entry's id is the first 10 hex digits of the SHA-256 of its sidecar's path relative to `.trash`, without
 * `.json`: stable, short enough to type, and the same for sidecars of the first format.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Item } from "@vdirsyncer/core";
import type { Side, Trash, TrashEntry } from "@vdirsyncer/core/engine";
import { STATUS_DIR_MODE, STATUS_FILE_MODE } from "./files.ts";

/** The directory under `status_path` that holds the trash. */
export const TRASH_DIR = ".trash";
/** The sidecar format this version writes; it reads this one and 1. */
export const TRASH_FORMAT = 2;
/** The folder of a collection's trash that holds its journal, never a batch. */
export const RUNS_DIR = "runs";

/** What kept an entry: a sync, an undo or a restore (what they replaced), or something else (`null`: repair). */
export type TrashOrigin = "sync" | "undo" | "restore" | null;

/** The JSON sidecar next to each kept item. */
export interface TrashSidecar {
  /** {@link TRASH_FORMAT}, or 1 for sidecars written before ids and runs; others are skipped when listing. */
  format: number;
  pair: string;
  collection: string | null;
  storage: string;
  side: Side;
  ident: string;
  href: string;
  etag: string | null;
  reason: "update" | "delete";
  /** When the item was kept, ISO 8601. */
  time: string;
  /** The item file's name in the same directory. */
  file: string;
  /** The run (journal) that kept it; `null` when kept outside a run (format 1, repair). */
  run?: string | null;
  origin?: TrashOrigin;
  /** The item's SUMMARY (events, todos) or FN (contacts), control characters removed. */
  name?: string | null;
  uid?: string | null;
  /** The item's content hash, as the status stores it. */
  hash?: string;
}

/** One entry found by {@link listTrash}. */
export interface TrashListing extends TrashSidecar {
  /** What `vdirsyncer trash show|restore` takes. */
  id: string;
  run: string | null;
  origin: TrashOrigin;
  name: string | null;
  uid: string | null;
  /** The item file: read it to restore the item. */
  itemPath: string;
  /** The sidecar file. */
  sidecarPath: string;
  /** Bytes on disk (item and sidecar, whole blocks; the length for a sparse file). */
  size: number;
}

/** Options of {@link createDiskTrash}. */
export interface DiskTrashOptions {
  /** The run keeping the entries, written into each sidecar. */
  run?: string;
  origin?: TrashOrigin;
  /** Called with each batch once it is durable (the journal links entries to actions with it). */
  onKept?: (kept: readonly TrashListing[]) => void;
  /** The clock, for tests. */
  now?: () => Date;
}

const NAME_LIMIT = 200;

/** The first value of `key` in the lines of one component (no nesting), unfolded and unescaped. */
function displayValue(value: string): string {
  const unescaped = value.replace(/\\([\\,;nN])/g, (_, c: string) => (c === "n" || c === "N" ? " " : c));
  // Control characters (C0, DEL, C1) and line/paragraph separators would break a one-line listing.
  const clean = unescaped
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
  return clean.length > NAME_LIMIT ? `${clean.slice(0, NAME_LIMIT - 1)}…` : clean;
}

/**
 * The name a person knows an item by: the SUMMARY of its first VEVENT, VTODO or VJOURNAL, or the FN of a VCARD;
 * unfolded, unescaped, control characters removed, at most 200 characters. `null` when there is none.
 */
export function itemName(raw: string): string | null {
  const lines: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && lines.length > 0) {
      lines[lines.length - 1] += line.slice(1);
    } else lines.push(line);
  }
  const stack: string[] = [];
  for (const line of lines) {
    const m = /^(BEGIN|END):(.*)$/i.exec(line);
    if (m) {
      if ((m[1] as string).toUpperCase() === "BEGIN") stack.push((m[2] as string).trim().toUpperCase());
      else stack.pop();
      continue;
    }
    const here = stack[stack.length - 1];
    const key =
      here === "VCARD" ? "FN" : here === "VEVENT" || here === "VTODO" || here === "VJOURNAL" ? "SUMMARY" : "";
    if (key === "") continue;
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).split(";")[0]?.toUpperCase();
    if (name !== key) continue;
    const value = displayValue(line.slice(colon + 1));
    return value === "" ? null : value;
  }
  return null;
}

/** The UID shown next to a name: control characters removed. */
function displayUid(uid: string | undefined): string | null {
  return uid === undefined ? null : displayValue(uid) || null;
}

/**
 * A pair or collection name as one path segment: UTF-8 percent-encoding of everything but `[A-Za-z0-9.-]`,
 * and of a leading dot, so no name can climb out (`..`), nest (`/`) or hide; `_` stands for `null`.
 */
export function trashSegment(name: string | null): string {
  if (name === null) return "_";
  if (name === "") return "%";
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9.-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out.startsWith(".") ? `%2E${out.slice(1)}` : out;
}

/** The folder of one collection's trash and journal. */
export function collectionTrashDir(statusPath: string, pair: string, collection: string | null): string {
  return join(statusPath, TRASH_DIR, trashSegment(pair), trashSegment(collection));
}

/** The id of the entry whose sidecar is `<pairSeg>/<collSeg>/<batch>/<stem>.json`. */
function entryId(pairSeg: string, collSeg: string, batch: string, stem: string): string {
  return createHash("sha256").update(`${pairSeg}/${collSeg}/${batch}/${stem}`).digest("hex").slice(0, 10);
}

// Asynchronous on purpose: the CLI syncs collections concurrently, and fsync must not stall the others.

async function writeSynced(path: string, content: string): Promise<void> {
  const fh = await open(path, "wx", STATUS_FILE_MODE);
  try {
    await fh.writeFile(content, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory, so that the entries it gained survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` and its missing parents (0700), fsyncing each parent that gained an entry. */
export async function makeDirs(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: STATUS_DIR_MODE });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

let sequence = 0;

/** A batch being written: `.tmp-<pid>-<n>`, as `keep()` names it. */
const TEMP_BATCH = /^\.tmp-(\d+)-\d+$/;
/** What `keep()` writes into a batch. */
const BATCH_FILE = /^\d+\.(ics|vcf|json)$/;
/** The kernel's clock ticks per second in `/proc` (USER_HZ: 100 on every Linux architecture we run on). */
const USER_HZ = 100;
/** Slack when comparing a process's start with a folder's time (boot time is counted in whole seconds). */
const START_SLACK_MS = 2_000;

/** When process `pid` of this host started (ms since the epoch), from `/proc`; undefined off Linux or when gone. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ")".
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks / USER_HZ) * 1000;
  } catch {
    return undefined;
  }
}

/**
 * True when the process that created a temporary batch folder (named after its pid, last changed at
 * `changedMs`, its mtime: its creator started before that) is certainly gone: no process of this host has that pid, or the one that has it started after
 * the folder was last written (the pid was reused).
 */
function creatorIsGone(pid: number, changedMs: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  const started = processStartMs(pid);
  return started !== undefined && started > changedMs + START_SLACK_MS;
}

/**
 * Removes the temporary batch folders (`.tmp-<pid>-<n>`) that a killed `keep()` left in `base`, when they are
 * provably ours and dead: the name is ours, they hold nothing but item files and sidecars, and their creator is
 * gone (see {@link creatorIsGone}). A batch that never got renamed into place was never relied on (the engine
 * overwrites or deletes an item only once its batch is durable), so nothing is lost. Anything else is left
 * alone; failures are ignored (the next write tries again). Returns the folders removed.
 */
export function removeDeadTempBatches(base: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_BATCH.exec(name);
    if (!m) continue;
    const dir = join(base, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) continue;
      const inside = readdirSync(dir, { withFileTypes: true });
      if (!inside.every((d) => d.isFile() && BATCH_FILE.test(d.name))) continue;
      if (!creatorIsGone(Number(m[1]), st.mtimeMs)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone meanwhile, or not ours to read: leave it.
    }
  }
  return removed;
}

/** The trash folders this process has already cleared of dead temporary batches. */
const cleared = new Set<string>();

/**
 * The trash of one (pair, collection) under `<statusPath>/.trash/`.
 *
 * `keep(entries)` writes the batch to a hidden temporary directory, fsyncs each file and the directory, then
 * renames it into place and fsyncs the parent once: a batch is there entirely or not at all, and durable when
 * the promise resolves. The first `keep()` of a process in a collection's trash also removes the temporary
 * folders that killed runs left there ({@link removeDeadTempBatches}).
 */
export function createDiskTrash(
  statusPath: string,
  pair: string,
  collection: string | null,
  options: DiskTrashOptions = {},
): Trash {
  const pairSeg = trashSegment(pair);
  const collSeg = trashSegment(collection);
  const base = join(statusPath, TRASH_DIR, pairSeg, collSeg);
  return {
    async keep(entries: readonly TrashEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await makeDirs(base);
      if (!cleared.has(base)) {
        cleared.add(base);
        removeDeadTempBatches(base);
      }
      const time = (options.now?.() ?? new Date()).toISOString();
      const tmp = join(base, `.tmp-${process.pid}-${sequence++}`);
      await mkdir(tmp, { mode: STATUS_DIR_MODE });
      const sidecars: TrashSidecar[] = [];
      let batch: string;
      try {
        for (const [i, e] of entries.entries()) {
          const file = `${i}${/^BEGIN:VCARD\b/im.test(e.raw) ? ".vcf" : ".ics"}`;
          await writeSynced(join(tmp, file), e.raw);
          const item = new Item(e.raw);
          const sidecar: TrashSidecar = {
            format: TRASH_FORMAT,
            pair,
            collection,
            storage: e.storage,
            side: e.side,
            ident: e.ident,
            href: e.href,
            etag: e.etag,
            reason: e.reason,
            time,
            file,
            run: options.run ?? null,
            origin: options.origin ?? null,
            name: itemName(e.raw),
            uid: displayUid(item.uid),
            hash: item.hash,
          };
          sidecars.push(sidecar);
          await writeSynced(join(tmp, `${i}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
        }
        await syncDir(tmp);
        // Colons are legal on Linux but not on every filesystem a status directory may live on.
        const stamp = time.replace(/:/g, "-");
        for (let n = 0; ; n++) {
          try {
            batch = `${stamp}-${n}`;
            await rename(tmp, join(base, batch));
            break;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
          }
        }
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
      await syncDir(base);
      if (options.onKept) {
        const dir = join(base, batch);
        options.onKept(sidecars.map((s, i) => listing(s, pairSeg, collSeg, batch, String(i), dir)));
      }
    },
  };
}

function listing(
  s: TrashSidecar,
  pairSeg: string,
  collSeg: string,
  batch: string,
  stem: string,
  dir: string,
): TrashListing {
  const sidecarPath = join(dir, `${stem}.json`);
  const itemPath = join(dir, s.file);
  let bytes = 0;
  for (const p of [itemPath, sidecarPath]) {
    try {
      // What the file costs: its blocks (a small file takes a whole one), or its length when that is more.
      const st = statSync(p);
      bytes += Math.max(st.size, st.blocks * 512);
    } catch {
      // Counted as nothing: it is gone.
    }
  }
  return {
    ...s,
    id: entryId(pairSeg, collSeg, batch, stem),
    run: s.run ?? null,
    origin: s.origin ?? null,
    name: s.name ?? null,
    uid: s.uid ?? null,
    itemPath,
    sidecarPath,
    size: bytes,
  };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Options of {@link listTrash}. */
export interface ListTrashOptions {
  /** Only this pair. */
  pair?: string;
  /** Only this collection of the pair (`null`: the pair's only one); all when absent. */
  collection?: string | null;
}

/**
 * Every entry in `<statusPath>/.trash/`, oldest first. Unfinished batches (a crash mid-`keep`) and files that
 * are not sidecars of a known format are skipped. Sidecars of format 1 get their name and UID from the item.
 */
export function listTrash(statusPath: string, options: ListTrashOptions = {}): TrashListing[] {
  const root = join(statusPath, TRASH_DIR);
  const out: TrashListing[] = [];
  const pairs = options.pair === undefined ? listDir(root) : [trashSegment(options.pair)];
  for (const p of pairs) {
    const colls =
      options.collection === undefined ? listDir(join(root, p)) : [trashSegment(options.collection)];
    for (const c of colls) {
      for (const batch of listDir(join(root, p, c))) {
        if (batch.startsWith(".") || batch === RUNS_DIR) continue;
        const dir = join(root, p, c, batch);
        for (const f of listDir(dir)) {
          if (!f.endsWith(".json")) continue;
          const sidecarPath = join(dir, f);
          let s: TrashSidecar;
          try {
            s = JSON.parse(readFileSync(sidecarPath, "utf8")) as TrashSidecar;
          } catch {
            continue;
          }
          if (typeof s !== "object" || s === null) continue;
          if (
            (s.format !== 1 && s.format !== TRASH_FORMAT) ||
            typeof s.file !== "string" ||
            s.file.includes("/")
          )
            continue;
          if (s.format === 1) {
            try {
              const raw = readFileSync(join(dir, s.file), "utf8");
              s = { ...s, name: itemName(raw), uid: displayUid(new Item(raw).uid) };
            } catch {
              continue;
            }
          }
          out.push(listing(s, p, c, batch, f.slice(0, -".json".length), dir));
        }
      }
    }
  }
  const byPath = new Intl.Collator("en", { numeric: true });
  return out.sort((x, y) =>
    x.time < y.time ? -1 : x.time > y.time ? 1 : byPath.compare(x.sidecarPath, y.sidecarPath),
  );
}

/**
 * The entries whose id starts with `id` (at least 4 characters; a full id matches exactly one entry unless two
 * paths share 40 bits of their hash).
 */
export function findTrashEntries(statusPath: string, id: string): TrashListing[] {
  const want = id.trim().toLowerCase();
  if (want.length < 4) return [];
  return listTrash(statusPath).filter((e) => e.id.startsWith(want));
}

/** The kept item's text. */
export function readTrashItem(entry: TrashListing): string {
  return readFileSync(entry.itemPath, "utf8");
}

/**
 * Deletes entries: the sidecar first (an item file without one is never listed), then the item, then the batch
 * folder once it is empty. An entry already gone is not an error.
 */
export function removeTrashEntries(entries: readonly TrashListing[]): void {
  const dirs = new Set<string>();
  for (const e of entries) {
    for (const p of [e.sidecarPath, e.itemPath]) {
      try {
        unlinkSync(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    dirs.add(dirname(e.sidecarPath));
  }
  for (const d of dirs) {
    if (listDir(d).length > 0) continue;
    try {
      rmdirSync(d);
    } catch {
      // Another process put something there, or it is gone already.
    }
  }
}

/** What to prune; every entry for which `protect` says true stays. */
export interface PruneOptions {
  /** Entries kept longer ago than this go. */
  olderThanMs?: number;
  /** Then the oldest entries go until the trash holds at most this many bytes. */
  maxBytes?: number;
  /** Entries that must stay whatever their age and size (the last run's). */
  protect?: (entry: TrashListing) => boolean;
  /** The clock, for tests. */
  now?: number;
}

/** What {@link pruneTrash} did. */
export interface PruneResult {
  removed: TrashListing[];
  removedBytes: number;
  kept: number;
  keptBytes: number;
}

/** Deletes entries by age, then the oldest ones by size; protected entries always stay. */
export function pruneTrash(statusPath: string, options: PruneOptions): PruneResult {
  const all = listTrash(statusPath);
  const now = options.now ?? Date.now();
  const protect = options.protect ?? (() => false);
  const gone = new Set<TrashListing>();
  if (options.olderThanMs !== undefined) {
    const limit = now - options.olderThanMs;
    for (const e of all) if (Date.parse(e.time) < limit && !protect(e)) gone.add(e);
  }
  let total = all.reduce((n, e) => n + (gone.has(e) ? 0 : e.size), 0);
  if (options.maxBytes !== undefined) {
    for (const e of all) {
      if (total <= options.maxBytes) break;
      if (gone.has(e) || protect(e)) continue;
      gone.add(e);
      total -= e.size;
    }
  }
  const removed = all.filter((e) => gone.has(e));
  removeTrashEntries(removed);
  return {
    removed,
    removedBytes: removed.reduce((n, e) => n + e.size, 0),
    kept: all.length - removed.length,
    keptBytes: total,
  };
}
