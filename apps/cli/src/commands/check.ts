/**
 * `vdirsyncer check [STORAGE…] [--json]`: for each storage section, asks the storage to check itself (network
 * storages: reachable, TLS, authentication, collections, how they will be listed) or, for a local storage, checks
 * its folder or file; every failure comes with a hint. Exit code 0 only when every check passed.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { expandPath } from "@vdirsyncer/core/compat";
import type { CheckResult, CollectionInfo } from "@vdirsyncer/core/engine";
import { isVdirsyncerError } from "@vdirsyncer/core/engine";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { AppContext } from "../context.ts";
import { hintFor, userErrorText } from "../errors.ts";
import type { SectionStorage } from "../storages.ts";

/** One point of a check; `config` is a section the command could not even build a storage from. */
export interface CheckLine {
  aspect: CheckResult["aspect"] | "config";
  ok: boolean;
  detail: string;
  hint?: string;
}

/** What `check --json` prints per storage. */
export interface StorageCheckJson {
  storage: string;
  type: string | null;
  ok: boolean;
  results: CheckLine[];
  collections: { id: string; href: string; displayName?: string }[];
  listing: string | null;
}

function messageOf(err: unknown): string {
  if (isVdirsyncerError(err, "USER")) return userErrorText(err).replace(/\n\s*/g, " ");
  return err instanceof Error ? err.message : String(err);
}

