/**
 * The one place that talks to `@vdirsyncer/config`: find and load the file, and resolve fetch params.
 */
import { resolve } from "node:path";
import {
  type Config,
  createFetcher,
  type JsonValue,
  loadConfig,
  promptHidden,
  type StorageSection,
} from "@vdirsyncer/config";
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
  const fetcher = createFetcher({
    log: ctx.out,
    home: env.HOME,
    prompt: (text) => promptValue(ctx, text),
  });
  return { config, resolveRaw: (section) => fetcher.resolveRaw(section) };
}

/**
 * A `["prompt", text]` fetch param: on a terminal, config's hidden prompt; otherwise the next line of this
 * run's stdin (scripts and tests), with the question on stderr.
 * @throws {UserError} the input ended before a value was given
 */
async function promptValue(ctx: AppContext, text: string): Promise<string> {
  if ((ctx.io.stdin as { isTTY?: boolean }).isTTY === true) return promptHidden(text);
  for (;;) {
    ctx.out.write(`${text}: `);
    const line = await ctx.reader.next();
    if (line === undefined) {
      throw new UserError(`Aborted at the prompt "${text}".`, {
        hint: "Enter the value when asked, or set it in the config.",
      });
    }
    if (line !== "") return line;
  }
}
