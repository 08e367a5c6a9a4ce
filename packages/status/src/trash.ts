/**
 * The trash: every item version the engine overwrites or deletes is kept first, so no sync destroys data
 * beyond recovery.
 *
 * Layout: `<status_path>/.trash/<pair>/<collection or _>/<time>-<n>/` per `keep()` batch, holding for each
 * entry `<i>.ics` (or `.vcf`) with the raw item and `<i>.json` describing it. Pair and collection names are
 * percent-encoded; hrefs and idents are never used in paths, only stored in the JSON.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Side, Trash, TrashEntry } from "@vdirsyncer/core";
import { fsyncDir, STATUS_DIR_MODE, STATUS_FILE_MODE } from "./files.ts";

/** The directory under `status_path` that holds the trash. */
export const TRASH_DIR = ".trash";
/** The format version written into each sidecar. */
export const TRASH_FORMAT = 1;

/** The JSON sidecar next to each kept item. */
export interface TrashSidecar {
  /** Always {@link TRASH_FORMAT}; a reader MUST refuse other values it does not know. */
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
}

/** One entry found by {@link listTrash}. */
export interface TrashListing extends TrashSidecar {
  /** The item file: read it to restore the item. */
  itemPath: string;
  /** The sidecar file. */
  sidecarPath: string;
}

/**
 * A pair or collection name as one path segment: UTF-8 percent-encoding of everything but `[A-Za-z0-9.-]`,
 * and of a leading dot, so no name can climb out (`..`), nest (`/`) or hide; `_` stands for `null`.
 */
function segment(name: string | null): string {
  if (name === null) return "_";
  if (name === "") return "%";
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9.-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out.startsWith(".") ? `%2E${out.slice(1)}` : out;
}

function writeSynced(path: string, content: string): void {
  const fd = openSync(path, "wx", STATUS_FILE_MODE);
  try {
    writeSync(fd, Buffer.from(content, "utf8"));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `dir` and its missing parents (0700), fsyncing each parent that gained an entry. */
function makeDirs(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: STATUS_DIR_MODE });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

let sequence = 0;

/**
 * The trash of one (pair, collection) under `<statusPath>/.trash/`.
 *
 * `keep(entries)` writes the batch to a hidden temporary directory, fsyncs each file and the directory, then
 * renames it into place and fsyncs the parent once: a batch is there entirely or not at all, and durable when
 * the promise resolves.
 */
export function createDiskTrash(statusPath: string, pair: string, collection: string | null): Trash {
  const base = join(statusPath, TRASH_DIR, segment(pair), segment(collection));
  return {
    async keep(entries: readonly TrashEntry[]): Promise<void> {
      if (entries.length === 0) return;
      makeDirs(base);
      const now = new Date();
      const time = now.toISOString();
      const tmp = join(base, `.tmp-${process.pid}-${sequence++}`);
      mkdirSync(tmp, { mode: STATUS_DIR_MODE });
      try {
        entries.forEach((e, i) => {
          const file = `${i}${/^BEGIN:VCARD\b/im.test(e.raw) ? ".vcf" : ".ics"}`;
          writeSynced(join(tmp, file), e.raw);
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
          };
          writeSynced(join(tmp, `${i}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
        });
        fsyncDir(tmp);
        // Colons are legal on Linux but not on every filesystem a status directory may live on.
        const stamp = time.replace(/:/g, "-");
        for (let n = 0; ; n++) {
          try {
            renameSync(tmp, join(base, `${stamp}-${n}`));
            break;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
          }
        }
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        throw err;
      }
      fsyncDir(base);
    },
  };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Every entry in `<statusPath>/.trash/`, oldest first. Unfinished batches (a crash mid-`keep`) and files that
 * are not sidecars of a known format are skipped.
 */
export function listTrash(statusPath: string): TrashListing[] {
  const root = join(statusPath, TRASH_DIR);
  const out: TrashListing[] = [];
  for (const p of listDir(root)) {
    for (const c of listDir(join(root, p))) {
      for (const batch of listDir(join(root, p, c))) {
        if (batch.startsWith(".")) continue;
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
          if (s.format !== TRASH_FORMAT || typeof s.file !== "string" || s.file.includes("/")) continue;
          out.push({ ...s, itemPath: join(dir, s.file), sidecarPath });
        }
      }
    }
  }
  const byPath = new Intl.Collator("en", { numeric: true });
  return out.sort((x, y) =>
    x.time < y.time ? -1 : x.time > y.time ? 1 : byPath.compare(x.sidecarPath, y.sidecarPath),
  );
}
