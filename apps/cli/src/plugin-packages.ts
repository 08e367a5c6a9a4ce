/**
 * Reading installed packages without importing them: what a package.json says about a storage plugin, the
 * plugins installed in one place, and, once imported, the storage definitions a plugin module exports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StorageDefinition } from "@vdirsyncer/core";
import type { Place } from "./plugin-places.ts";

/** What a package's package.json says about it. */
export interface PluginPackage {
  name: string;
  version: string | undefined;
  bugs: string | undefined;
  /** The package folder. */
  dir: string;
  place: Place;
  /** The `vdirsyncer` manifest field, when present. */
  apiVersion: number | undefined;
  storages: readonly string[] | undefined;
  /** True when the package says it is a storage plugin (manifest or keyword). */
  isPlugin: boolean;
}

interface RawManifest {
  name?: unknown;
  version?: unknown;
  bugs?: unknown;
  keywords?: unknown;
  exports?: unknown;
  main?: unknown;
  vdirsyncer?: { apiVersion?: unknown; storages?: unknown };
}

function readJson(path: string): RawManifest | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return value !== null && typeof value === "object" ? (value as RawManifest) : undefined;
  } catch {
    return undefined;
  }
}

function describePackage(dir: string, place: Place, m: RawManifest): PluginPackage {
  const bugs =
    typeof m.bugs === "string"
      ? m.bugs
      : m.bugs !== null && typeof m.bugs === "object" && typeof (m.bugs as { url?: unknown }).url === "string"
        ? (m.bugs as { url: string }).url
        : undefined;
  const field = m.vdirsyncer !== null && typeof m.vdirsyncer === "object" ? m.vdirsyncer : undefined;
  const storages = Array.isArray(field?.storages)
    ? field.storages.filter((s): s is string => typeof s === "string")
    : undefined;
  const keywords = Array.isArray(m.keywords) ? m.keywords : [];
  return {
    name: typeof m.name === "string" ? m.name : dir,
    version: typeof m.version === "string" ? m.version : undefined,
    bugs,
    dir,
    place,
    apiVersion: typeof field?.apiVersion === "number" ? field.apiVersion : undefined,
    storages,
    isPlugin: field !== undefined || keywords.includes("vdirsyncer-storage"),
  };
}

/** The package `name` in `place`, if installed there. */
export function packageIn(place: Place, name: string): PluginPackage | undefined {
  const dir = join(place.dir, name);
  const manifest = readJson(join(dir, "package.json"));
  return manifest === undefined ? undefined : describePackage(dir, place, manifest);
}

/** Every package in `place` that says it is a storage plugin, in name order. */
export function pluginsIn(place: Place): PluginPackage[] {
  const out: PluginPackage[] = [];
  const names: string[] = [];
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  };
  for (const entry of list(place.dir)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) for (const sub of list(join(place.dir, entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  for (const name of names) {
    const found = packageIn(place, name);
    if (found?.isPlugin) out.push(found);
  }
  return out;
}

/** Picks the ESM entry of a package's `exports` for Node's `import` (conditions `node`, `import`, `default`). */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "node" || key === "import" || key === "default") {
        const t = exportTarget(v);
        if (t !== undefined) return t;
      }
    }
  }
  return undefined;
}

export function entryOf(dir: string): string {
  const manifest = readJson(join(dir, "package.json")) ?? {};
  let target: string | undefined;
  if (manifest.exports !== undefined) {
    const exp = manifest.exports;
    const root =
      typeof exp === "object" && exp !== null && !Array.isArray(exp) && "." in exp
        ? (exp as Record<string, unknown>)["."]
        : exp;
    target = exportTarget(root);
  }
  target ??= typeof manifest.main === "string" ? manifest.main : "index.js";
  return join(dir, target);
}

function isDefinition(value: unknown): value is StorageDefinition {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as StorageDefinition).type === "string" &&
    typeof (value as StorageDefinition).create === "function"
  );
}

/** Every storage definition a plugin module exports: its default (one or an array) and its named exports. */
export function definitionsOf(mod: Record<string, unknown>): StorageDefinition[] {
  const found: StorageDefinition[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (isDefinition(v) && !found.includes(v)) found.push(v);
  };
  add(mod.default);
  for (const [k, v] of Object.entries(mod)) if (k !== "default") add(v);
  return found;
}
