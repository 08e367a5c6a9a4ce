/**
 * A temporary world for the command: HOME and XDG folders, a config file, vdirs and a status folder, all under
 * one `mkdtemp` folder that `dispose()` removes. Nothing reads or writes the real home.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { type Ran, type RunOptions, runCommand } from "./command.ts";

/** A temporary folder tree with a config, and the command run inside it. */
export class World {
  readonly root: string;
  readonly home: string;
  readonly config: string;
  readonly env: Record<string, string>;

  constructor(prefix = "vdirsyncer-reliability-") {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.home = join(this.root, "home");
    this.config = join(this.root, "config");
    this.env = {
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, ".config"),
      XDG_DATA_HOME: join(this.home, ".local", "share"),
      XDG_CACHE_HOME: join(this.home, ".cache"),
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
    };
    mkdirSync(this.env.XDG_CONFIG_HOME as string, { recursive: true });
  }

  /** An absolute path under the root. */
  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Writes the config; `{root}` is replaced by the world's folder. */
  writeConfig(text: string): void {
    writeFileSync(this.config, text.replaceAll("{root}", this.root));
  }

  /** Writes a file under the root (folders created). */
  write(path: string, content: string | Uint8Array): string {
    const full = this.path(path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  }

  /** Runs the command with `-c <config>` and `args`. */
  run(args: readonly string[], options: Partial<RunOptions> = {}): Promise<Ran> {
    return runCommand(["-c", this.config, ...args], { env: this.env, cwd: this.root, ...options });
  }

  /** Every file under `dir` (relative to the root), sorted; dotfiles included. */
  files(dir = "."): string[] {
    return listFiles(this.path(dir));
  }

  /** Copies the folder `from` (relative) to `to` (relative), replacing `to`. */
  copy(from: string, to: string): void {
    rmSync(this.path(to), { recursive: true, force: true });
    cpSync(this.path(from), this.path(to), { recursive: true });
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every file under `base`, relative to it, sorted; [] when it does not exist. */
export function listFiles(base: string): string[] {
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
}

/** Every folder and file under `base` (folders with a trailing `/`), relative, sorted. */
export function listTree(base: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out.push(`${relative(base, p)}/`);
        walk(p);
      } else out.push(relative(base, p));
    }
  };
  try {
    walk(base);
  } catch {
    return [];
  }
  return out.sort();
}
