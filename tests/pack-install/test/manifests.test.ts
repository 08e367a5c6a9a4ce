/**
 * What a release would publish: every public package's tarball, as `pnpm pack` makes it, checked by its
 * manifest, by publint and by arethetypeswrong (ESM-only profile).
 */
import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, test } from "vitest";
import { publicPackages, ROOT } from "../src/pack.ts";
import { packedManifest } from "../src/registry.ts";

const run = promisify(execFile);
const REPO = "https://github.com/vdirsyncer-ts/vdirsyncer-ts";
const { tarballs } = inject("packs");
const packages = publicPackages();

function filesOf(tarball: string): string[] {
  return execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""));
}

/** Every file an `exports` map points at. */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(exportTargets);
  return [];
}

function withoutSource(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== "source")
      .map(([k, v]) => [k, withoutSource(v)]),
  );
}

test("the public packages are the ones meant to be published", () => {
  expect(packages.map((p) => p.name)).toEqual([
    "@vdirsyncer/all",
    "@vdirsyncer/cli",
    "@vdirsyncer/config",
    "@vdirsyncer/core",
    "@vdirsyncer/dav",
    "@vdirsyncer/status",
    "@vdirsyncer/storage-caldav",
    "@vdirsyncer/storage-carddav",
    "@vdirsyncer/storage-filesystem",
    "@vdirsyncer/storage-google",
    "@vdirsyncer/storage-http",
    "@vdirsyncer/storage-singlefile",
    "@vdirsyncer/storage-test-suite",
  ]);
  for (const dir of [
    "packages/test-servers",
    "bench",
    ...readdirSync(join(ROOT, "examples")).map((e) => `examples/${e}`),
  ]) {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
    expect(manifest.private, dir).toBe(true);
  }
});

test("the cli depends on no storage plugin; @vdirsyncer/all on the cli and every official storage", () => {
  const cli = packedManifest(tarballs["@vdirsyncer/cli"]!);
  expect(Object.keys(cli.dependencies as object).filter((d) => d.includes("storage"))).toEqual([]);
  const all = packedManifest(tarballs["@vdirsyncer/all"]!);
  expect(Object.keys(all.dependencies as object).sort()).toEqual([
    "@vdirsyncer/cli",
    "@vdirsyncer/storage-caldav",
    "@vdirsyncer/storage-carddav",
    "@vdirsyncer/storage-filesystem",
    "@vdirsyncer/storage-google",
    "@vdirsyncer/storage-http",
    "@vdirsyncer/storage-singlefile",
  ]);
  expect(all.bin).toEqual({ vdirsyncer: "./bin/vdirsyncer.js" });
});

describe.each(packages.map((p) => [p.name, p] as const))("%s", (name, pkg) => {
  const tarball = tarballs[name]!;

  test("publishConfig.exports is the workspace's exports without the source condition", () => {
    const { exports, publishConfig } = pkg.manifest as {
      exports?: unknown;
      publishConfig?: { exports?: unknown };
    };
    expect(publishConfig?.exports ?? exports).toEqual(withoutSource(exports));
  });

  test("the tarball: LICENSE, README, every export target, no workspace ranges, no source condition", () => {
    const files = filesOf(tarball);
    expect(files).toContain("LICENSE");
    expect(readFileSync(join(pkg.dir, "LICENSE"), "utf8")).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));
    expect(files).toContain("README.md");
    const manifest = packedManifest(tarball);
    for (const target of exportTargets(manifest.exports))
      expect(files, target).toContain(target.replace(/^\.\//, ""));
    const bins = exportTargets(manifest.bin ?? {});
    for (const bin of bins) expect(files, bin).toContain(bin.replace(/^\.\//, ""));
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(JSON.stringify(manifest.exports)).not.toContain('"source"');
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);
  });

  test("license, repository, homepage and bugs", () => {
    const manifest = packedManifest(tarball);
    expect(manifest.license).toBe("MIT");
    expect(manifest.repository).toEqual({
      type: "git",
      url: `git+${REPO}.git`,
      directory: pkg.dir.slice(ROOT.length + 1),
    });
    expect(manifest.homepage).toBe(`${REPO}#readme`);
    expect(manifest.bugs).toEqual({ url: `${REPO}/issues` });
  });

  test("the README links absolutely (a registry page has no repository to be relative to)", () => {
    const readme = readFileSync(join(pkg.dir, "README.md"), "utf8");
    const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((href) => !/^(https?:|mailto:|#)/.test(href));
    expect(relative).toEqual([]);
  });

  test("publint (strict) finds nothing", async () => {
    const { stdout } = await run(join(ROOT, "node_modules/.bin/publint"), ["run", "--strict", tarball]);
    expect(stdout).toContain("All good!");
  });

  test("arethetypeswrong (ESM-only profile) finds nothing", async () => {
    // Exit code 1 when a resolution that the profile checks has a problem; the report says which.
    const r = await run(
      join(ROOT, "node_modules/.bin/attw"),
      ["--profile", "esm-only", "--format", "ascii", tarball],
      {
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, FORCE_COLOR: "0" },
      },
    ).then(
      (ok) => ({ code: 0, out: ok.stdout }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        out: err.stdout + err.stderr,
      }),
    );
    expect(r.code, r.out).toBe(0);
  });
});
