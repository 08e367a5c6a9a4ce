import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UserError } from "@vdirsyncer/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findConfigFile, loadConfig } from "../src/index.ts";

const INI =
  '[general]\nstatus_path = "status/"\n\n[storage s]\ntype = "filesystem"\npath = "~/cal"\nfileext = ".ics"\n';

let root: string;
let home: string;
let cwd: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "vdirsyncer-load-"));
  home = join(root, "home");
  cwd = join(root, "project");
  mkdirSync(home);
  mkdirSync(cwd);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function loadError(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    return err as UserError;
  }
  throw new Error("expected an error");
}

describe("findConfigFile: vdirsyncer's order", () => {
  it("prefers --config, then $VDIRSYNCER_CONFIG, then ~/.vdirsyncer/config if it exists, else XDG", () => {
    const env = { VDIRSYNCER_CONFIG: "/env/config", XDG_CONFIG_HOME: "/xdg" };
    expect(findConfigFile({ explicit: "/cli/config", env, home })).toBe("/cli/config");
    expect(findConfigFile({ env, home })).toBe("/env/config");
    expect(findConfigFile({ env: { XDG_CONFIG_HOME: "/xdg" }, home })).toBe("/xdg/vdirsyncer/config");
    expect(findConfigFile({ env: {}, home })).toBe(`${home}/.config/vdirsyncer/config`);
    write(join(home, ".vdirsyncer/config"), INI);
    expect(findConfigFile({ env: { XDG_CONFIG_HOME: "/xdg" }, home })).toBe(`${home}/.vdirsyncer/config`);
  });
});

