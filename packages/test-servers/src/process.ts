import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, appendFileSync, constants, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestServer } from "./servers.ts";

/**
 * Throws a clear error when a Debian-packaged binary is missing, naming the package to install.
 * @throws {Error} the binary does not exist or is not executable
 */
export function requireBinary(path: string, debianPackage: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${path} is missing: install the Debian package with \`apt-get install ${debianPackage}\`.`,
    );
  }
}

/** Asks the kernel for a free TCP port on 127.0.0.1 (free now; the caller retries if a race takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The uid and gid of a system user from /etc/passwd (for processes that refuse to run as root). */
export function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  const fields = line?.split(":");
  if (!fields || fields.length < 4) {
    throw new Error(
      `The system user "${name}" does not exist (/etc/passwd); is its Debian package installed?`,
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** How one server process is spawned. */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (when this process is root). */
  user?: { uid: number; gid: number };
  /**
   * Start the process in its own process group and signal the whole group: for servers that fork workers
   * (Cyrus, PHP's server with workers, PostgreSQL), so that no worker outlives its parent.
   * @default false
   */
  group?: boolean;
  /** The signal `stop()` sends first. @default "SIGTERM" */
  stopSignal?: NodeJS.Signals;
  /** Written to stdin (which is otherwise closed). */
  input?: string;
}

/** A started child process with its captured output, for error messages. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  group: boolean;
  stopSignal: NodeJS.Signals;
}

function signal(started: Pick<Started, "child" | "group">, sig: NodeJS.Signals): void {
  const pid = started.child.pid;
  if (pid === undefined) return;
  try {
    if (started.group) process.kill(-pid, sig);
    else started.child.kill(sig);
  } catch {
    // already gone
  }
}

function isRunning(started: Started): boolean {
  return (
    started.child.exitCode === null && started.child.signalCode === null && started.child.pid !== undefined
  );
}

/**
 * Stops a child: its stop signal, then SIGKILL after `graceMs`. For a process group, whatever is left of the group
 * after the leader exited gets SIGKILL too. Resolves once the leader has exited.
 */
export async function stopChild(started: Started, graceMs = 5000): Promise<void> {
  if (isRunning(started)) {
    signal(started, started.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const result = await Promise.race([started.exited, timeout]);
    clearTimeout(timer);
    if (result === "timeout") {
      signal(started, "SIGKILL");
      await started.exited;
    }
  }
  if (started.group) signal(started, "SIGKILL");
}

/** Every host with processes that may still run; killed (and their folders removed) when this process exits. */
const liveHosts = new Set<ServerHost>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const host of liveHosts) host.killNow();
  liveHosts.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // Re-raise after cleanup so the default behaviour (exit with the signal) is kept.
    const handler = () => {
      killAllNow();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.once(sig, handler);
  }
}

// The watchdog outlives a crashed parent (SIGKILL, OOM): it polls the parent and the `.watch` marker, and when
// the parent is gone while the marker still exists, it kills every process (group) listed in `.pids` (a negative
// number is a group; dash's kill takes it after the signal, and knows no `--`) and removes the folder. A normal stop() removes the marker, and the watchdog ends within a second.
const WATCHDOG = `
parent=$1; dir=$2; keep=$3
while kill -0 "$parent" 2>/dev/null && [ -e "$dir/.watch" ]; do sleep 1; done
[ -e "$dir/.watch" ] || exit 0
pids=$(cat "$dir/.pids" 2>/dev/null)
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
sleep 2
for p in $pids; do kill -KILL "$p" 2>/dev/null; done
[ "$keep" = 1 ] || rm -rf -- "$dir"
exit 0
`;

/**
 * One test server's processes and its state folder: a fresh `mkdtemp` folder, processes spawned into it, and
 * the guarantee that none of them outlives the tests (`stop()`, an exit hook, signal handlers, and a detached
 * watchdog for when this Node process dies without running its hooks).
 */
export class ServerHost {
  readonly dir: string;
  readonly #keepData: boolean;
  readonly #children: Started[] = [];
  readonly #onStop: (() => Promise<void>)[] = [];
  #stopping: Promise<void> | undefined;

  private constructor(dir: string, keepData: boolean) {
    this.dir = dir;
    this.#keepData = keepData;
  }

  /** Creates the state folder (`<tmp>/vdirsyncer-<name>-XXXXXX`) and its watchdog. */
  static async create(name: string, keepData = false): Promise<ServerHost> {
    installHooks();
    const dir = await mkdtemp(join(tmpdir(), `vdirsyncer-${name}-`));
    const host = new ServerHost(dir, keepData);
    writeFileSync(join(dir, ".watch"), "");
    writeFileSync(join(dir, ".pids"), "");
    liveHosts.add(host);
    const watchdog = spawn(
      "/bin/sh",
      ["-c", WATCHDOG, "watchdog", String(process.pid), dir, keepData ? "1" : "0"],
      {
        stdio: "ignore",
        detached: true,
      },
    );
    watchdog.unref();
    return host;
  }

