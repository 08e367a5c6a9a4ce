/**
 * Once per run: packs every public package and the example plugin, and serves the scoped tarballs from a local
 * registry. The tests get the paths and the registry's address through vitest's `provide`/`inject`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { JSON_PLUGIN_DIR, packAll, publicPackages } from "./pack.ts";
import { startScopeRegistry } from "./registry.ts";

declare module "vitest" {
  export interface ProvidedContext {
    packs: {
      /** Tarball path by package name (public packages and `vdirsyncer-storage-json`). */
      tarballs: Record<string, string>;
      /** The local registry of the `@vdirsyncer` scope. */
      registry: string;
    };
  }
}

export default async function setup(project: TestProject) {
  const dest = mkdtempSync(join(tmpdir(), "vdirsyncer-packs-"));
  const packages = publicPackages();
  const packed = await packAll([...packages.map((p) => p.dir), JSON_PLUGIN_DIR], dest);
  const tarballs: Record<string, string> = {};
  for (const p of packages) tarballs[p.name] = packed.get(p.dir)!;
  tarballs["vdirsyncer-storage-json"] = packed.get(JSON_PLUGIN_DIR)!;
  const registry = await startScopeRegistry(packages.map((p) => tarballs[p.name]!));
  project.provide("packs", { tarballs, registry: registry.url });
  return async () => {
    await registry.close();
    rmSync(dest, { recursive: true, force: true });
  };
}
