/**
 * The one place that talks to `@vdirsyncer/config`: find and load the file, and resolve fetch params.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Config, type JsonValue, parseConfig, type StorageSection } from "@vdirsyncer/config";
import { isVdirsyncerError, UserError } from "@vdirsyncer/core";
import type { AppContext } from "./context.ts";

/** A loaded config and how to resolve its storage sections' fetched values. */
export interface ConfigAccess {
  config: Config;
  /** The raw section with fetched values and `instance_name`. */
  resolveRaw(section: StorageSection): Promise<Record<string, JsonValue>>;
}

function findFile(env: Record<string, string | undefined>, home: string): string {
  if (env.VDIRSYNCER_CONFIG) return env.VDIRSYNCER_CONFIG;
  const legacy = join(home, ".vdirsyncer", "config");
  if (existsSync(legacy)) return legacy;
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), "vdirsyncer", "config");
}

/**
 * Finds the config file as vdirsyncer does (`-c`, `$VDIRSYNCER_CONFIG`, `~/.vdirsyncer/config`,
 * `$XDG_CONFIG_HOME/vdirsyncer/config`) and loads it.
 * @throws {UserError} the file cannot be read or is invalid
 */
export async function openConfig(ctx: AppContext): Promise<ConfigAccess> {
  const { env, cwd } = ctx.io;
  const home = env.HOME ?? "/";
  const file = resolve(cwd, ctx.configOption ?? findFile(env, home));
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`Error during reading config ${file}: ${(err as Error).message}`, {
      hint: "Create the file (see the README's quick start), or point -c or $VDIRSYNCER_CONFIG at it.",
    });
  }
  let config: Config;
  try {
    config = parseConfig(text, file, { home });
  } catch (err) {
    if (isVdirsyncerError(err)) throw err;
    throw new UserError(`Error during reading config ${file}: ${(err as Error).message}`);
  }
  return {
    config,
    async resolveRaw(section) {
      if (Object.keys(section.fetch).length > 0) {
        throw new UserError(`Fetch params are not supported yet (storage ${section.name}).`);
      }
      return { ...section.raw };
    },
  };
}
