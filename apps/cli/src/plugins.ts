/**
 * Plugin resolution (design/architecture.md): a config `type` names a storage plugin package.
 *
 * - First-party types (`filesystem`, `caldav`, …) map to `@vdirsyncer/storage-*`; a `/suffix` such as
 *   `filesystem/icalendar` is stripped (vdirsyncer 0.19.2's changelog promises it; only its `repair` did it).
 * - Any other `type = "x"` is looked for as `@vdirsyncer/storage-x`, then `vdirsyncer-storage-x`.
 * - A type that is a package name (`@scope/name`, `vdirsyncer-storage-…`) is imported as such.
 *
 * Packages are looked up from the config file's folder, then the working directory, then the command's own
 * install, so a plugin can live next to the config (`npm install vdirsyncer-storage-x` there) or globally.
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { API_VERSION, type StorageDefinition, UserError } from "@vdirsyncer/core";

/** Where the first-party storage types live; the command depends on all of these packages. */
const FIRST_PARTY: Record<string, { pkg: string }> = {
  filesystem: { pkg: "@vdirsyncer/storage-filesystem" },
  singlefile: { pkg: "@vdirsyncer/storage-singlefile" },
  caldav: { pkg: "@vdirsyncer/storage-caldav" },
  carddav: { pkg: "@vdirsyncer/storage-carddav" },
  http: { pkg: "@vdirsyncer/storage-http" },
  google_calendar: { pkg: "@vdirsyncer/storage-google" },
  google_contacts: { pkg: "@vdirsyncer/storage-google" },
};

/** The first-party storage type names, as vdirsyncer knows them. */
export const FIRST_PARTY_TYPES: readonly string[] = Object.keys(FIRST_PARTY);

/** What a config `type` asks for: the type name the definition must carry and the packages to try. */
export interface PluginRequest {
  /** The type without its `/suffix`; for a package-name type, `undefined` (any single definition will do). */
  type: string | undefined;
  packages: string[];
  firstParty: boolean;
}

function looksLikePackage(type: string): boolean {
  return type.startsWith("@") || type.startsWith("vdirsyncer-storage-");
}

/** Maps a config `type` to the type name and the candidate packages, in the order they are tried. */
export function pluginRequest(type: string): PluginRequest {
  if (looksLikePackage(type)) return { type: undefined, packages: [type], firstParty: false };
  const slash = type.indexOf("/");
  const name = slash === -1 ? type : type.slice(0, slash);
  const known = FIRST_PARTY[name];
  if (known) return { type: name, packages: [known.pkg], firstParty: true };
  return {
    type: name,
    packages: [`@vdirsyncer/storage-${name}`, `vdirsyncer-storage-${name}`],
    firstParty: false,
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
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

/** Finds `pkg` in the `node_modules` folders from `base` upwards, as Node does; returns its entry file. */
async function findPackageEntry(pkg: string, base: string): Promise<string | undefined> {
  let dir = resolve(base);
  for (;;) {
    const pkgDir = join(dir, "node_modules", pkg);
    const manifestPath = join(pkgDir, "package.json");
    if (await isFile(manifestPath)) {
      const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as {
        exports?: unknown;
        main?: string;
      };
      let target: string | undefined;
      if (manifest.exports !== undefined) {
        const exp = manifest.exports;
        const root =
          typeof exp === "object" && exp !== null && !Array.isArray(exp) && "." in exp
            ? (exp as Record<string, unknown>)["."]
            : exp;
        target = exportTarget(root);
      }
      target ??= manifest.main ?? "index.js";
      return join(pkgDir, target);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isModuleNotFound(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? "";
  return (
    (e?.code === "ERR_MODULE_NOT_FOUND" ||
      /Cannot find (package|module)|Failed to (load|resolve)/.test(message)) &&
    message.includes(pkg)
  );
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
function definitionsOf(mod: Record<string, unknown>): StorageDefinition[] {
  const found: StorageDefinition[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (isDefinition(v) && !found.includes(v)) found.push(v);
  };
  add(mod.default);
  for (const [k, v] of Object.entries(mod)) if (k !== "default") add(v);
  return found;
}

/** Loads storage plugins by config `type`, once per type. */
export class PluginResolver {
  readonly #bases: string[];
  readonly #cache = new Map<string, Promise<StorageDefinition>>();

  /** @param bases folders to look in before the command's own install (the config's folder, the cwd) */
  constructor(bases: readonly (string | undefined)[]) {
    this.#bases = [...new Set(bases.filter((b): b is string => b !== undefined))];
  }

  /**
   * The storage definition serving `type`.
   * @throws {UserError} no package provides it (the message names the package to install), the package is
   *   built for another storage API version, or it does not provide this type
   */
  load(type: string): Promise<StorageDefinition> {
    let pending = this.#cache.get(type);
    if (!pending) {
      pending = this.#load(type);
      this.#cache.set(type, pending);
    }
    return pending;
  }

  async #import(pkg: string): Promise<Record<string, unknown> | undefined> {
    const failed = (err: unknown) =>
      new UserError(`The storage plugin ${pkg} failed to load: ${(err as Error).message}`, {
        cause: err,
        hint: `Reinstall it: npm install -g ${pkg}`,
      });
    for (const base of this.#bases) {
      const entry = await findPackageEntry(pkg, base);
      if (entry === undefined) continue;
      try {
        // The real path, as Node itself would load it: a linked plugin (npm link, pnpm) then finds its own
        // dependencies next to its real folder.
        return (await import(pathToFileURL(await realpath(entry)).href)) as Record<string, unknown>;
      } catch (err) {
        throw failed(err);
      }
    }
    try {
      return (await import(/* @vite-ignore */ pkg)) as Record<string, unknown>;
    } catch (err) {
      if (isModuleNotFound(err, pkg)) return undefined;
      throw failed(err);
    }
  }

  async #load(type: string): Promise<StorageDefinition> {
    const request = pluginRequest(type);
    for (const pkg of request.packages) {
      const mod = await this.#import(pkg);
      if (mod === undefined) continue;
      const definitions = definitionsOf(mod);
      const definition =
        request.type === undefined
          ? definitions.length === 1
            ? definitions[0]
            : undefined
          : definitions.find((d) => d.type === request.type);
      if (definition === undefined) {
        const offered = definitions.map((d) => d.type).join(", ") || "none";
        throw new UserError(
          request.type === undefined
            ? `The package ${pkg} must export exactly one storage definition to be used as a type; it exports: ${offered}.`
            : `The package ${pkg} does not provide the storage type "${request.type}"; it provides: ${offered}.`,
          { hint: "Check the `type` in the storage section against the plugin's documentation." },
        );
      }
      if (definition.apiVersion !== API_VERSION) {
        throw new UserError(
          `The storage plugin ${pkg} was built for storage API version ${String(definition.apiVersion)}; this vdirsyncer supports version ${API_VERSION}.`,
          { hint: `Install a version of ${pkg} made for this vdirsyncer.` },
        );
      }
      return definition;
    }
    const names = request.packages.join(" or ");
    throw new UserError(`Unknown storage type: ${type}. No plugin package ${names} is installed.`, {
      hint: `Install the plugin: npm install -g ${request.packages[request.packages.length - 1]}`,
    });
  }
}
