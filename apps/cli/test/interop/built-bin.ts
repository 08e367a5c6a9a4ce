/**
 * Runs the real, built `bin/vdirsyncer.js` and the third-party tools (khal, khard, Python vdirsyncer) in
 * child processes, each in a sandbox whose HOME and XDG folders are temporary, so nothing reads or writes
 * the real home.
 *
 * Written so that any child-process test of this package can use it (bin.test.ts keeps its own copy for now).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The CLI package folder. */
export const PKG = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The repository root. */
export const REPO = join(PKG, "..", "..");
/** The launcher a user runs. */
export const BIN = join(PKG, "bin", "vdirsyncer.js");

/** What one child process printed and returned. */
export interface Ran {
  /** The exit code; null when the process was killed (a timeout, for example). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line, for assertion messages. */
  command: string;
}

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/**
 * The folders of the CLI and of every workspace package it depends on, directly or not, dependencies before
 * their dependents, found through the `workspace:` dependencies and peer dependencies of each package.json and
 * the storage plugins among the start package's dev dependencies (a new dependency needs no edit here).
 */
export function workspacePackages(start = PKG): string[] {
  const root = realpathSync(start);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    // Peer dependencies are loaded at run time too (the status package's peer is core). The command's own
    // storages are dev dependencies (users install the ones they need); its tests load them from its install.
    const storages = Object.fromEntries(
      Object.entries(dir === root ? (manifest.devDependencies ?? {}) : {}).filter(
        ([name]) => name.startsWith("@vdirsyncer/storage-") && name !== "@vdirsyncer/storage-test-suite",
      ),
    );
    const deps = { ...storages, ...manifest.peerDependencies, ...manifest.dependencies };
    for (const [name, range] of Object.entries(deps)) {
      if (range.startsWith("workspace:")) visit(realpathSync(join(dir, "node_modules", name)));
    }
    order.push(dir);
  };
  visit(root);
  return order;
}

/** Whether `dir`'s dist is missing or older than one of its sources. */
function stale(dir: string): boolean {
  const built = join(dir, "dist", "index.js");
  if (!existsSync(built)) return true;
  return (
    statSync(built).mtimeMs < Math.max(newest(join(dir, "src")), statSync(join(dir, "package.json")).mtimeMs)
  );
}

/** Sleeps without an event loop: the build check runs in a synchronous beforeAll. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Makes sure the built command is current: rebuilds each of the CLI and its workspace dependencies whose dist
 * is missing or older than its sources (`turbo run test` builds first, a bare `vitest run` may not have).
 * Test files run in parallel workers, so the build runs under a lock folder and each waiter checks again.
 *
 * @throws Error when the build fails or another build holds the lock for more than five minutes.
 */
export function ensureBuilt(): void {
  const packages = workspacePackages();
  if (!packages.some(stale)) return;
  const lock = join(
    tmpdir(),
    `vdirsyncer-ts-build-${createHash("sha256").update(REPO).digest("hex").slice(0, 16)}.lock`,
  );
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // A lock left by a killed run is older than any real build.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 600_000) rmSync(lock, { force: true, recursive: true });
      if (Date.now() > deadline) throw new Error(`Another build has held ${lock} for five minutes.`);
      sleep(250);
    }
  }
  try {
    // Each stale package on its own: a turbo cache hit would leave the old mtimes, and the check would
    // rebuild on every run.
    for (const dir of packages.filter(stale)) {
      // A failed build throws with its output in the message.
      execFileSync("pnpm", ["run", "build"], { cwd: dir, stdio: "pipe", encoding: "utf8" });
    }
  } finally {
    rmdirSync(lock);
  }
}

/**
 * Builds one more workspace package (a plugin a test installs like a third party, which Node then loads from its
 * dist) when its dist is missing or older than its sources, after {@link ensureBuilt} for its dependencies.
 */
export function ensureBuiltPackage(dir: string): void {
  ensureBuilt();
  if (stale(dir)) execFileSync("pnpm", ["run", "build"], { cwd: dir, stdio: "pipe", encoding: "utf8" });
}

/**
 * The absolute path of an installed program. A missing one fails the test with the way to install it:
 * interop tests never skip.
 *
 * @throws Error when `name` is on neither the PATH nor /usr/bin.
 */
export function requireTool(name: string): string {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/bin", "/bin"];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  throw new Error(
    `${name} is not installed, and the interop tests need it: run scripts/install-test-deps.sh (apt-get install ${name}).`,
  );
}

/** The options of one child process. */
export interface RunOptions {
  /** Text written to the child's stdin (then closed). */
  input?: string;
  /** Killed after this long; the default is a minute. */
  timeoutMs?: number;
}

/** A temporary HOME with its XDG folders, the config locations of every tool, removed by `dispose`. */
export class Sandbox {
  /** The temporary folder holding everything. */
  readonly root: string;
  /** The HOME of every child, under the root; the XDG folders are inside it. */
  readonly home: string;
  /** The environment every child gets, and nothing else from ours. */
  readonly env: Record<string, string>;

  constructor(prefix = "vdirsyncer-interop-") {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.home = join(this.root, "home");
    this.env = {
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, ".config"),
      XDG_DATA_HOME: join(this.home, ".local", "share"),
      XDG_CACHE_HOME: join(this.home, ".cache"),
      XDG_STATE_HOME: join(this.home, ".local", "state"),
      // This Node first, so the launcher's `#!/usr/bin/env node` finds Node 24, then the system tools.
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      PYTHONDONTWRITEBYTECODE: "1",
    };
    for (const k of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"]) {
      mkdirSync(this.env[k] as string, { recursive: true });
    }
  }

  /** An absolute path under HOME: every tool's files and folders live there. */
  path(...parts: string[]): string {
    return join(this.home, ...parts);
  }

  /**
   * Writes a file (and its folders) under HOME as vdir writers do, through a new file renamed into place;
   * returns its absolute path. The new inode changes the file's etag even when the edit lands within the
   * clock tick of a sync's own write, which an in-place write would not.
   */
  write(path: string, content: string): string {
    const full = this.path(path);
    mkdirSync(dirname(full), { recursive: true });
    const temp = `${full}.${process.pid}.tmp`;
    writeFileSync(temp, content);
    renameSync(temp, full);
    return full;
  }

  /** Reads a UTF-8 file under HOME. */
  read(path: string): string {
    return readFileSync(this.path(path), "utf8");
  }

  /** The files under `dir` (relative to it), sorted; none when it does not exist. */
  files(dir: string): string[] {
    const base = this.path(dir);
    const out: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(relative(base, p));
      }
    };
    if (existsSync(base)) walk(base);
    return out.sort();
  }

  /** Runs a program in the sandbox (working directory: HOME). */
  run(file: string, args: readonly string[], options: RunOptions = {}): Ran {
    const r = spawnSync(file, args, {
      cwd: this.home,
      env: this.env,
      input: options.input ?? "",
      encoding: "utf8",
      timeout: options.timeoutMs ?? 60_000,
      killSignal: "SIGKILL",
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code !== "ETIMEDOUT") throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, command: [file, ...args].join(" ") };
  }

  /** Runs our built command, exactly as the launcher runs for a user, under this Node (24). */
  ours(args: readonly string[], options: RunOptions = {}): Ran {
    return this.run(process.execPath, [BIN, ...args], options);
  }

  /** Removes everything. */
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** One child's output for an assertion message. */
export function describeRun(r: Ran): string {
  return `$ ${r.command}\nexit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}
