/**
 * `vdirsyncer showconfig`: prints `{"storages": [...]}`, the raw storage sections with `instance_name`, as JSON
 * with indent 2 on stdout (vdirsyncer 0.19.0, experimental). The format is vdirsyncer's; unlike vdirsyncer it
 * prints no secret: the values of secret keys (`password`, `token`, `client_secret`, …) and the userinfo of
 * URLs become `"********"`. `.fetch` keys stay as written: they say how a value is fetched, never the value.
 */

import { pythonJsonIndent } from "@vdirsyncer/core/compat";
import type { CommandModule } from "yargs";
import type { AppContext } from "../context.ts";

/** What a masked value prints as. */
export const MASK = "********";

/** Keys whose values are secrets (`token_file` and the like name a path, not a secret). */
const SECRET_KEY = /(^|_)(password|passwd|passphrase|secret|token|api_?key)$/i;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `scheme://user:pass@host/…` → `scheme://********@host/…`; any other string is returned unchanged. */
export function maskUserinfo(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_all, scheme: string) => `${scheme}${MASK}@`);
}

function maskValue(value: Json): Json {
  if (typeof value === "string") return maskUserinfo(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value !== null && typeof value === "object") return maskSection(value);
  return value;
}

/** A storage section with its secrets masked; keys, their order and every other value as written. */
export function maskSection(section: { [key: string]: Json }): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(section)) {
    const masked = SECRET_KEY.test(key) && value !== null ? MASK : maskValue(value);
    // defineProperty: a key named `__proto__` stays a plain key.
    Object.defineProperty(out, key, { value: masked, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Runs `showconfig`; returns the exit code. */
export async function runShowconfig(ctx: AppContext): Promise<number> {
  const config = await ctx.config();
  const storages = [...config.storages.values()].map((s) => maskSection(s.raw as { [key: string]: Json }));
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
