/**
 * npm, run the way a user runs it, but inside a throwaway folder: its own user config, cache and global prefix,
 * so nothing of the machine's npm setup is read or changed. The `@vdirsyncer` scope comes from the local
 * registry of packed tarballs, everything else from the npm registry.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for npm and for the installed command: Node 24 first on PATH, no pnpm/npm script variables. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    if (key.startsWith("npm_") && key !== "npm_config_registry") continue;
    if (key.startsWith("pnpm_") || key.startsWith("vitest") || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${env.PATH ?? ""}`;
  return { ...env, ...extra };
}

/** Runs a program; never throws for a non-zero exit. `input` is written to its stdin. */
export function runProgram(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A throwaway npm set-up under `root`. */
export class Npm {
  readonly root: string;
  readonly userconfig: string;
  readonly cache: string;
  /** The prefix of `npm install --global`. */
  readonly globalPrefix: string;

  constructor(root: string, scopeRegistry: string) {
    this.root = root;
    this.userconfig = join(root, "npmrc");
    this.cache = join(root, "cache");
    this.globalPrefix = join(root, "global");
    mkdirSync(this.cache, { recursive: true });
    mkdirSync(this.globalPrefix, { recursive: true });
    writeFileSync(
      this.userconfig,
      [
        `@vdirsyncer:registry=${scopeRegistry}`,
        `cache=${this.cache}`,
        "fund=false",
        "audit=false",
        "update-notifier=false",
        "loglevel=warn",
        // A stalled download fails and is retried within a minute, instead of npm's default of five.
        "fetch-timeout=60000",
        "fetch-retries=3",
        "",
      ].join("\n"),
    );
  }

  /** `npm <args>` with this set-up's user config (and an empty global config). */
  run(args: readonly string[], cwd: string): Promise<RunResult> {
    const env = cleanEnv({
      npm_config_userconfig: this.userconfig,
      npm_config_globalconfig: join(this.root, "globalnpmrc"),
    });
    return runProgram("npm", args, { cwd, env, timeoutMs: 300_000 });
  }

  /** `npm install` in `cwd` (a fresh project folder gets an empty package.json first). */
  async install(specs: readonly string[], cwd: string): Promise<RunResult> {
    mkdirSync(cwd, { recursive: true });
    return this.run(["install", ...specs], cwd);
  }

  /** `npm install --global --prefix <globalPrefix>`. */
  installGlobal(specs: readonly string[]): Promise<RunResult> {
    return this.run(["install", "--global", "--prefix", this.globalPrefix, ...specs], this.root);
  }
}
