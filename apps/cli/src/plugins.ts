/**
 * Plugin lookup: a config `type` names a storage plugin package.
 *
 * - The official types (`filesystem`, `caldav`, …) map to `@vdirsyncer/storage-*`; a `/suffix` such as
 *   `filesystem/icalendar` is stripped (vdirsyncer 0.19.2's changelog promises it; only its `repair` did it).
 * - Any other `type = "x"` is looked for as `@vdirsyncer/storage-x`, then `vdirsyncer-storage-x`, then as any
 *   installed package whose manifest declares the storage `x`.
 * - A type that is a package name (`@scope/name`, `vdirsyncer-storage-…`) is used as such.
 *
 * Packages are looked up in three places, in this order: the config file's folder (`node_modules` next to it),
 * npm's global folder, and where the command itself is installed (which also finds the storages installed with
 * `@vdirsyncer/all`). Never in the working directory: running the command inside a checkout must not run that
 * checkout's code.
 *
 * A plugin's manifest is its package.json: `"vdirsyncer": { "apiVersion": 2, "storages": ["caldav"] }` and the
 * keyword `vdirsyncer-storage`. It is read without importing anything, for `vdirsyncer plugins`, for suggestions
 * after a typo, and to refuse a plugin made for another contract version before its code runs.
 *
 * The places live in `plugin-places.ts`, reading a package in `plugin-packages.ts`; this file maps types to
 * packages and loads them.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { API_VERSION, type PluginSource, type StorageDefinition, UserError } from "@vdirsyncer/core";
import { closest } from "./did-you-mean.ts";
import { definitionsOf, entryOf, type PluginPackage, packageIn, pluginsIn } from "./plugin-packages.ts";
import type { Place, PlaceKind } from "./plugin-places.ts";

/** Where the official storage types live. */
const FIRST_PARTY: Record<string, string> = {
  filesystem: "@vdirsyncer/storage-filesystem",
  singlefile: "@vdirsyncer/storage-singlefile",
  caldav: "@vdirsyncer/storage-caldav",
  carddav: "@vdirsyncer/storage-carddav",
  http: "@vdirsyncer/storage-http",
  google_calendar: "@vdirsyncer/storage-google",
  google_contacts: "@vdirsyncer/storage-google",
};

/** The official storage type names, as vdirsyncer knows them. */
export const FIRST_PARTY_TYPES: readonly string[] = Object.keys(FIRST_PARTY);

/** The package of an official storage type, or `undefined` for any other type. */
export function officialPackage(type: string): string | undefined {
  return Object.hasOwn(FIRST_PARTY, type) ? FIRST_PARTY[type] : undefined;
}

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
  const known = officialPackage(name);
  if (known) return { type: name, packages: [known], firstParty: true };
  return {
    type: name,
    packages: [`@vdirsyncer/storage-${name}`, `vdirsyncer-storage-${name}`],
    firstParty: false,
  };
}

/** Where a `type` was written, for messages. */
export interface TypeOrigin {
  /** `storage bar`. */
  section: string;
  file?: string;
  line?: number;
}

/** A loaded plugin: the definition serving the type and where it came from. */
export interface LoadedPlugin {
  definition: StorageDefinition;
  source: Omit<PluginSource, "type">;
  pkg: PluginPackage | undefined;
}

/** One storage type found by {@link PluginResolver.installed}. */
export interface InstalledStorage {
  type: string;
  package: string;
  version: string | undefined;
  apiVersion: number | undefined;
  place: PlaceKind;
  path: string;
}

function where(origin: TypeOrigin | undefined): string {
  if (origin === undefined) return "";
  const file =
    origin.file === undefined ? "" : ` of ${origin.file}${origin.line ? `, line ${origin.line}` : ""}`;
  return ` in [${origin.section}]${file}`;
}

/** Loads storage plugins by config `type`, once per type. */
export class PluginResolver {
  readonly places: readonly Place[];
  readonly #cache = new Map<string, Promise<LoadedPlugin>>();
  #installed: InstalledStorage[] | undefined;

  constructor(places: readonly Place[]) {
    this.places = places;
  }

  /**
   * Every storage type the installed plugins declare, first place first; a type found again later is shadowed
   * and not listed. Reads package.json files only.
   */
  installed(): InstalledStorage[] {
    if (this.#installed) return this.#installed;
    const out: InstalledStorage[] = [];
    const seen = new Set<string>();
    for (const place of this.places) {
      for (const pkg of pluginsIn(place)) {
        const types = pkg.storages ?? [pkg.name];
        for (const type of types) {
          if (seen.has(type)) continue;
          seen.add(type);
          out.push({
            type,
            package: pkg.name,
            version: pkg.version,
            apiVersion: pkg.apiVersion,
            place: place.kind,
            path: pkg.dir,
          });
        }
      }
    }
    this.#installed = out;
    return out;
  }

  /**
   * The storage definition serving `type`.
   * @throws {UserError} no package provides it (with the closest known type and the installed ones), the package
   *   is built for another contract version, or it does not provide this type
   */
  load(type: string, origin?: TypeOrigin): Promise<LoadedPlugin> {
    let pending = this.#cache.get(type);
    if (!pending) {
      pending = this.#load(type, origin);
      this.#cache.set(type, pending);
    }
    return pending;
  }

  /** The first package named `name` in the lookup places. */
  #find(name: string): PluginPackage | undefined {
    for (const place of this.places) {
      const found = packageIn(place, name);
      if (found) return found;
    }
    return undefined;
  }

