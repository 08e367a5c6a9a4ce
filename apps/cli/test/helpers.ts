/**
 * Test harness: runs the CLI in-process with a temporary HOME and config, capturing its output.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable, Writable } from "node:stream";
import { afterEach } from "vitest";
import { main, type SignalSource } from "../src/index.ts";

/** What one run printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writable stream that keeps what was written. */
export class Capture extends Writable {
  text = "";
  isTTY: boolean | undefined;
  columns = 80;
  constructor(isTTY?: boolean) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A temporary world: HOME, a config file, and helpers to run the CLI in it. */
export interface World {
  root: string;
  home: string;
  config: string;
  /** Writes the config file; `{root}` is replaced by the world's folder. */
  writeConfig(text: string): void;
  run(
    args: readonly string[],
    options?: {
      stdin?: string;
      tty?: boolean;
      env?: Record<string, string>;
      cwd?: string;
      signals?: SignalSource;
    },
  ): Promise<RunResult>;
  /** Writes a file under the root. */
  write(path: string, content: string): string;
  read(path: string): string;
  /** The files under `dir` (relative to the root), sorted. */
  files(dir: string): string[];
}

/** The general section most tests use, with the status under the world's folder. */
export function general(root: string): string {
  return `[general]\nstatus_path = "${root}/status/"\n`;
}

/** Creates a temporary world, removed after the test. */
export function world(): World {
  const root = mkdtempSync(join(tmpdir(), "vdirsyncer-cli-"));
  roots.push(root);
  const home = join(root, "home");
  mkdirSync(home);
  const config = join(root, "config");
  const w: World = {
    root,
    home,
    config,
    writeConfig(text) {
      writeFileSync(config, text.replaceAll("{root}", root));
    },
    async run(args, options = {}) {
      const stdout = new Capture(false);
      const stderr = new Capture(options.tty ?? false);
      const code = await main(["-c", config, ...args], {
        // npm's global folder is the world's own (empty unless a test installs a plugin there).
        env: {
          HOME: home,
          PATH: process.env.PATH,
          npm_config_prefix: join(root, "npm-global"),
          ...options.env,
        },
        cwd: options.cwd ?? root,
        stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
        stdout,
        stderr,
        // In-process runs never listen to the test process's signals.
        signals: options.signals,
      });
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
    write(path, content) {
      const full = join(root, path);
      mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, content);
      return full;
    },
    read(path) {
      return readFileSync(join(root, path), "utf8");
    },
    files(dir) {
      const base = join(root, dir);
      const out: string[] = [];
      const walk = (d: string) => {
        for (const name of readdirSync(d)) {
          const p = join(d, name);
          if (statSync(p).isDirectory()) walk(p);
          else out.push(relative(base, p));
        }
      };
      try {
        walk(base);
      } catch {
        return [];
      }
      return out.sort();
    },
  };
  return w;
}

/** A minimal VEVENT calendar with `uid`. */
export function event(uid: string, summary = uid): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20240101T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
}

/** A snapshot of every file under `dir`: path → content, mode and mtime. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out[`${relative(dir, p)}/`] = `dir ${st.mode}`;
        walk(p);
      } else out[relative(dir, p)] = `${st.mode} ${st.mtimeMs} ${readFileSync(p, "base64")}`;
    }
  };
  walk(dir);
  return out;
}

/**
 * What a terminal shows after `text`: a small emulator for the sequences the progress display writes
 * (`ESC[nF` up n lines to column 1, `ESC[J` erase to the end of the screen).
 */
export function renderScreen(text: string): string {
  const lines: string[] = [""];
  let row = 0;
  let i = 0;
  while (i < text.length) {
    const m = /^\x1b\[(\d*)([A-Za-z])/.exec(text.slice(i));
    if (m) {
      const n = m[1] === "" ? 1 : Number(m[1]);
      if (m[2] === "F") row = Math.max(0, row - n);
      else if (m[2] === "J") {
        lines.length = row + 1;
        lines[row] = "";
      } else throw new Error(`unexpected escape ${JSON.stringify(m[0])}`);
      i += m[0].length;
      continue;
    }
    const ch = text[i] as string;
    if (ch === "\n") {
      row++;
      if (lines.length <= row) lines.push("");
    } else lines[row] += ch;
    i++;
  }
  return lines.join("\n");
}