function is(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function kindOf(path: string): "dir" | "file" | "other" | "missing" {
  try {
    const st = statSync(path);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
  } catch {
    return "missing";
  }
}

/** A local folder: it exists and can be written (or only read, for a read-only storage). */
function checkFolder(path: string, readOnly: boolean): CheckLine {
  const kind = kindOf(path);
  if (kind === "missing")
    return {
      aspect: "reachable",
      ok: false,
      detail: `The folder ${path} does not exist.`,
      hint: `Create it (\`mkdir -p ${path}\`), or correct \`path\` in the storage section.`,
    };
  if (kind !== "dir")
    return {
      aspect: "reachable",
      ok: false,
      detail: `${path} is not a folder.`,
      hint: "Point `path` at a folder (a vdir, or the folder that holds one vdir per collection).",
    };
  const mode = readOnly ? constants.R_OK | constants.X_OK : constants.R_OK | constants.W_OK | constants.X_OK;
  if (!is(path, mode))
    return {
      aspect: "reachable",
      ok: false,
      detail: `The folder ${path} cannot be ${readOnly ? "read" : "written"} by this user.`,
      hint: `Fix its permissions (\`ls -ld ${path}\`), or run vdirsyncer as its owner.`,
    };
  return {
    aspect: "reachable",
    ok: true,
    detail: `The folder ${path} exists and can be ${readOnly ? "read" : "written"}.`,
  };
}

/** A single file: readable when it exists (writable unless read-only), or its folder writable to create it. */
function checkFile(path: string, readOnly: boolean): CheckLine {
  if (path.includes("%s")) {
    // One file per collection: the folder they live in must be there.
    return checkFolder(dirname(path), readOnly);
  }
  const kind = kindOf(path);
  if (kind === "missing") {
    const folder = dirname(path);
    if (readOnly)
      return {
        aspect: "reachable",
        ok: false,
        detail: `The file ${path} does not exist.`,
        hint: "Correct `path` in the storage section.",
      };
    const parent = checkFolder(folder, false);
    return parent.ok
      ? { aspect: "reachable", ok: true, detail: `${path} does not exist yet; its folder can be written.` }
      : parent;
  }
  if (kind !== "file")
    return {
      aspect: "reachable",
      ok: false,
      detail: `${path} is not a file.`,
      hint: "Point `path` at a file.",
    };
  const mode = readOnly ? constants.R_OK : constants.R_OK | constants.W_OK;
  if (!is(path, mode))
    return {
      aspect: "reachable",
      ok: false,
      detail: `The file ${path} cannot be ${readOnly ? "read" : "written"} by this user.`,
      hint: `Fix its permissions (\`ls -l ${path}\`).`,
    };
  return {
    aspect: "reachable",
    ok: true,
    detail: `The file ${path} can be ${readOnly ? "read" : "written"}.`,
  };
}

/** The local check of a storage without `check()`: its `path`, then the collections it discovers. */
async function localCheck(
  ctx: AppContext,
  storage: SectionStorage,
): Promise<{ results: CheckLine[]; collections: CollectionInfo[] }> {
  const results: CheckLine[] = [];
  const collections: CollectionInfo[] = [];
  const raw = storage.section.path;
  if (typeof raw !== "string") {
    results.push({
      aspect: "reachable",
      ok: true,
      detail: `The ${storage.definition.type} storage offers no check; nothing to look at here.`,
    });
    return { results, collections };
  }
  const home = ctx.io.env.HOME;
  const path = expandPath(raw, home === undefined ? { absolute: true } : { absolute: true, home });
  const line =
    storage.definition.type === "singlefile" ||
    (kindOf(path) === "file" && storage.definition.type !== "filesystem")
      ? checkFile(path, storage.readOnly)
      : checkFolder(path, storage.readOnly);
  results.push(line);
  if (!line.ok || !storage.definition.capabilities.discover) return { results, collections };
  try {
    for await (const info of storage.hosted.discover()) collections.push(info);
    results.push({
      aspect: "collections",
      ok: true,
      detail:
        collections.length === 0
          ? "No collections found (fine for `collections = null`)."
          : `${collections.length} collection${collections.length === 1 ? "" : "s"}: ${collections.map((c) => c.id).join(", ")}.`,
    });
  } catch (err) {
    results.push({ aspect: "collections", ok: false, detail: messageOf(err), hint: hintFor(err) });
  }
  return { results, collections };
}

/** Checks one storage section; never throws. */
async function checkOne(ctx: AppContext, name: string): Promise<StorageCheckJson> {
  const out: StorageCheckJson = {
    storage: name,
    type: null,
    ok: false,
    results: [],
    collections: [],
    listing: null,
  };
  let storage: SectionStorage;
  try {
    const args = await ctx.resolvedStorage(name);
    out.type = typeof args.type === "string" ? args.type : null;
    storage = await ctx.storages.section(args);
  } catch (err) {
    out.results.push({ aspect: "config", ok: false, detail: messageOf(err), hint: hintFor(err) });
    return out;
  }
  out.type = storage.definition.type;
  try {
    const report = await storage.hosted.check();
    if (report === undefined) {
      const local = await localCheck(ctx, storage);
      out.results = local.results;
      out.collections = local.collections.map((c) => ({
        id: c.id,
        href: c.href,
        displayName: c.displayName,
      }));
    } else {
      out.results = report.results.map((r) => ({ ...r }));
      out.collections = report.collections.map((c) => ({
        id: c.id,
        href: c.href,
        displayName: c.displayName,
      }));
      out.listing = report.listing ?? null;
    }
  } catch (err) {
    // check() must not throw; a plugin that does gets its failure reported like any other.
    out.results.push({ aspect: "reachable", ok: false, detail: messageOf(err), hint: hintFor(err) });
  }
  out.ok = out.results.length > 0 && out.results.every((r) => r.ok);
  return out;
}

/** Runs `check`; returns the exit code. */
export async function runCheck(ctx: AppContext, names: readonly string[], json: boolean): Promise<number> {
  const config = await ctx.config();
  for (const n of names) await ctx.storageSection(n);
  const wanted = names.length > 0 ? [...names] : [...config.storages.keys()];
  const checks: StorageCheckJson[] = [];
  for (const name of wanted) {
    if (!json) ctx.out.info(`Checking ${name}`);
    checks.push(await checkOne(ctx, name));
  }
  const ok = checks.every((c) => c.ok);
  if (json) {
    ctx.io.stdout.write(`${JSON.stringify({ ok, storages: checks })}\n`);
    return ok ? 0 : 1;
  }
  const w = (line: string) => ctx.io.stdout.write(`${line}\n`);
  const width = Math.max(...checks.flatMap((c) => c.results.map((r) => r.aspect.length)), 8);
  for (const c of checks) {
    w(`[storage ${c.storage}] ${c.type ?? "(type unknown)"}`);
    for (const r of c.results) {
      w(`  ${r.ok ? "ok  " : "FAIL"}  ${r.aspect.padEnd(width)}  ${r.detail}`);
      if (!r.ok && r.hint) w(`  ${" ".repeat(4 + 2 + width + 2)}hint: ${r.hint}`);
    }
  }
  const failed = checks.filter((c) => !c.ok).length;
  if (checks.length === 0) w("No storage is configured.");
  else if (failed === 0) w(`All ${checks.length} storage${checks.length === 1 ? "" : "s"} passed.`);
  else w(`${failed} of ${checks.length} storage${checks.length === 1 ? "" : "s"} failed.`);
  return ok ? 0 : 1;
}

/** The yargs module of `check`. */
export function checkCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "check [storages..]",
    describe:
      "Check each storage (all when none are given): server reachable, TLS, login, collections, listing; local folders and files.",
    builder: (y: Argv) =>
      y
        .positional("storages", { type: "string", array: true, describe: "STORAGE" })
        .option("json", { type: "boolean", default: false, describe: "Print one JSON object on stdout." }),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) =>
        runCheck(ctx, ((argv.storages as string[] | undefined) ?? []).map(String), argv.json === true),
      ),
  };
}
