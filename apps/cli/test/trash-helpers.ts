/**
 * Helpers of the trash and undo tests: a vdir ↔ vdir pair, editing files as editors do, and runs on a terminal.
 */
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { main } from "../src/index.ts";
import { Capture, general, type World } from "./helpers.ts";

/** A pair `foobar` of the vdirs `foo` (a) and `bar` (b). */
export function fsPair(w: World, extra = ""): void {
  w.writeConfig(`${general(w.root)}
[pair foobar]
a = "foo"
b = "bar"
collections = null
${extra}

[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".ics"

[storage bar]
type = "filesystem"
path = "{root}/bar/"
fileext = ".ics"
`);
}

/** Replaces a file the way editors do (new inode), so the change shows in the etag within one clock tick. */
export function edit(w: World, path: string, text: string): void {
  const full = join(w.root, path);
  writeFileSync(`${full}.tmp`, text);
  renameSync(`${full}.tmp`, full);
}

/** The `.ics` files of a vdir: name → content. */
export function vdir(w: World, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(join(w.root, dir)).sort())
    if (f.endsWith(".ics")) out[f] = w.read(`${dir}/${f}`);
  return out;
}

/** Runs the command with a stdin that is a terminal, answering `answer`. */
export async function onTerminal(w: World, args: string[], answer: string) {
  const stdin = Readable.from([answer]) as Readable & { isTTY?: boolean };
  stdin.isTTY = true;
  const stdout = new Capture(false);
  const stderr = new Capture(true);
  const code = await main(["-c", w.config, ...args], {
    env: { HOME: w.home, PATH: process.env.PATH, npm_config_prefix: join(w.root, "npm-global") },
    cwd: w.root,
    stdin,
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
