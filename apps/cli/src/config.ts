/**
 * The one place that talks to `@vdirsyncer/config`: find and load the file, and resolve fetch params.
 */
import { resolve } from "node:path";
import { type Config, type JsonValue, loadConfig, type StorageSection } from "@vdirsyncer/config";
import { UserError } from "@vdirsyncer/core";
import type { AppContext } from "./context.ts";

/** A loaded config and how to resolve its storage sections' fetched values. */
export interface ConfigAccess {
  config: Config;
  /** The raw section with fetched values and `instance_name`. */
  resolveRaw(section: StorageSection): Promise<Record<string, JsonValue>>;
}

/**
 * Finds the config file as vdirsyncer does (`-c`, `$VDIRSYNCER_CONFIG`, `~/.vdirsyncer/config`,
 * `$XDG_CONFIG_HOME/vdirsyncer/config`) and loads it.
 * @throws {UserError} the file cannot be read or is invalid
 */
export async function openConfig(ctx: AppContext): Promise<ConfigAccess> {
  const { env, cwd } = ctx.io;
  const config = await loadConfig({
    path: ctx.configOption === undefined ? undefined : resolve(cwd, ctx.configOption),
    env,
    cwd,
    home: env.HOME,
  });
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
