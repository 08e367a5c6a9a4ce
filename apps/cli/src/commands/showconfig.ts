/**
 * `vdirsyncer showconfig`: prints `{"storages": [...]}`, the raw storage sections with `instance_name`, as JSON
 * with indent 2 on stdout (vdirsyncer 0.19.0, experimental). Values are printed as written: `.fetch` keys stay
 * unexpanded and plaintext passwords are shown, as vdirsyncer does.
 */

import { pythonJsonIndent } from "@vdirsyncer/core/compat";
import type { CommandModule } from "yargs";
import type { AppContext } from "../context.ts";

/** Runs `showconfig`; returns the exit code. */
export async function runShowconfig(ctx: AppContext): Promise<number> {
  const config = await ctx.config();
  const storages = [...config.storages.values()].map((s) => s.raw);
  ctx.io.stdout.write(`${pythonJsonIndent({ storages })}\n`);
  return 0;
}

/** The yargs module of `showconfig`. */
export function showconfigCommand(
  run: (handler: (ctx: AppContext) => Promise<number>) => void,
): CommandModule {
  return {
    command: "showconfig",
    describe: "Show the current configuration.",
    handler: () => run((ctx) => runShowconfig(ctx)),
  };
}
