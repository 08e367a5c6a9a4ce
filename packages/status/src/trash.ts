/**
 * The trash: every item version the engine overwrites or deletes is kept first, so no sync destroys data
 * beyond recovery.
 *
 * Layout: `<status_path>/.trash/<pair>/<collection or _>/<time>-<n>/` per `keep()` batch, holding for each
 * entry `<i>.ics` (or `.vcf`) with the raw item and `<i>.json` describing it. Pair and collection names are
 * percent-encoded; hrefs and idents are never used in paths, only stored in the JSON.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Side, Trash, TrashEntry } from "@vdirsyncer/core/engine";
import { STATUS_DIR_MODE, STATUS_FILE_MODE } from "./files.ts";

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

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` and its missing parents (0700), fsyncing each parent that gained an entry. */
async function makeDirs(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: STATUS_DIR_MODE });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await syncDir(dirname(d));
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
      await makeDirs(base);
      const time = new Date().toISOString();
      const tmp = join(base, `.tmp-${process.pid}-${sequence++}`);
      await mkdir(tmp, { mode: STATUS_DIR_MODE });
      try {
        for (const [i, e] of entries.entries()) {
          const file = `${i}${/^BEGIN:VCARD\b/im.test(e.raw) ? ".vcf" : ".ics"}`;
          await writeSynced(join(tmp, file), e.raw);
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
          await writeSynced(join(tmp, `${i}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
        }
        await syncDir(tmp);
        // Colons are legal on Linux but not on every filesystem a status directory may live on.
        const stamp = time.replace(/:/g, "-");
        for (let n = 0; ; n++) {
          try {
            await rename(tmp, join(base, `${stamp}-${n}`));
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