  /** The first package whose manifest declares the storage `type`. */
  #declaring(type: string): PluginPackage | undefined {
    for (const place of this.places) {
      for (const pkg of pluginsIn(place)) if (pkg.storages?.includes(type)) return pkg;
    }
    return undefined;
  }

  #refuseVersion(pkg: PluginPackage, apiVersion: unknown): never {
    const built = typeof apiVersion === "number" ? apiVersion : 1;
    throw new UserError(
      `The storage plugin ${pkg.name}${pkg.version ? ` ${pkg.version}` : ""} was built for plugin contract version ${built}; this vdirsyncer speaks version ${API_VERSION}.`,
      {
        hint:
          built < API_VERSION
            ? `Upgrade the plugin to a version made for contract ${API_VERSION} (npm install -g ${pkg.name}@latest), or ask its authors for one.`
            : `This plugin needs a newer vdirsyncer: upgrade the command (npm install -g @vdirsyncer/cli@latest).`,
      },
    );
  }

  async #import(pkg: PluginPackage): Promise<Record<string, unknown>> {
    try {
      if (pkg.place.kind === "command") {
        // From the command's own install, Node finds exactly this package from our own module (and honours the
        // package's export conditions).
        return (await import(/* @vite-ignore */ pkg.name)) as Record<string, unknown>;
      }
      // The real path, as Node itself would load it: a linked plugin (npm link, pnpm) then finds its own
      // dependencies next to its real folder.
      return (await import(pathToFileURL(realpathSync(entryOf(pkg.dir))).href)) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`The storage plugin ${pkg.name} failed to load: ${(err as Error).message}`, {
        cause: err,
        hint: `Reinstall it (npm install -g ${pkg.name}), or report it${pkg.bugs ? ` at ${pkg.bugs}` : " to its authors"}.`,
      });
    }
  }

  async #load(type: string, origin: TypeOrigin | undefined): Promise<LoadedPlugin> {
    const request = pluginRequest(type);
    let pkg: PluginPackage | undefined;
    for (const name of request.packages) {
      pkg = this.#find(name);
      if (pkg) break;
    }
    if (!pkg && request.type !== undefined && !request.firstParty) pkg = this.#declaring(request.type);
    if (!pkg) this.#unknown(type, request, origin);
    if (pkg.apiVersion !== undefined && pkg.apiVersion !== API_VERSION)
      this.#refuseVersion(pkg, pkg.apiVersion);
    const mod = await this.#import(pkg);
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
          ? `The package ${pkg.name} must export exactly one storage definition to be used as a type; it exports: ${offered}.`
          : `The package ${pkg.name} does not provide the storage type "${request.type}"; it provides: ${offered}.`,
        { hint: `Check \`type\`${where(origin)} against the plugin's documentation.` },
      );
    }
    if (definition.apiVersion !== API_VERSION) this.#refuseVersion(pkg, definition.apiVersion);
    return { definition, source: { package: pkg.name, version: pkg.version, bugs: pkg.bugs }, pkg };
  }

  #unknown(type: string, request: PluginRequest, origin: TypeOrigin | undefined): never {
    const installed = this.installed().map((s) => s.type);
    const name = request.type ?? type;
    const problems: string[] = [];
    let hint: string;
    if (request.firstParty) {
      // An official type whose package is not installed: the one case where the name to install is certain.
      problems.push(
        `The ${name} storage comes in the package ${officialPackage(name)}, which is not installed.`,
      );
      hint = `Install it: npm install -g ${officialPackage(name)} (or @vdirsyncer/all for every official storage).`;
    } else {
      const suggestion =
        request.type === undefined
          ? undefined
          : closest(name, [...new Set([...FIRST_PARTY_TYPES, ...installed])]);
      if (suggestion !== undefined) problems.push(`Did you mean "${suggestion}"?`);
      if (suggestion !== undefined && !installed.includes(suggestion) && officialPackage(suggestion)) {
        hint = `Write type = "${suggestion}" and install its plugin: npm install -g ${officialPackage(suggestion)}.`;
      } else if (suggestion !== undefined) {
        hint = `Write type = "${suggestion}"${where(origin)}.`;
      } else {
        hint = `Check \`type\`${where(origin)}; a third-party storage needs its plugin installed (see the plugin's documentation), then \`vdirsyncer plugins\` lists it.`;
      }
    }
    problems.push(
      installed.length > 0
        ? `Installed storages: ${installed.join(", ")}.`
        : "No storage plugin is installed.",
    );
    throw new UserError(`Unknown storage type "${type}"${where(origin)}.`, { problems, hint });
  }
}
