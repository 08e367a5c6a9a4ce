/**
 * `vdirsyncer plugins [--json]`: the storage types the installed plugins provide, where each was found and which
 * contract version it was built for. Reads package.json files only: no plugin code runs.
 */
import { dirname } from "node:path";
import { API_VERSION } from "@vdirsyncer/core";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { AppContext } from "../context.ts";
import { lookupPlaces, type Place } from "../plugin-places.ts";
import { type InstalledStorage, PluginResolver } from "../plugins.ts";

const PLACE_NAMES = {
  config: "next to the config file",
  global: "npm's global folder",
  command: "with the command",
} as const;

/** The config file's folder, when a config file is found; `plugins` also works without one. */
async function configDir(ctx: AppContext): Promise<string | undefined> {
  try {
    const file = (await ctx.config()).file;
    return file === undefined ? undefined : dirname(file);
  } catch {
    return undefined;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Runs `plugins`; returns the exit code. */
export async function runPlugins(ctx: AppContext, json: boolean): Promise<number> {
  const places: Place[] = lookupPlaces({ configDir: await configDir(ctx), env: ctx.io.env });
  const found: InstalledStorage[] = new PluginResolver(places).installed();
  if (json) {
    ctx.io.stdout.write(
      `${JSON.stringify({
        apiVersion: API_VERSION,
        places: places.map((p) => ({ place: p.kind, path: p.dir })),
        storages: found,
      })}\n`,
    );
    return 0;
  }
  const rows = [["TYPE", "PACKAGE", "VERSION", "CONTRACT", "FOUND"]];
  for (const s of found) {
    const contract =
      s.apiVersion === undefined
        ? "?"
        : s.apiVersion === API_VERSION
          ? String(s.apiVersion)
          : `${s.apiVersion} (unusable)`;
    rows.push([s.type, s.package, s.version ?? "?", contract, `${PLACE_NAMES[s.place]}: ${s.path}`]);
  }
  if (found.length === 0) ctx.io.stdout.write("No storage plugin is installed.\n");
  else ctx.io.stdout.write(`${table(rows)}\n`);
  ctx.io.stdout.write(
    `\nThis vdirsyncer speaks plugin contract version ${API_VERSION}. Plugins are looked up in:\n${places
      .map((p) => `  ${p.dir} (${PLACE_NAMES[p.kind]})`)
      .join("\n")}\n`,
  );
  return 0;
}

/** The yargs module of `plugins`. */
export function pluginsCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "plugins",
    describe: "List the installed storage plugins (reads their package.json files; runs no plugin code).",
    builder: (y: Argv) =>
      y.option("json", { type: "boolean", default: false, describe: "Print one JSON object on stdout." }),
    handler: (argv: ArgumentsCamelCase) => run((ctx) => runPlugins(ctx, argv.json === true)),
  };
}
