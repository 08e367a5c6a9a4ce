/**
 * Shared pieces of the interop tests: the config both tools read, the real vdirsyncer as a child process, item
 * texts, and readers that look at vdirs and statuses the way a user would.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { Item } from "@vdirsyncer/core";
import type { StatusRow } from "@vdirsyncer/core/engine";
import { etagOf } from "@vdirsyncer/storage-filesystem";
import { writeDiscoveryCache } from "../../src/discovery-cache.ts";
import { openCollectionStatus } from "../../src/open-status.ts";
import { type InteropConfig, pairCacheKey, renderConfig } from "./pair.ts";

export const VDIRSYNCER = "/usr/bin/vdirsyncer";

/**
 * The config of the committed fixture (make-vdirsyncer-fixture.sh): a calendar pair of vdir folders with
 * `collections = ["from a", "from b"]` and a contacts pair whose paths are the collections (`null`).
 */
export function vdirConfig(
  extra: Partial<Record<"cal_a" | "cal_b", Record<string, unknown>>> = {},
): InteropConfig {
  return {
    general: { status_path: "status/" },
    pairs: {
      cal: { a: "cal_a", b: "cal_b", collections: ["from a", "from b"] },
      contacts: { a: "contacts_a", b: "contacts_b", collections: null },
    },
    storages: {
      cal_a: { type: "filesystem", path: "a/", fileext: ".ics", ...extra.cal_a },
      cal_b: { type: "filesystem", path: "b/", fileext: ".ics", ...extra.cal_b },
      contacts_a: { type: "filesystem", path: "contacts_a/", fileext: ".vcf" },
      contacts_b: { type: "filesystem", path: "contacts_b/", fileext: ".vcf" },
    },
  };
}

/** Writes `<root>/config` for the real vdirsyncer. */
export function writeConfig(root: string, config: InteropConfig): void {
  writeFileSync(join(root, "config"), renderConfig(config));
}

/**
 * Writes the pair's discovery cache as `vdirsyncer discover` would for folders that already exist on both sides:
 * each collection's delta is `{collection, path}` (the section's path joined with the name, unexpanded), or
 * `{collection: null}` for a pair whose paths are the collections.
 */
export function writePairCache(
  root: string,
  config: InteropConfig,
  pair: string,
  names: (string | null)[],
): void {
  const p = config.pairs[pair];
  if (!p) throw new Error(`no pair ${pair}`);
  const delta = (storage: string, name: string | null) => {
    const section = config.storages[storage];
    if (!section) throw new Error(`no storage ${storage}`);
    return name === null
      ? { collection: null }
      : { collection: name, path: posix.join(String(section.path), name) };
  };
  writeDiscoveryCache(join(root, String(config.general.status_path)), pair, {
    collections: names.map((n) => [n, [delta(p.a, n), delta(p.b, n)]]),
    cache_key: pairCacheKey(config, pair),
  });
}

/** What a vdirsyncer run printed (stdout and stderr together, as a user sees them) and its exit status. */
export interface VdirsyncerRun {
  status: number | null;
  output: string;
}

/**
 * Runs the real vdirsyncer 0.19 in `root` with `<root>/config`.
 * @throws when the binary is missing: these tests exist to compare with it, so they MUST NOT pass without it
 */
export function vdirsyncer(root: string, args: string[], input?: string): VdirsyncerRun {
  if (!existsSync(VDIRSYNCER))
    throw new Error(
      `${VDIRSYNCER} is missing: install vdirsyncer 0.19 (the CI installs it) to run the interop tests.`,
    );
  const result = spawnSync(VDIRSYNCER, args, {
    cwd: root,
    input: input ?? "",
    encoding: "utf8",
    // Click refuses to start under an ASCII locale; the vdirs hold non-ASCII names.
    env: { ...process.env, VDIRSYNCER_CONFIG: join(root, "config"), LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Runs `vdirsyncer sync` and throws with its output unless it exits 0. */
export function vdirsyncerSync(root: string, ...pairs: string[]): string {
  const run = vdirsyncer(root, ["sync", ...pairs]);
  if (run.status !== 0) throw new Error(`vdirsyncer sync exited ${run.status}:\n${run.output}`);
  return run.output;
}

/** Lines of vdirsyncer output that mean an item was written or removed. */
export function transferLines(output: string): string[] {
  return output.split("\n").filter((l) => /Copying|Deleting/.test(l));
}

const crlf = (...lines: string[]) => lines.map((l) => `${l}\r\n`).join("");

/** An iCalendar event; `uid` undefined leaves the UID line out. */
export function event(uid: string | undefined, summary: string): string {
  return crlf(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//interop//EN",
    "BEGIN:VEVENT",
    ...(uid === undefined ? [] : [`UID:${uid}`]),
    "DTSTAMP:20240101T000000Z",
    "DTSTART:20240102T100000Z",
    `SUMMARY:${summary}`,
    "END:VEVENT",
    "END:VCALENDAR",
  );
}

/** A vCard 3.0. */
export function card(uid: string, name: string): string {
  return crlf("BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, "END:VCARD");
}

/** Writes files into `dir` (created), names to texts or bytes. */
export function putFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

/** The item files of a vdir (names ending in `ext`, as the storage lists them), file name to text. */
export function readVdir(dir: string, ext = ".ics"): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith(ext)) out.set(name, readFileSync(join(dir, name), "utf8"));
  }
  return out;
}

/** A vdir's items by ident; throws when two files share one, since then something was synced twice. */
export function itemsByIdent(dir: string, ext = ".ics"): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, text] of readVdir(dir, ext)) {
    const ident = new Item(text).ident;
    if (out.has(ident)) throw new Error(`${dir} holds ident ${ident} twice (again in ${name})`);
    out.set(ident, text);
  }
  return out;
}

/** The status rows of one collection, sorted by ident. */
export function statusRows(root: string, pair: string, collection: string | null): StatusRow[] {
  const s = openCollectionStatus(join(root, "status"), pair, collection);
  try {
    return [...s.rows()].sort((x, y) => (x.ident < y.ident ? -1 : x.ident > y.ident ? 1 : 0));
  } finally {
    s.close();
  }
}

/** Rows without etags: what must survive copying a vdir, which changes every file's inode. */
export function withoutEtags(rows: StatusRow[]): unknown[] {
  return rows.map((r) => ({
    ident: r.ident,
    a: { ...r.a, etag: undefined },
    b: { ...r.b, etag: undefined },
  }));
}

/**
 * Checks that every row points at an existing file of both vdirs, with that file's hash and current etag, and
 * that every item file has a row. Returns the problems found, so a failure lists them all.
 */
export function statusProblems(rows: StatusRow[], dirs: { a: string; b: string }, ext = ".ics"): string[] {
  const problems: string[] = [];
  for (const side of ["a", "b"] as const) {
    const files = new Set(readVdir(dirs[side], ext).keys());
    for (const row of rows) {
      const href = row[side].href;
      if (href === null || !files.delete(href)) {
        problems.push(`${row.ident}: no file ${String(href)} on ${side}`);
        continue;
      }
      const path = join(dirs[side], href);
      if (new Item(readFileSync(path, "utf8")).hash !== row[side].hash)
        problems.push(`${row.ident}: hash of ${path}`);
      if (etagOf(statSync(path, { bigint: true })) !== row[side].etag)
        problems.push(`${row.ident}: etag of ${path}`);
    }
    for (const name of files) problems.push(`${dirs[side]}/${name} has no status row`);
  }
  return problems;
}

/** Every file below `root`, as paths relative to it. */
export function walk(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(root, path));
    else out.push(path);
  }
  return out;
}
