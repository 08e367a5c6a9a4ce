/**
 * Finding and reading the config: vdirsyncer's INI search order (spec/config.md §1), then cosmiconfig files.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { isVdirsyncerError, UserError } from "@vdirsyncer/core";
import { expandPath, homeDirectory, pyJoin } from "@vdirsyncer/core/compat";
import { cosmiconfig, defaultLoaders } from "cosmiconfig";
import type { Config } from "./model.ts";
import { resolveOwnPackagesFrom } from "./own-packages.ts";
import { parseConfig, parseUserConfig } from "./validate.ts";

/** Extensions that mean "a cosmiconfig file" when a config path is given explicitly; anything else is INI. */
export const COSMICONFIG_EXTENSIONS: readonly string[] = [
  ".ts",
  ".mts",
  ".cts",
  ".js",
  ".mjs",
  ".cjs",
  ".json",
  ".yaml",
  ".yml",
];

/** Where cosmiconfig looks, in the directory it searches (the working directory), in this order. */
export const COSMICONFIG_SEARCH_PLACES: readonly string[] = [
  "package.json",
  ".vdirsyncerrc",
  ".vdirsyncerrc.json",
  ".vdirsyncerrc.yaml",
  ".vdirsyncerrc.yml",
  ".vdirsyncerrc.js",
  ".vdirsyncerrc.ts",
  ".vdirsyncerrc.mjs",
  ".vdirsyncerrc.cjs",
  "vdirsyncer.config.ts",
  "vdirsyncer.config.mts",
  "vdirsyncer.config.mjs",
  "vdirsyncer.config.js",
  "vdirsyncer.config.cjs",
  "vdirsyncer.config.json",
  "vdirsyncer.config.yaml",
  "vdirsyncer.config.yml",
];

/** Options of {@link findConfigFile}. */
export interface FindConfigOptions {
  /** `-c/--config FILE`. */
  explicit?: string | undefined;
  /** The environment (`VDIRSYNCER_CONFIG`, `XDG_CONFIG_HOME`, `HOME`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The home directory for `~`. @default `env.HOME`, then the account's home */
  home?: string | undefined;
}

/**
 * Returns the INI config path in vdirsyncer's order: `explicit`, `$VDIRSYNCER_CONFIG`, `~/.vdirsyncer/config`
 * if it exists, else `$XDG_CONFIG_HOME/vdirsyncer/config` (XDG default `~/.config`), which is returned even
 * when it does not exist.
 *
 * MUST NOT look at cosmiconfig files; {@link loadConfig} does that when this path does not exist.
 */
export function findConfigFile(options: FindConfigOptions): string {
  if (options.explicit !== undefined) return options.explicit;
  const fromEnv = options.env.VDIRSYNCER_CONFIG;
  if (fromEnv !== undefined) return fromEnv;
  const home = options.home ?? homeDirectory(options.env);
  const legacy = expandPath("~/.vdirsyncer/config", { home });
  if (existsSync(legacy)) return legacy;
  const xdg = options.env.XDG_CONFIG_HOME ?? expandPath("~/.config/", { home });
  return pyJoin(xdg, "vdirsyncer/config");
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** `-c/--config FILE`: INI, or a cosmiconfig file by its extension (`.ts`, `.json`, `.yaml`, …). */
  path?: string | undefined;
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where cosmiconfig files are searched. @default process.cwd() */
  cwd?: string;
  /** The home directory for `~`. @default `env.HOME`, then the account's home */
  home?: string;
}

// What the extension-less `.vdirsyncerrc` loads to: INI text, never YAML (cosmiconfig's default).
class IniText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function readError(fname: string, err: unknown): UserError {
  if (isVdirsyncerError(err, "USER")) {
    const e = err as UserError;
    return new UserError(`Error during reading config ${fname}: ${e.message}`, {
      problems: e.problems,
      hint: e.hint,
      cause: err,
    });
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === "ENOENT"
      ? "Create the config file (see https://vdirsyncer.pimutils.org/en/stable/tutorial.html) or pass --config FILE."
      : code === "EACCES"
        ? "Make the file readable by this user."
        : "Fix the file so that it can be read, then run the command again.";
  const message = err instanceof Error ? err.message : String(err);
  return new UserError(`Error during reading config ${fname}: ${message}`, { hint, cause: err });
}

function decodeIni(bytes: Uint8Array): string {
  try {
    // A UTF-8 byte order mark is dropped (vdirsyncer would choke on it): accepting more files is allowed.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UserError("The file is not valid UTF-8.", { hint: "Save the config file as UTF-8." });
  }
}

function explorer() {
  return cosmiconfig("vdirsyncer", {
    searchPlaces: [...COSMICONFIG_SEARCH_PLACES],
    searchStrategy: "none",
    cache: false,
    loaders: { ...defaultLoaders, noExt: (_path: string, content: string) => new IniText(content) },
  });
}

async function loadIni(fname: string, home: string): Promise<Config> {
  try {
    const text = decodeIni(await readFile(fname));
    return parseConfig(text, fname, { home });
  } catch (err) {
    throw readError(fname, err);
  }
}

function fromCosmiconfig(loaded: unknown, fname: string, home: string): Config {
  if (loaded instanceof IniText) return parseConfig(loaded.text, fname, { home });
  // An ES module's default export is what cosmiconfig returns; a module without one gives its namespace.
  return parseUserConfig(loaded, fname, { home });
}

/**
 * Finds, reads and validates the config.
 *
 * Order: `path`, `$VDIRSYNCER_CONFIG`, `~/.vdirsyncer/config` if it exists, `$XDG_CONFIG_HOME/vdirsyncer/config`
 * if it exists; when none of these applies, a cosmiconfig file in `cwd` ({@link COSMICONFIG_SEARCH_PLACES});
 * when there is none either, the XDG path (which then fails as vdirsyncer does). An explicit or `$VDIRSYNCER_CONFIG`
 * path with a cosmiconfig extension ({@link COSMICONFIG_EXTENSIONS}) is loaded through cosmiconfig, anything else
 * as INI. A cosmiconfig config goes through the same validation as the INI file.
 * @throws {UserError} `Error during reading config <fname>: <reason>`, keeping the inner error's problems and hint
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const home = options.home ?? homeDirectory(env);
  const cwd = options.cwd ?? process.cwd();
  const given = options.path ?? env.VDIRSYNCER_CONFIG;
  const fname = findConfigFile({ explicit: options.path, env, home });
  if (given === undefined && !existsSync(fname)) {
    let found: { config: unknown; filepath: string } | null = null;
    try {
      resolveOwnPackagesFrom(cwd);
      found = await explorer().search(cwd);
    } catch (err) {
      const file = (err as { filepath?: string }).filepath ?? cwd;
      throw readError(file, err);
    }
    if (found !== null) {
      try {
        return fromCosmiconfig(found.config, found.filepath, home);
      } catch (err) {
        throw readError(found.filepath, err);
      }
    }
  }
  if (COSMICONFIG_EXTENSIONS.includes(extname(fname).toLowerCase())) {
    try {
      resolveOwnPackagesFrom(dirname(fname));
      const result = await explorer().load(fname);
      if (result === null || result.isEmpty) {
        throw new UserError("The file is empty.", {
          hint: "Export the config as the default export, e.g. export default defineConfig({ … }).",
        });
      }
      return fromCosmiconfig(result.config, fname, home);
    } catch (err) {
      throw readError(fname, err);
    }
  }
  return loadIni(fname, home);
}
