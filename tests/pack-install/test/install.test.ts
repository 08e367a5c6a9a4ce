/**
 * The packed packages, installed with npm as a user would: the command with only the storages asked for, a
 * third-party plugin, a global install next to a plugin that brings its own copy of core, a TypeScript config.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authHeaders, startRadicale, type TestServer } from "@vdirsyncer/test-servers";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { cleanEnv, Npm, type RunResult, runProgram } from "../src/npm.ts";
import { ROOT } from "../src/pack.ts";

const { tarballs, registry } = inject("packs");
const tgz = (name: string) => tarballs[name]!;

const work = mkdtempSync(join(tmpdir(), "vdirsyncer-pack-install-"));
const npm = new Npm(join(work, "npm"), registry);
const home = join(work, "home");
mkdirSync(home);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function event(uid: string): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//pack-install//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20250101T090000Z\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
}

/** Runs an installed `vdirsyncer` (a bin shim) with a clean environment and its own HOME. */
function vdirsyncer(bin: string, args: string[], cwd = work): Promise<RunResult> {
  return runProgram(bin, args, { cwd, env: cleanEnv({ HOME: home }), timeoutMs: 120_000 });
}

function expectOk(r: RunResult, what: string): void {
  expect(r.code, `${what}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
}

/** Every installed package folder under `nodeModules` (nested ones too), as names like `@scope/x`. */
function installedPackages(nodeModules: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      if (entry.name.startsWith("@")) {
        for (const sub of readdirSync(join(dir, entry.name), { withFileTypes: true })) {
          if (!sub.isDirectory()) continue;
          found.push(`${entry.name}/${sub.name}`);
          walk(join(dir, entry.name, sub.name, "node_modules"));
        }
      } else {
        found.push(entry.name);
        walk(join(dir, entry.name, "node_modules"));
      }
    }
  };
  walk(nodeModules);
  return found;
}

function duKiB(path: string): number {
  return Number(execFileSync("du", ["-sk", path], { encoding: "utf8" }).split("\t")[0]);
}

/** An INI config syncing vdir `left` with `right`, both folders of collections under `root`. */
function vdirConfig(root: string, right: string): string {
  return [
    "[general]",
    `status_path = "${root}/status/"`,
    "[pair p]",
    'a = "left"',
    'b = "right"',
    'collections = ["from a"]',
    "[storage left]",
    'type = "filesystem"',
    `path = "${root}/left/"`,
    'fileext = ".ics"',
    "[storage right]",
    right,
    "",
  ].join("\n");
}

describe("local install: the command with chosen storages", () => {
  const project = join(work, "local");
  const bin = join(project, "node_modules", ".bin", "vdirsyncer");
  let radicale: TestServer;

  beforeAll(async () => {
    radicale = await startRadicale();
  });
  afterAll(async () => {
    await radicale?.stop();
  });

  test("(a) the command and the filesystem storage: a vdir to vdir sync, and no DAV code installed", async () => {
    expectOk(
      await npm.install([tgz("@vdirsyncer/cli"), tgz("@vdirsyncer/storage-filesystem")], project),
      "npm install",
    );
    const root = join(work, "a");
    mkdirSync(join(root, "left", "cal"), { recursive: true });
    mkdirSync(join(root, "right", "cal"), { recursive: true });
    writeFileSync(join(root, "left", "cal", "one.ics"), event("one"));
    writeFileSync(join(root, "right", "cal", "two.ics"), event("two"));
    const config = join(root, "config");
    writeFileSync(
      config,
      vdirConfig(
        root,
        ['type = "filesystem"', `path = "${root}/right/"`, 'fileext = ".ics"'].join("\n"),
      ).replace('collections = ["from a"]', 'collections = ["from a", "from b"]'),
    );
    expectOk(await vdirsyncer(bin, ["-c", config, "discover"]), "discover");
    expectOk(await vdirsyncer(bin, ["-c", config, "sync"]), "sync");
    expect(readFileSync(join(root, "right", "cal", "one.ics"), "utf8")).toBe(event("one"));
    expect(readFileSync(join(root, "left", "cal", "two.ics"), "utf8")).toBe(event("two"));

    const installed = installedPackages(join(project, "node_modules"));
    expect(installed).toContain("@vdirsyncer/storage-filesystem");
    expect(installed).toContain("@vdirsyncer/core");
    for (const heavy of [
      "tsdav",
      "undici",
      "@vdirsyncer/dav",
      "@vdirsyncer/storage-caldav",
      "@vdirsyncer/storage-google",
    ])
      expect(installed, heavy).not.toContain(heavy);
    console.info(
      `install size, @vdirsyncer/cli + storage-filesystem: ${duKiB(join(project, "node_modules"))} KiB`,
    );
  });

  test("(b) adding the caldav storage: a sync with Radicale", async () => {
    expectOk(await npm.install([tgz("@vdirsyncer/storage-caldav")], project), "npm install storage-caldav");
    const root = join(work, "b");
    mkdirSync(join(root, "left", "cal"), { recursive: true });
    writeFileSync(join(root, "left", "cal", "dav.ics"), event("dav-item"));
    const config = join(root, "config");
    writeFileSync(
      config,
      vdirConfig(
        root,
        [
          'type = "caldav"',
          `url = "${radicale.url}"`,
          `username = "${radicale.username}"`,
          `password = "${radicale.password}"`,
        ].join("\n"),
      ).replace('collections = ["from a"]', 'collections = ["from a"]\nimplicit = "create"'),
    );
    expectOk(await vdirsyncer(bin, ["-c", config, "discover"]), "discover");
    expectOk(await vdirsyncer(bin, ["-c", config, "sync"]), "sync");
    // Radicale answers a GET of a calendar with all its events.
    const res = await fetch(new URL(`${radicale.username}/cal/`, radicale.url), {
      headers: authHeaders(radicale),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("UID:dav-item");
  });

  test("(c) a third-party plugin tarball is found by its type", async () => {
    expectOk(
      await npm.install([tgz("vdirsyncer-storage-json")], project),
      "npm install vdirsyncer-storage-json",
    );
    const root = join(work, "c");
    mkdirSync(join(root, "left"), { recursive: true });
    writeFileSync(join(root, "left", "x.ics"), event("json-item"));
    const config = join(root, "config");
    writeFileSync(
      config,
      vdirConfig(root, ['type = "json"', `path = "${root}/store.json"`].join("\n")).replace(
        'collections = ["from a"]',
        "collections = null",
      ),
    );
    expectOk(await vdirsyncer(bin, ["-c", config, "discover"]), "discover");
    expectOk(await vdirsyncer(bin, ["-c", config, "sync"]), "sync");
    expect(readFileSync(join(root, "store.json"), "utf8")).toContain("UID:json-item");
  });

  test("@vdirsyncer/all installs the command with every official storage, found from the cli's install", async () => {
    const all = join(work, "all");
    expectOk(await npm.install([tgz("@vdirsyncer/all")], all), "npm install @vdirsyncer/all");
    const installed = installedPackages(join(all, "node_modules"));
    for (const pkg of ["caldav", "carddav", "filesystem", "google", "http", "singlefile"])
      expect(installed).toContain(`@vdirsyncer/storage-${pkg}`);
    // The storages are the cli's siblings here, not its dependencies: the command finds them from its own install.
    const root = join(work, "all-sync");
    mkdirSync(join(root, "left"), { recursive: true });
    writeFileSync(join(root, "left", "all-item.ics"), event("all-item"));
    const config = join(root, "config");
    writeFileSync(
      config,
      vdirConfig(root, ['type = "singlefile"', `path = "${root}/calendar.ics"`].join("\n")).replace(
        'collections = ["from a"]',
        "collections = null",
      ),
    );
    const allBin = join(all, "node_modules", ".bin", "vdirsyncer");
    expectOk(await vdirsyncer(allBin, ["-c", config, "discover"]), "discover");
    expectOk(await vdirsyncer(allBin, ["-c", config, "sync"]), "sync");
    expect(readFileSync(join(root, "calendar.ics"), "utf8")).toContain("UID:all-item");
    console.info(`install size, @vdirsyncer/all: ${duKiB(join(all, "node_modules"))} KiB`);
  });

  test("the emitted declarations type-check as installed (strict, skipLibCheck off, ESM consumer)", async () => {
    const all = join(work, "all");
    const packages = installedPackages(join(all, "node_modules")).filter(
      (p) => p.startsWith("@vdirsyncer/") && p !== "@vdirsyncer/all",
    );
    expect(packages.length).toBeGreaterThanOrEqual(11);
    const imports = packages.map((p, i) => `import type * as m${i} from "${p}";`);
    const uses = `export type All = [${packages.map((_, i) => `typeof m${i}`).join(", ")}];`;
    writeFileSync(join(all, "consumer.mts"), `${imports.join("\n")}\n${uses}\n`);
    writeFileSync(
      join(all, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2024",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["consumer.mts"],
      }),
    );
    const r = await runProgram(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      {
        cwd: all,
        env: cleanEnv(),
      },
    );
    expectOk(r, "tsc");
  });
});

describe("global install", () => {
  const lib = join(npm.globalPrefix, "lib", "node_modules");
  const bin = join(npm.globalPrefix, "bin", "vdirsyncer");

  beforeAll(async () => {
    expectOk(
      await npm.installGlobal([tgz("@vdirsyncer/cli"), tgz("@vdirsyncer/storage-filesystem")]),
      "npm i -g cli + filesystem",
    );
    expectOk(await npm.installGlobal([tgz("vdirsyncer-storage-json")]), "npm i -g vdirsyncer-storage-json");
  });

  test("(d) a plugin with its own copy of core: items and errors work across the two copies", async () => {
    const coreOf = (pkgDir: string) =>
      realpathSync(
        execFileSync(process.execPath, ["-p", 'require.resolve("@vdirsyncer/core/package.json")'], {
          cwd: pkgDir,
          encoding: "utf8",
        }).trim(),
      );
    const cliCore = coreOf(join(lib, "@vdirsyncer", "cli"));
    const jsonCore = coreOf(join(lib, "vdirsyncer-storage-json"));
    expect(jsonCore).not.toBe(cliCore);

    const root = join(work, "d");
    mkdirSync(join(root, "left"), { recursive: true });
    writeFileSync(join(root, "left", "x.ics"), event("global-item"));
    const config = join(root, "config");
    writeFileSync(
      config,
      vdirConfig(root, ['type = "json"', `path = "${root}/store.json"`].join("\n")).replace(
        'collections = ["from a"]',
        "collections = null",
      ),
    );
    expectOk(await vdirsyncer(bin, ["-c", config, "discover"]), "discover");
    expectOk(await vdirsyncer(bin, ["-c", config, "sync"]), "sync to json");
    const store = JSON.parse(readFileSync(join(root, "store.json"), "utf8")) as {
      items: Record<string, { etag: string; raw: string }>;
    };
    expect(Object.values(store.items).map((i) => i.raw)).toEqual([event("global-item")]);

    // An item the plugin reads (an Item of its core) is written by the command (its own core) into the vdir.
    store.items.back = { etag: '"back-1"', raw: event("back-item") };
    writeFileSync(join(root, "store.json"), JSON.stringify(store));
    expectOk(await vdirsyncer(bin, ["-c", config, "sync"]), "sync from json");
    const vdir = readdirSync(join(root, "left"));
    expect(vdir).toHaveLength(2);
    expect(vdir.map((f) => readFileSync(join(root, "left", f), "utf8"))).toContain(event("back-item"));

    // An error of the plugin's core is still one of ours: named, with its message, exit code 1, nothing lost.
    writeFileSync(join(root, "store.json"), "{ not json");
    const broken = await vdirsyncer(bin, ["-c", config, "sync"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("is not valid JSON");
    expect(broken.stderr).not.toMatch(/Unknown error/i);
    expect(readdirSync(join(root, "left"))).toHaveLength(2);
  });

  test("(e) a vdirsyncer.config.ts importing defineConfig runs next to the global install", async () => {
    const root = join(work, "e");
    mkdirSync(join(root, "left", "cal"), { recursive: true });
    mkdirSync(join(root, "right", "cal"), { recursive: true });
    writeFileSync(join(root, "left", "cal", "ts-item.ics"), event("ts-item"));
    writeFileSync(
      join(root, "vdirsyncer.config.ts"),
      [
        'import { defineConfig } from "@vdirsyncer/config";',
        "",
        "export default defineConfig({",
        `  general: { status_path: ${JSON.stringify(`${root}/status/`)} },`,
        '  pairs: { p: { a: "left", b: "right", collections: ["from a"] } },',
        "  storages: {",
        `    left: { type: "filesystem", path: ${JSON.stringify(`${root}/left/`)}, fileext: ".ics" },`,
        `    right: { type: "filesystem", path: ${JSON.stringify(`${root}/right/`)}, fileext: ".ics" },`,
        "  },",
        "});",
        "",
      ].join("\n"),
    );
    // No INI config under this HOME, so the command takes the TypeScript config of the working directory.
    expectOk(await vdirsyncer(bin, ["discover"], root), "discover");
    expectOk(await vdirsyncer(bin, ["sync"], root), "sync");
    expect(readFileSync(join(root, "right", "cal", "ts-item.ics"), "utf8")).toBe(event("ts-item"));
  });
});
