/**
 * The `node_modules` folders storage plugins are looked up in: the config file's folder, npm's global folder,
 * and where the command itself is installed. Never the working directory.
 */
import { realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The kinds of places plugins are looked up in, in lookup order. */
export type PlaceKind = "config" | "global" | "command";

/** One `node_modules` folder plugins may live in. */
export interface Place {
  kind: PlaceKind;
  /** The `node_modules` folder. */
  dir: string;
}

/** The `node_modules` folders from `dir` up to the root, as Node walks them. */
function ancestorsModules(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (!d.endsWith(`${"/"}node_modules`)) out.push(join(d, "node_modules"));
    if (dirname(d) === d) return out;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The folder of this module, as Node resolves packages from it (its real path). */
function commandDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  try {
    return realpathSync(here);
  } catch {
    return here;
  }
}

/** npm's global `node_modules`: `$npm_config_prefix/lib/node_modules`, or the one next to this Node. */
export function globalModules(env: Record<string, string | undefined>): string {
  const prefix = env.npm_config_prefix ?? env.NPM_CONFIG_PREFIX ?? dirname(dirname(process.execPath));
  return process.platform === "win32" ? join(prefix, "node_modules") : join(prefix, "lib", "node_modules");
}

/** The places plugins are looked up in, in order. */
export function lookupPlaces(options: {
  configDir: string | undefined;
  env: Record<string, string | undefined>;
  commandDir?: string;
}): Place[] {
  const places: Place[] = [];
  const seen = new Set<string>();
  const add = (kind: PlaceKind, dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    places.push({ kind, dir });
  };
  if (options.configDir !== undefined) add("config", join(options.configDir, "node_modules"));
  add("global", globalModules(options.env));
  for (const dir of ancestorsModules(options.commandDir ?? commandDir())) if (isDir(dir)) add("command", dir);
  return places;
}
