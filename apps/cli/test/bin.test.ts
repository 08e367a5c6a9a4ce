/**
 * The real command: the built `bin/vdirsyncer.js` in a child process, as a user runs it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { VERSION } from "../src/index.ts";

const PKG = join(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = join(PKG, "..", "..");
const BIN = join(PKG, "bin", "vdirsyncer.js");
const FIXTURE = join(PKG, "test", "fixtures", "vdirsyncer-storage-notes");
const NEEDED = [
  "apps/cli",
  "packages/core",
  "packages/status",
  "packages/config",
  "plugins/storage-filesystem",
  "plugins/storage-singlefile",
];

let root: string;
let bin: string;

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

beforeAll(() => {
  // `turbo run test` builds first; a bare `vitest run` may not have.
  if (NEEDED.some((p) => !existsSync(join(REPO, p, "dist", "index.js")))) {
    execFileSync("pnpm", ["exec", "turbo", "run", "build", "--filter=@vdirsyncer/cli..."], {
      cwd: REPO,
      stdio: "ignore",
    });
  } else if (statSync(join(PKG, "dist", "index.js")).mtimeMs < newest(join(PKG, "src"))) {
    // Never test a stale build of this package.
    execFileSync("pnpm", ["run", "build"], { cwd: PKG, stdio: "ignore" });
  }
  root = mkdtempSync(join(tmpdir(), "vdirsyncer-bin-"));
  bin = join(root, "bin");
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, "vdirsyncer"));
}, 300_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh HOME under the test's folder. */
function home(): string {
  return mkdtempSync(join(root, "home-"));
}

/** Runs `script` with bash in `homeDir`, with our `vdirsyncer` first on PATH and this Node as `node`. */
function shell(homeDir: string, script: string, input = "") {
  const r = spawnSync("bash", ["-e", "-c", script], {
    cwd: homeDir,
    input,
    encoding: "utf8",
    env: {
      HOME: homeDir,
      PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
      LANG: "C.UTF-8",
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the built command", () => {
  test("--version prints the package version (yargs is not bundled)", () => {
    const r = shell(home(), "vdirsyncer --version");
    expect(r).toEqual({ code: 0, stdout: `vdirsyncer, version ${VERSION}\n`, stderr: "" });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("exit codes 2 for usage errors and 1 for a missing config, messages on stderr", () => {
    const h = home();
    const usage = shell(h, "vdirsyncer -v HAHA sync || echo rc=$?");
    expect(usage.stdout).toBe("rc=2\n");
    expect(usage.stderr).toContain("Invalid value for '-v' / '--verbosity'");
    const missing = shell(h, "vdirsyncer sync || echo rc=$?");
    expect(missing.stdout).toBe("rc=1\n");
    expect(missing.stderr).toContain(`critical: Error during reading config ${h}/.config/vdirsyncer/config`);
  });

  test("an old Node gets a clear message before anything is loaded", () => {
    // Pretend to be Node 20 (the system Node on Debian), which has no node:sqlite.
    const pretend =
      'data:text/javascript,Object.defineProperty(process, "versions", {value: {...process.versions, node: "20.19.0"}}); Object.defineProperty(process, "version", {value: "v20.19.0"});';
    const r = spawnSync(process.execPath, ["--import", pretend, BIN, "--version"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("critical: vdirsyncer needs Node.js 24.11 or newer;");
    expect(r.stderr).toContain("is v20.19.0.\nhint: ");
  });

  test("--help lists the commands on stdout", () => {
    const r = shell(home(), "vdirsyncer --help");
    expect(r.code).toBe(0);
    for (const c of ["discover", "sync", "metasync", "repair", "showconfig", "completion"]) {
      expect(r.stdout).toContain(c);
    }
  });

  test("a third-party plugin installed next to the config is loaded by Node itself", () => {
    const h = home();
    mkdirSync(join(h, ".config", "vdirsyncer", "node_modules"), { recursive: true });
    symlinkSync(FIXTURE, join(h, ".config", "vdirsyncer", "node_modules", "vdirsyncer-storage-notes"));
    const script = [
      "mkdir -p ~/cal",
      "cat > ~/.config/vdirsyncer/config <<CONF",
      "[general]",
      'status_path = "~/status/"',
      "[pair p]",
      'a = "cal"',
      'b = "notes"',
      "collections = null",
      "[storage cal]",
      'type = "filesystem"',
      'path = "~/cal/"',
      'fileext = ".ics"',
      "[storage notes]",
      'type = "notes"',
      'path = "$HOME/notes"',
      "CONF",
      "printf 'BEGIN:VCALENDAR\\r\\nBEGIN:VEVENT\\r\\nUID:x\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n' > ~/cal/x.ics",
      "vdirsyncer discover",
      "vdirsyncer sync 2>&1 | cat",
      "ls ~/notes",
    ].join("\n");
    const r = shell(h, script);
    expect(r.stderr).toContain("No collection null found for storage notes.");
    // Piped: no progress display, only the log lines.
    expect(r.stdout).toBe("Syncing p\nCopying (uploading) item x to notes\nx.note\n");
    expect(r.code).toBe(0);
  });

  test("completion prints a script for each shell, and the bash one parses", () => {
    for (const s of ["bash", "zsh", "fish"]) {
      const r = shell(home(), `vdirsyncer completion ${s}`);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("vdirsyncer");
    }
    const script = shell(home(), "vdirsyncer completion bash").stdout;
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });
});

describe("the README's quick start", () => {
  test("works exactly as written", () => {
    const readme = readFileSync(join(PKG, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Commands"));
    const blocks = [...section.matchAll(/```(sh|text)\n([\s\S]*?)```/g)].map((m) => ({
      lang: m[1],
      body: m[2] as string,
    }));
    expect(blocks.filter((b) => b.lang === "sh").length).toBeGreaterThanOrEqual(3);
    const h = home();
    for (const [i, block] of blocks.entries()) {
      if (block.lang !== "sh") continue;
      // The reader answers y at every question.
      const r = shell(h, `exec 2>&1\n${block.body}`, "y\n".repeat(10));
      expect(r.code, `block ${i}: ${r.stdout}`).toBe(0);
      const next = blocks[i + 1];
      if (next?.lang === "text") {
        // A terminal echoes the typed answer; a pipe does not.
        expect(r.stdout.replaceAll("[y/N]: ", "[y/N]: y\n")).toBe(next.body);
      }
    }
    // The dry run changed nothing: the real sync copies the new event, then there is nothing left to do.
    expect(shell(h, "vdirsyncer sync 2>&1").stdout).toBe(
      "Syncing calendars/personal\nCopying (uploading) item lunch to laptop/personal\n",
    );
    expect(shell(h, "vdirsyncer sync 2>&1").stdout).toBe("Syncing calendars/personal\n");
  });
});
