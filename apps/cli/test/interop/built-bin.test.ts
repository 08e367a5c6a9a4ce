/**
 * The interop harness itself: a missing tool fails loudly, and the build check knows every package the
 * command is made of.
 */
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { PKG, REPO, requireTool, workspacePackages } from "./built-bin.ts";

describe("the interop harness", () => {
  test("a missing tool is an error that says how to install it, never a skip", () => {
    expect(() => requireTool("khal-not-installed-anywhere")).toThrow(
      "khal-not-installed-anywhere is not installed, and the interop tests need it: run scripts/install-test-deps.sh",
    );
    expect(requireTool("sh")).toMatch(/\/sh$/);
  });

  test("the build check covers the command and every workspace package it loads, dependencies first", () => {
    const dirs = workspacePackages();
    const core = realpathSync(join(REPO, "packages", "core"));
    for (const p of [
      "packages/core",
      "packages/status",
      "plugins/storage-filesystem",
      "plugins/storage-singlefile",
    ]) {
      expect(dirs).toContain(realpathSync(join(REPO, p)));
    }
    expect(dirs.at(-1)).toBe(realpathSync(PKG));
    expect(dirs.indexOf(core)).toBeLessThan(dirs.indexOf(realpathSync(join(REPO, "packages", "status"))));
    expect(new Set(dirs).size).toBe(dirs.length);
  });
});
