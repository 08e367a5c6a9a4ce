/**
 * What would make a pair ask a question, found before the daemon touches it: the daemon never prompts. A pair
 * whose password is read at a prompt, or whose Google storage has no token yet, fails with a message that says
 * what to run instead.
 */
import { readFileSync } from "node:fs";
import type { Config, PairSection } from "@vdirsyncer/config";
import { UserError } from "@vdirsyncer/core";
import { expandPath } from "@vdirsyncer/core/compat";

const GOOGLE_TYPES = new Set(["google_calendar", "google_contacts"]);

/** True when the token file holds a token the storage can use or refresh without a person. */
function hasToken(path: string): boolean {
  try {
    const token = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown> | null;
    return (
      token !== null && (typeof token.refresh_token === "string" || typeof token.access_token === "string")
    );
  } catch {
    return false;
  }
}

/**
 * Throws when syncing `pair` would need a person at the terminal.
 * @throws {UserError} a `["prompt", …]` fetch, or a Google storage without a token
 */
export function assertUnattended(config: Config, pair: PairSection, home: string | undefined): void {
  for (const name of [pair.a, pair.b]) {
    const section = config.storages.get(name);
    if (!section) continue; // the sync itself names the missing section
    for (const [key, strategy] of Object.entries(section.fetch)) {
      if (strategy[0] === "prompt") {
        throw new UserError(
          `Pair ${pair.name}: \`${key}.fetch\` of [storage ${name}] asks at a prompt, and the daemon never asks.`,
          {
            hint: `Fetch it with a command instead (\`${key}.fetch = ["command", "pass", "show", "…"]\`), or sync this pair yourself with \`vdirsyncer sync ${pair.name}\`.`,
          },
        );
      }
    }
    const type = section.type;
    const tokenFile = section.options.token_file;
    if (GOOGLE_TYPES.has(type) && typeof tokenFile === "string") {
      const path = expandPath(tokenFile, { absolute: true, home });
      if (!hasToken(path)) {
        throw new UserError(
          `Pair ${pair.name}: [storage ${name}] has no Google token yet (${path}), and the daemon cannot ask for one.`,
          {
            hint: `Run \`vdirsyncer discover ${pair.name}\` once in a terminal to authorise; the daemon picks the pair up afterwards.`,
          },
        );
      }
    }
  }
}
