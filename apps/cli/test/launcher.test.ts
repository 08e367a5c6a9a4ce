/**
 * The checkout's launcher, `bin/vdirsyncer`: it starts the node that scripts/env.sh recorded, so another $HOME (cron,
 * sudo -u) and a PATH without Node neither install a second toolchain nor need the network.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const launcher = join(root, "bin", "vdirsyncer");

describe("bin/vdirsyncer", () => {
  it("runs with an empty HOME and no node on PATH, installing nothing", () => {
    expect(existsSync(join(root, "node_modules/.cache/vdirsyncer-ts-node"))).toBe(true);
    const home = mkdtempSync(join(tmpdir(), "vdirsyncer-home-"));
    try {
      const out = execFileSync(launcher, ["--version"], {
        env: { HOME: home, PATH: "/usr/bin:/bin" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(out).toMatch(/^vdirsyncer, version \d+\.\d+\.\d+/);
      expect(existsSync(join(home, ".cache"))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
