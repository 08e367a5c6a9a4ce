import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";

const ALL_BIN = fileURLToPath(new URL("../bin/vdirsyncer.js", import.meta.url));
const CLI_BIN = fileURLToPath(new URL("../../cli/bin/vdirsyncer.js", import.meta.url));
const CLI_DIST = fileURLToPath(new URL("../../cli/dist/index.js", import.meta.url));

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the vdirsyncer command of @vdirsyncer/all", () => {
  beforeAll(() => {
    if (!existsSync(CLI_DIST))
      throw new Error(`${CLI_DIST} is missing: build first (pnpm exec turbo run build).`);
  });

  test("runs the cli's launcher: same --version output and exit code", () => {
    const all = run(ALL_BIN, ["--version"]);
    const cli = run(CLI_BIN, ["--version"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/\d+\.\d+\.\d+/);
    expect(all).toEqual(cli);
  });

  test("passes the arguments on: an unknown command is a usage error (exit 2), as from the cli", () => {
    const all = run(ALL_BIN, ["no-such-command"]);
    expect(all.code).toBe(2);
    expect(all).toEqual(run(CLI_BIN, ["no-such-command"]));
  });
});
