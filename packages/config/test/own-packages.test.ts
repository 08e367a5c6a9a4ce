import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UserError } from "@vdirsyncer/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/index.ts";

// A config in a folder with no node_modules above it, as next to a globally installed command.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vdirsyncer-own-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function config(body: string): string {
  const file = join(dir, "vdirsyncer.config.mjs");
  writeFileSync(file, body);
  return file;
}

describe("a code config importing @vdirsyncer/* with nothing installed next to it", () => {
  it("gets the package from the command's own install", async () => {
    const file = config(
      [
        'import own from "@vdirsyncer/config/package.json" with { type: "json" };',
        `export default { general: { status_path: own.name.replace("@vdirsyncer/", "${dir}/") }, storages: {} };`,
        "",
      ].join("\n"),
    );
    const loaded = await loadConfig({ path: file, env: {}, home: dir, cwd: dir });
    expect(loaded.statusPath).toBe(`${dir}/config`);
  });

  it("found in the working directory's search, too", async () => {
    config(
      [
        'import own from "@vdirsyncer/config/package.json" with { type: "json" };',
        `export default { general: { status_path: "${dir}/" + own.version }, storages: {} };`,
        "",
      ].join("\n"),
    );
    const loaded = await loadConfig({ env: {}, home: join(dir, "home"), cwd: dir });
    expect(loaded.statusPath).toMatch(/\/\d+\.\d+\.\d+$/);
  });

  it("a package that the command does not have is still an error naming it", async () => {
    const file = config('import { x } from "@vdirsyncer/no-such-package";\nexport default x;\n');
    const err = await loadConfig({ path: file, env: {}, home: dir, cwd: dir }).then(
      () => undefined,
      (e: UserError) => e,
    );
    expect(err?.message).toContain(file);
    expect(err?.message).toContain("@vdirsyncer/no-such-package");
  });

  it("other scopes get no fallback", async () => {
    const file = config('import { x } from "cosmiconfig";\nexport default x;\n');
    const err = await loadConfig({ path: file, env: {}, home: dir, cwd: dir }).then(
      () => undefined,
      (e: UserError) => e,
    );
    expect(err?.message).toContain("Cannot find package 'cosmiconfig'");
  });
});