  /** Spawns a long-running server process, recorded for every cleanup path. */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Started {
    const group = options.group ?? false;
    const child = spawn(command, args, {
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      detached: group,
      ...(options.user && process.getuid?.() === 0 ? options.user : {}),
    });
    let out = "";
    const keep = (chunk: Buffer) => {
      // Keep only the tail: enough to explain a failed start, bounded for long runs.
      out = (out + chunk.toString("utf8")).slice(-8192);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input);
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.once("error", (error) => {
        out += `\n${error.message}`;
        resolve(null);
      });
    });
    const started: Started = {
      child,
      output: () => out,
      exited,
      group,
      stopSignal: options.stopSignal ?? "SIGTERM",
    };
    if (child.pid !== undefined) {
      appendFileSync(join(this.dir, ".pids"), `${group ? -child.pid : child.pid}\n`);
    }
    this.#children.push(started);
    return started;
  }

  /**
   * Runs a setup command to completion (bounded by `timeoutMs`).
   * @throws {Error} it exits non-zero or times out; the message carries its output
   */
  async run(
    command: string,
    args: readonly string[],
    options: SpawnOptions & { timeoutMs?: number } = {},
  ): Promise<string> {
    const started = this.spawn(command, args, { ...options, group: true });
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const code = await Promise.race([started.exited, timeout]);
    clearTimeout(timer);
    if (code === "timeout") await stopChild(started, 1000);
    else signal(started, "SIGKILL"); // anything the command left behind in its group
    this.#forget(started);
    if (code === "timeout") {
      throw new Error(
        `${command} ${args.join(" ")} did not finish within ${timeoutMs} ms:\n${started.output()}`,
      );
    }
    if (code !== 0) {
      throw new Error(`${command} ${args.join(" ")} failed (exit code ${code}):\n${started.output()}`);
    }
    return started.output();
  }

  /** Runs `fn` in `stop()`, after the processes are gone (for in-process helpers such as a log sink). */
  onStop(fn: () => Promise<void>): void {
    this.#onStop.push(fn);
  }

  /** Drops a finished process from the records, so that no cleanup ever signals its (reusable) PID. */
  #forget(started: Started): void {
    this.#children.splice(this.#children.indexOf(started), 1);
    const pids = this.#children.flatMap((s) =>
      s.child.pid === undefined ? [] : [s.group ? -s.child.pid : s.child.pid],
    );
    writeFileSync(join(this.dir, ".pids"), pids.map((p) => `${p}\n`).join(""));
  }

  /**
   * Stops every process (last started first; each with its own stop signal, SIGKILL after `graceMs`) and removes
   * the folder unless it is kept. Idempotent.
   */
  stop(graceMs = 5000): Promise<void> {
    this.#stopping ??= (async () => {
      for (const started of [...this.#children].reverse()) await stopChild(started, graceMs);
      for (const fn of this.#onStop) await fn();
      liveHosts.delete(this);
      await rm(join(this.dir, ".watch"), { force: true });
      if (!this.#keepData) await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  /** Synchronous last resort on process exit: SIGKILL everything, remove the folder. */
  killNow(): void {
    for (const started of this.#children) if (isRunning(started) || started.group) signal(started, "SIGKILL");
    try {
      if (this.#keepData) rmSync(join(this.dir, ".watch"), { force: true });
      else rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // the watchdog retries
    }
  }
}

/**
 * Polls `url` until the server answers any HTTP status, the process exits, `failure()` reports a reason, or
 * `timeoutMs` passes.
 * @throws {Error} the process exited or did not answer in time; the message carries its output
 */
export async function waitUntilAnswering(
  name: string,
  url: string,
  started: Started,
  timeoutMs: number,
  failure: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  let lastError = "";
  while (Date.now() < deadline) {
    if (exited || started.child.exitCode !== null) {
      throw new Error(
        `${name} exited before answering (code ${started.child.exitCode}):\n${started.output()}${failure() ?? ""}`,
      );
    }
    const reason = failure();
    if (reason !== undefined) throw new Error(`${name} failed to start: ${reason}`);
    try {
      const response = await fetch(url, { method: "OPTIONS", signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `${name} did not answer at ${url} within ${timeoutMs} ms (${lastError}):\n${started.output()}${failure() ?? ""}`,
  );
}

/** Whether a start failure was a lost race for the port (then the caller retries with another). */
export function addressInUse(text: string): boolean {
  return /address already in use|errno 98|EADDRINUSE/i.test(text);
}

/**
 * Tries `start` with a fresh free port up to `attempts` times while it fails because the port was taken.
 * @throws {Error} the last failure
 */
export async function withFreePort<T>(attempts: number, start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      lastError = error;
      if (!addressInUse(error instanceof Error ? error.message : String(error))) break;
    }
  }
  throw lastError;
}

/** Waits for a started process to answer; stops it on failure (the caller may retry with another port). */
export async function waitOrStop(
  name: string,
  url: string,
  started: Started,
  timeoutMs = 20_000,
): Promise<void> {
  try {
    await waitUntilAnswering(name, url, started, timeoutMs);
  } catch (error) {
    await stopChild(started, 1000);
    throw error;
  }
}

/** The process and lifecycle fields of a {@link TestServer}, for a server with one main process. */
export function handle(
  host: ServerHost,
  main: Started,
  others: readonly Started[] = [],
): Pick<TestServer, "dataDir" | "pid" | "pids" | "stop"> {
  return {
    dataDir: host.dir,
    pid: main.child.pid ?? -1,
    pids: [main, ...others].map((s) => s.child.pid ?? -1),
    stop: () => host.stop(),
  };
}

/** Names a new account may have: they become paths and database values. */
const ACCOUNT_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Checks an account name for `TestServer.addAccount()`.
 * @throws {Error} it is not 1-40 lower-case letters, digits and dashes, starting with a letter
 */
export function checkAccountName(username: string, password: string): void {
  if (!ACCOUNT_NAME.test(username) || !/^[\x21-\x7e]{1,64}$/.test(password) || /['"\\]/.test(password)) {
    throw new Error(
      `Test account ${JSON.stringify(username)}: a name is 1-40 of a-z, 0-9 and "-" starting with a letter, ` +
        "a password 1-64 printable ASCII characters without quotes or backslashes.",
    );
  }
}
