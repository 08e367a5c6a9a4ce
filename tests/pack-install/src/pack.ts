/**
 * Packs the workspace's packages the way they are published: `pnpm pack`, which rewrites `workspace:` ranges and
 * applies `publishConfig` (so the packed `exports` lack the workspace-only `source` condition).
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../../..");

/** The folders holding publishable workspace packages. */
const PUBLIC_PARENTS = ["packages", "plugins", "apps"];

export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: Record<string, unknown>;
}

function readManifest(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
}

/** Every package under packages/, plugins/ and apps/ that is not `private`. */
export function publicPackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const parent of PUBLIC_PARENTS) {
    for (const entry of readdirSync(join(ROOT, parent), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(ROOT, parent, entry.name);
      let manifest: Record<string, unknown>;
      try {
        manifest = readManifest(dir);
      } catch {
        continue;
      }
      if (manifest.private === true) continue;
      found.push({ name: String(manifest.name), dir, manifest });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The example third-party plugin, packed like a package of its own (`vdirsyncer-storage-json`). */
export const JSON_PLUGIN_DIR = join(ROOT, "examples", "storage-json");

/** Runs `pnpm pack` in `dir` into `dest`; returns the tarball's path. */
export async function pack(dir: string, dest: string): Promise<string> {
  const { stdout } = await run("pnpm", ["pack", "--json", "--pack-destination", dest], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout) as { filename: string };
  return result.filename.startsWith("/") ? result.filename : join(dest, result.filename);
}

/** Packs the given folders two at a time (the machine has two cores); returns the tarball paths by folder. */
export async function packAll(dirs: readonly string[], dest: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const queue = [...dirs];
  const worker = async () => {
    for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) out.set(dir, await pack(dir, dest));
  };
  await Promise.all([worker(), worker()]);
  return out;
}
