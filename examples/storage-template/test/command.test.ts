/**
 * The template through the real `vdirsyncer` command: a child process running the command's source entry, with a
 * config in a temporary folder whose `node_modules` holds this package, found by its type as a user's install is.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createStorage } from "@vdirsyncer/core/engine";
import { makeEvent } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readCollection } from "../src/collection-file.ts";
import template from "../src/index.ts";

const PKG = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(PKG, "..", "..", "apps", "cli", "src", "index.ts");
// The command's source entry, run by Node itself; workspace packages resolve to their sources ("source").
const LAUNCH = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;

let root: string;

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    t = Math.max(t, st.isDirectory() ? newest(join(dir, name)) : st.mtimeMs);
  }
  return t;
}

beforeAll(() => {
  // The command imports a plugin's built entry (its package.json `exports`), as it would from npm.
  const built = join(PKG, "dist", "index.js");
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(PKG, "src"))) {
    execFileSync("pnpm", ["run", "build"], { cwd: PKG, stdio: "ignore" });
  }
  root = mkdtempSync(join(tmpdir(), "vdirsyncer-template-"));
  mkdirSync(join(root, "home"));
  mkdirSync(join(root, "global"));
  mkdirSync(join(root, "node_modules"));
  symlinkSync(PKG, join(root, "node_modules", "vdirsyncer-storage-template"), "dir");
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function vdirsyncer(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--input-type=module", "-e", LAUNCH, "--", "-c", join(root, "config"), ...args],
    {
      cwd: root,
      encoding: "utf8",
      // npm's global folder is an empty one here: the plugin must come from node_modules next to the config.
      env: { HOME: join(root, "home"), PATH: process.env.PATH, npm_config_prefix: join(root, "global") },
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

async function storageAt(path: string) {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  return createStorage(template, { path }, { instance: "test", log });
}

test("two collections sync through the command, each into its own collection, both ways", async () => {
  writeFileSync(
    join(root, "config"),
    `[general]
status_path = "${root}/status/"

[pair notes]
a = "local"
b = "backup"
collections = ["from a", "from b"]
implicit = "create"

[storage local]
type = "template"
path = "${root}/local/"

[storage backup]
type = "template"
path = "${root}/backup/"
`,
  );
  const local = await storageAt(join(root, "local"));
  const uids = { home: ["h1", "h2"], work: ["w1", "w2", "w3"] };
  for (const [id, list] of Object.entries(uids)) {
    const col = await local.open(await local.createCollection(id));
    for (const uid of list) await col.upload!(makeEvent(uid));
  }

  const discover = vdirsyncer("discover");
  expect(discover.code, discover.all).toBe(0);
  expect(discover.stderr).toContain('Saved for notes: collections = ["home", "work"]');

  const sync = vdirsyncer("sync");
  expect(sync.code, sync.all).toBe(0);
  for (const [id, list] of Object.entries(uids)) {
    const stored = await readCollection(join(root, "backup", id, "collection.json"));
    expect(Object.keys(stored.items).sort(), `backup/${id}`).toEqual(list);
  }

  // A change on the backup side comes back into its own collection only.
  const backup = await storageAt(join(root, "backup"));
  const work = await backup.open({ id: "work", config: { path: join(root, "backup", "work") } });
  const { etag } = await work.get("w2");
  await work.update!("w2", makeEvent("w2", "SUMMARY:changed on the backup"), etag);
  const back = vdirsyncer("sync");
  expect(back.code, back.all).toBe(0);
  expect(back.stderr).toContain("Copying (updating) item w2 to local/work");
  const localWork = await readCollection(join(root, "local", "work", "collection.json"));
  expect(localWork.items.w2!.raw).toContain("SUMMARY:changed on the backup");
  const localHome = await readCollection(join(root, "local", "home", "collection.json"));
  expect(Object.keys(localHome.items).sort()).toEqual(uids.home);

  const again = vdirsyncer("sync");
  expect(again.code, again.all).toBe(0);
  expect(again.stderr).not.toContain("Copying");
});
