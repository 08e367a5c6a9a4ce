import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";

/** Every server child this process started and has not yet seen exit; killed on process exit. */
const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      // 'exit' handlers must be synchronous: SIGKILL is the only signal that cannot leave a server running.
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // Re-raise after cleanup so the default behaviour (exit with the signal) is kept.
    const handler = () => {
      killAllNow();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.once(signal, handler);
  }
}

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

/** A started child process with its captured output, for error messages. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns a server process, registers it for cleanup on exit, and starts a watchdog that kills it if this Node
 * process dies without running its exit hooks (SIGKILL, OOM).
 */
export function spawnServer(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Started {
  installHooks();
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  const keep = (chunk: Buffer) => {
    // Keep only the tail: enough to explain a failed start, bounded for long runs.
    out = (out + chunk.toString("utf8")).slice(-8192);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once("error", () => {
      live.delete(child);
      resolve(null);
    });
  });
  if (child.pid !== undefined) {
    // The watchdog outlives a crashed parent: it polls both PIDs and stops the server when the parent is gone.
    const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -TERM ${child.pid} 2>/dev/null; sleep 3; kill -KILL ${child.pid} 2>/dev/null; exit 0`;
    const watchdog = spawn("/bin/sh", ["-c", script], { stdio: "ignore", detached: true });
    watchdog.unref();
  }
  return { child, output: () => out, exited };
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited.
 */
export async function stopChild(started: Started, graceMs = 5000): Promise<void> {
  const { child, exited } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (result === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * Polls `url` until the server answers any HTTP status, the process exits, or `timeoutMs` passes.
 * @throws {Error} the process exited or did not answer in time; the message carries its output
 */
export async function waitUntilAnswering(
  name: string,
  url: string,
  started: Started,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void started.exited.then((code) => {
    exitCode = code;
  });
  let lastError = "";
  while (Date.now() < deadline) {
    if (exitCode !== undefined || started.child.exitCode !== null) {
      throw new Error(
        `${name} exited before answering (code ${started.child.exitCode}):\n${started.output()}`,
      );
    }
    try {
      const response = await fetch(url, { method: "OPTIONS", signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${name} did not answer at ${url} within ${timeoutMs} ms (${lastError}):\n${started.output()}`,
  );
}
