/**
 * The real `vdirsyncer` command in a child process: how to start it, and one run of it with captured output,
 * optionally killed with a signal at a chosen moment.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** How the command is started: the program and the arguments before the command's own. */
export interface CommandLine {
  argv: readonly string[];
  /** "built" (apps/cli/dist), "sources" (TypeScript sources) or "env" (VDIRSYNCER_RELIABILITY_COMMAND). */
  kind: "built" | "sources" | "env";
}

function newest(dir: string): number {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/** The workspace folders the command loads at run time (the CLI, its libraries and the storages it tests). */
const RUNTIME = [
  "apps/cli",
  "packages/core",
  "packages/status",
  "packages/config",
  "packages/dav",
  "plugins/storage-filesystem",
  "plugins/storage-caldav",
  "plugins/storage-carddav",
];

/** Whether every runtime package has a dist no older than its sources. */
export function buildIsCurrent(): boolean {
  return RUNTIME.every((p) => {
    const built = join(REPO, p, "dist", "index.js");
    return existsSync(built) && statSync(built).mtimeMs >= newest(join(REPO, p, "src"));
  });
}

/**
 * The command to test. `VDIRSYNCER_RELIABILITY_COMMAND` (a launcher `.js`/`.mjs` run with this Node, or any
 * executable) wins; then the built `apps/cli/bin/vdirsyncer.js` when the build is current (faster to start);
 * else the sources.
 */
export function commandLine(): CommandLine {
  // Chosen once per process: a build finishing (or starting) midway must not switch the command under test.
  chosen ??= chooseCommandLine();
  return chosen;
}

let chosen: CommandLine | undefined;

function chooseCommandLine(): CommandLine {
  const forced = process.env.VDIRSYNCER_RELIABILITY_COMMAND;
  if (forced !== undefined && forced !== "") {
    const argv = /\.(m?js|ts)$/.test(forced) ? [process.execPath, forced] : [forced];
    return { argv, kind: "env" };
  }
  if (process.env.VDIRSYNCER_RELIABILITY_SOURCES !== "1" && buildIsCurrent()) {
    return { argv: [process.execPath, join(REPO, "apps", "cli", "bin", "vdirsyncer.js")], kind: "built" };
  }
  return {
    argv: [
      process.execPath,
      "--conditions=source",
      "--disable-warning=ExperimentalWarning",
      join(REPO, "tests", "reliability", "src", "cli-from-sources.mjs"),
    ],
    kind: "sources",
  };
}

/** What one run printed and how it ended. */
export interface Ran {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
  /** Milliseconds from spawn to the first byte on stderr or stdout (the command's first line), if any. */
  firstOutputMs?: number;
  /** Whether our `killAt` fired (the process was still running then). */
  killed: boolean;
  pid: number;
}

/** Options of one run. */
export interface RunOptions {
  env: Record<string, string>;
  cwd: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Hard bound: SIGKILL after this long (then `code` is null). Default two minutes. */
  timeoutMs?: number;
  /**
   * Kill with `signal` (default SIGKILL) this many ms after the command's first output (or after spawn when
   * `from` is "spawn").
   */
  killAt?: { ms: number; from?: "output" | "spawn"; signal?: NodeJS.Signals };
  /** Called with each stderr chunk as it arrives. */
  onStderr?: (text: string) => void;
}

/** Runs the command once with `args`. Never rejects for the command's own failure. */
export function runCommand(args: readonly string[], options: RunOptions): Promise<Ran> {
  const cmd = commandLine();
  const [program, ...pre] = cmd.argv as [string, ...string[]];
  const started = performance.now();
  const child = spawn(program, [...pre, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let firstOutputMs: number | undefined;
  let killed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) {
      killed = true;
      child.kill(options.killAt?.signal ?? "SIGKILL");
    }
  };
  const arm = () => {
    if (options.killAt === undefined || killTimer !== undefined) return;
    killTimer = setTimeout(kill, Math.max(0, options.killAt.ms));
  };
  const first = () => {
    if (firstOutputMs !== undefined) return;
    firstOutputMs = performance.now() - started;
    if (options.killAt?.from !== "spawn") arm();
  };
  if (options.killAt?.from === "spawn") arm();
  child.stdout.setEncoding("utf8").on("data", (t: string) => {
    stdout += t;
    first();
  });
  child.stderr.setEncoding("utf8").on("data", (t: string) => {
    stderr += t;
    first();
    options.onStderr?.(t);
  });
  child.stdin.on("error", () => {});
  child.stdin.end(options.input ?? "");
  const hard = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(hard);
      if (killTimer !== undefined) clearTimeout(killTimer);
      const ran: Ran = {
        code,
        signal,
        stdout,
        stderr,
        ms: performance.now() - started,
        killed,
        pid: child.pid ?? -1,
      };
      if (firstOutputMs !== undefined) ran.firstOutputMs = firstOutputMs;
      resolve(ran);
    });
  });
}

/** A run for assertion messages. */
export function describeRan(r: Ran): string {
  return `exit ${r.code ?? r.signal} after ${Math.round(r.ms)} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