describe("loadConfig", () => {
  it("reads the XDG file as INI, with status_path relative to the file", async () => {
    const file = write(join(home, ".config/vdirsyncer/config"), INI);
    const c = await loadConfig({ env: {}, home, cwd });
    expect(c.file).toBe(file);
    expect(c.format).toBe("ini");
    expect(c.statusPath).toBe(join(home, ".config/vdirsyncer/status"));
    expect(c.storages.get("s")!.options.path).toBe("~/cal");
  });

  it("never parses vdirsyncer's extension-less file as YAML", async () => {
    write(join(home, ".config/vdirsyncer/config"), "general:\n  status_path: x\n");
    const err = await loadError(loadConfig({ env: {}, home, cwd }));
    expect(err.message).toMatch(
      /^Error during reading config .*vdirsyncer\/config: File contains no section headers\./,
    );
  });

  it("reports a missing file the way vdirsyncer does, with a hint", async () => {
    const err = await loadError(loadConfig({ env: {}, home, cwd }));
    expect(err.message).toBe(
      `Error during reading config ${home}/.config/vdirsyncer/config: ENOENT: no such file or directory, open '${home}/.config/vdirsyncer/config'`,
    );
    expect(err.hint).toMatch(/--config/);
  });

  it("wraps validation errors, keeping problems and hint", async () => {
    const file = write(join(root, "cfg"), "[general]\nwrong = true\n");
    const err = await loadError(loadConfig({ path: file, env: {}, home, cwd }));
    expect(err.message).toBe(
      `Error during reading config ${file}: Invalid general section. Copy the example config from the repository and edit it: https://github.com/pimutils/vdirsyncer`,
    );
    expect(err.problems).toEqual([
      "general section doesn't take the parameters: wrong",
      "general section is missing the parameters: status_path",
      `in ${file}, line 1, section [general]`,
    ]);
    expect(err.hint).toBeTruthy();
  });

  it("rejects a file that is not UTF-8", async () => {
    const file = join(root, "latin1");
    writeFileSync(file, Buffer.from([0x5b, 0x67, 0xe9, 0x5d, 0x0a]));
    const err = await loadError(loadConfig({ path: file, env: {}, home, cwd }));
    expect(err.message).toBe(`Error during reading config ${file}: The file is not valid UTF-8.`);
  });

  it("uses $VDIRSYNCER_CONFIG", async () => {
    const file = write(join(root, "elsewhere/config"), INI);
    const c = await loadConfig({ env: { VDIRSYNCER_CONFIG: file }, home, cwd });
    expect(c.file).toBe(file);
  });

  it("loads a vdirsyncer.config.ts from cwd (Node strips the types) when there is no INI file", async () => {
    write(
      join(cwd, "vdirsyncer.config.ts"),
      `import type { UserConfig } from "@vdirsyncer/config";
const dir: string = "~/calendars";
const config: UserConfig = {
  general: { status_path: "~/.vdirsyncer/status/" },
  pairs: { cals: { a: "local", b: "remote", collections: ["from a", "from b"], metadata: ["color"] } },
  storages: {
    local: { type: "filesystem", path: dir, fileext: ".ics" },
    remote: { type: "caldav", url: "https://dav.example.com/", username: "bob", "password.fetch": ["command", "pass", "dav"] },
  },
};
export default config;
`,
    );
    const c = await loadConfig({ env: {}, home, cwd });
    expect(c.format).toBe("cosmiconfig");
    expect(c.file).toBe(join(cwd, "vdirsyncer.config.ts"));
    expect(c.statusPath).toBe(join(home, ".vdirsyncer/status"));
    expect(c.pairs.get("cals")).toMatchObject({ a: "local", b: "remote", metadata: ["color"] });
    expect(c.storages.get("remote")!.fetch).toEqual({ password: ["command", "pass", "dav"] });
    expect(c.storages.get("local")!.raw).toEqual({
      type: "filesystem",
      path: "~/calendars",
      fileext: ".ics",
      instance_name: "local",
    });
  });

  it("prefers an existing INI file over a cosmiconfig file", async () => {
    write(join(cwd, "vdirsyncer.config.json"), JSON.stringify({ general: { status_path: "x" } }));
    write(join(home, ".config/vdirsyncer/config"), INI);
    expect((await loadConfig({ env: {}, home, cwd })).format).toBe("ini");
  });

  it("loads JSON, YAML and package.json configs, and .vdirsyncerrc as INI", async () => {
    write(
      join(cwd, "package.json"),
      JSON.stringify({ name: "x", vdirsyncer: { general: { status_path: "/pkg" } } }),
    );
    expect((await loadConfig({ env: {}, home, cwd })).statusPath).toBe("/pkg");
    rmSync(join(cwd, "package.json"));
    write(join(cwd, ".vdirsyncerrc"), '[general]\nstatus_path = "/rc"\n');
    expect(await loadConfig({ env: {}, home, cwd })).toMatchObject({ statusPath: "/rc", format: "ini" });
    const yaml = write(join(root, "v.yaml"), "general:\n  status_path: /yaml\n");
    expect((await loadConfig({ path: yaml, env: {}, home, cwd })).statusPath).toBe("/yaml");
    const json = write(join(root, "v.json"), JSON.stringify({ general: { status_path: "/json" } }));
    expect((await loadConfig({ path: json, env: {}, home, cwd })).statusPath).toBe("/json");
  });

  it("gives a cosmiconfig file the same messages as the INI file, naming storages.<name>.<key>", async () => {
    const file = write(
      join(root, "bad.json"),
      JSON.stringify({
        general: { status_path: "/s" },
        storages: { s: { type: "filesystem", password: "x", "password.fetch": ["prompt", "p"] } },
      }),
    );
    const err = await loadError(loadConfig({ path: file, env: {}, home, cwd }));
    expect(err.message).toBe(`Error during reading config ${file}: Can't set password.fetch and password.`);
    expect(err.problems).toEqual([`in ${file}, storages.s.password.fetch`]);

    const pair = write(
      join(root, "pair.mjs"),
      'export default { general: { status_path: "/s" }, pairs: { p: { a: "x", b: "y" } } };\n',
    );
    const err2 = await loadError(loadConfig({ path: pair, env: {}, home, cwd }));
    expect(err2.message).toContain("Pair p: collections parameter missing.");
    expect(err2.problems).toEqual([`in ${pair}, pairs.p`]);

    const general = write(
      join(root, "general.json"),
      JSON.stringify({ general: { status_path: "/s", x: 1 } }),
    );
    const err3 = await loadError(loadConfig({ path: general, env: {}, home, cwd }));
    expect(err3.problems).toEqual([
      "general section doesn't take the parameters: x",
      `in ${general}, general`,
    ]);
  });

  it("rejects values that JSON could not express, and unknown top-level keys", async () => {
    const fn = write(join(root, "fn.mjs"), 'export default { general: { status_path: () => "/s" } };\n');
    const err = await loadError(loadConfig({ path: fn, env: {}, home, cwd }));
    expect(err.message).toMatch(
      /Section "general", option "status_path": the value is a function, not a JSON value/,
    );
    const top = write(
      join(root, "top.json"),
      JSON.stringify({ general: { status_path: "/s" }, storage: {} }),
    );
    const err2 = await loadError(loadConfig({ path: top, env: {}, home, cwd }));
    expect(err2.message).toMatch(/Unknown top-level key "storage"\./);
    expect(err2.hint).toMatch(/defineConfig/);
  });

  it("reports a syntax error in a .ts config with the file name", async () => {
    const file = write(join(root, "broken.ts"), "export default { general: {\n");
    const err = await loadError(loadConfig({ path: file, env: {}, home, cwd }));
    expect(err.message).toContain(`Error during reading config ${file}: `);
    expect(err.hint).toBeTruthy();
  });
});
