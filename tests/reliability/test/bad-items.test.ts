/**
 * Bad items: a generated corpus in a vdir, and odd UIDs handed out by a real Radicale. Each bad item is
 * reported on its own and the rest syncs; nothing is written outside the vdir, nothing deleted that was not
 * deleted, and terminal control codes in a UID never reach the output.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestServer } from "@vdirsyncer/test-servers";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeRan } from "../src/command.ts";
import { BOM_ITEM, ODD_SERVER_UIDS, TERMINAL_ATTACK, TERMINAL_ITEM, vdirCorpus } from "../src/corpus.ts";
import { byUid, event, hashOf, readFolder } from "../src/items.ts";
import { newUser, startServer } from "../src/radicale.ts";
import { record } from "../src/record.ts";
import { listFiles, listTree, World } from "../src/world.ts";

const VDIRS = `[general]
status_path = "{root}/status/"

[pair p]
a = "a"
b = "b"
collections = ["from a", "from b"]

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`;

/** Every file's bytes under `dir`, by relative path. */
function contents(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
}

/** Control codes that must never reach a terminal: ESC, BEL, and the C1 CSI/OSC introducers. */
const CONTROL = /[\x1b\x07\x9b\x9d]/;

test("a corpus of bad items in a vdir: per-item errors, the rest syncs, nothing else touched", async () => {
  const world = new World("vdirsyncer-bad-items-");
  try {
    const corpus = vdirCorpus(Number(process.env.VDIRSYNCER_RELIABILITY_BIG_MB ?? 20));
    for (const it of corpus) world.write(`a/c1/${it.name}`, it.content);
    world.write("b/.keep", "");
    world.writeConfig(VDIRS);
    const before = contents(world.path("a"));
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const r = await world.run(["sync"], { timeoutMs: 110_000 });
    const again = await world.run(["sync"], { timeoutMs: 110_000 });
    const output = [d, r, again].map((x) => x.stdout + x.stderr).join("");
    const b = byUid(readFolder(world.path("b", "c1")));
    const bHashes = new Set([...b.values()].flat());
    const outcomes: Record<string, string> = {};
    for (const it of corpus) {
      const text = typeof it.content === "string" ? it.content : undefined;
      const copied =
        (it.uid !== undefined && b.has(it.uid)) ||
        (text !== undefined && text !== "" && bHashes.has(hashOf(text.replace(/^\ufeff/, ""))));
      const named = r.stderr.includes(it.name);
      outcomes[it.name] = copied ? "synced" : named ? "reported" : "not synced, not reported";
      record("bad-items", it.name, { what: it.what, expected: it.fate, outcome: outcomes[it.name] });
    }
    // What every item must do.
    const wrong = corpus.filter((it) => {
      const o = outcomes[it.name];
      if (it.fate === "syncs") return o !== "synced";
      if (it.fate === "error") return o !== "reported";
      if (it.fate === "ignored") return o !== "not synced, not reported";
      return o === "not synced, not reported";
    });
    expect(
      wrong.map((it) => `${it.name} (${it.what}): expected ${it.fate}, got ${outcomes[it.name]}`),
      `outcomes ${JSON.stringify(outcomes, null, 1)}\n${describeRan(r)}`,
    ).toEqual([]);
    expect(r.code, "per-item errors make the exit code non-zero").not.toBe(0);
    // Nothing deleted or changed in the vdir the items came from; nothing written anywhere else.
    expect(contents(world.path("a"))).toEqual(before);
    expect(
      listTree(world.root).filter((p) => !/^(a|b|status|home|snap)(\/|$)/.test(p) && p !== "config"),
    ).toEqual([]);
    expect(listTree(world.path("b")).filter((p) => p.split("/").length > 2)).toEqual([]);
    expect(
      CONTROL.test(output),
      `raw control codes in the output: ${JSON.stringify(output.match(/.{0,30}[\x1b\x07].{0,30}/g))}`,
    ).toBe(false);
  } finally {
    world.dispose();
  }
}, 240_000);

// The command escapes control characters wherever it prints (`esc\x1b]0;pwned\x07\x1b[2Jx`), so a UID can neither
// retitle nor clear the user's terminal.
test("terminal control codes in a UID never reach the output raw", async () => {
  const world = new World("vdirsyncer-terminal-");
  try {
    world.write(`a/c1/${TERMINAL_ITEM.name}`, TERMINAL_ITEM.content);
    world.write("a/c1/plain.ics", event("plain"));
    world.write("b/.keep", "");
    world.writeConfig(VDIRS);
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const r = await world.run(["sync"]);
    const v = await world.run(["-vdebug", "sync"]);
    const output = [d, r, v].map((x) => x.stdout + x.stderr).join("");
    const raw = CONTROL.test(output);
    record("bad-items", TERMINAL_ITEM.name, {
      what: TERMINAL_ITEM.what,
      expected: "either",
      outcome: `${byUid(readFolder(world.path("b", "c1"))).size === 2 ? "synced" : "not synced"}; ${raw ? "**control codes reached the output raw**" : "output escaped"}`,
    });
    expect(byUid(readFolder(world.path("b", "c1"))).has("plain"), describeRan(r)).toBe(true);
    expect(
      raw,
      `raw control codes in the output: ${JSON.stringify(output.match(/.{0,30}[\x1b\x07].{0,30}/g))}`,
    ).toBe(false);
  } finally {
    world.dispose();
  }
});

test("a .ics with a UTF-8 BOM syncs, as vdirsyncer accepts it", async () => {
  const world = new World("vdirsyncer-bom-");
  try {
    world.write(`a/c1/${BOM_ITEM.name}`, BOM_ITEM.content);
    world.write("b/.keep", "");
    world.writeConfig(VDIRS);
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const r = await world.run(["sync"]);
    const synced = byUid(readFolder(world.path("b", "c1"))).has("bom");
    record("bad-items", BOM_ITEM.name, {
      what: BOM_ITEM.what,
      expected: "syncs",
      outcome: synced ? "synced" : "reported",
    });
    expect(synced, describeRan(r)).toBe(true);
    expect(r.code, describeRan(r)).toBe(0);
  } finally {
    world.dispose();
  }
});

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

test("odd UIDs from a server stay inside the vdir and never reach the terminal raw", async () => {
  const world = new World("vdirsyncer-odd-uids-");
  const user = newUser(server, "odd");
  const outside = ["/abs.ics", "/abs", join(dirname(world.root), "x.ics")];
  const existed = outside.filter((p) => existsSync(p));
  try {
    user.seed("odd", [
      ...ODD_SERVER_UIDS.map((u, i) => ({ name: `odd-${i}.ics`, text: event(u.uid, `odd ${i}`) })),
      { name: "plain.ics", text: event("plain") },
    ]);
    world.write("vdir/.keep", "");
    world.writeConfig(`[general]
status_path = "{root}/status/"

[pair p]
a = "local"
b = "remote"
collections = ["from b"]

[storage local]
type = "filesystem"
path = "{root}/vdir/"
fileext = ".ics"

[storage remote]
type = "caldav"
url = "${user.url}"
username = "${user.username}"
password = "${user.password}"
`);
    const serverBefore = user.items("odd");
    const d = await world.run(["discover"], { input: "y\n".repeat(5) });
    expect(d.code, describeRan(d)).toBe(0);
    const r = await world.run(["sync"]);
    const again = await world.run(["sync"]);
    const output = [d, r, again].map((x) => x.stdout + x.stderr).join("");
    const local = byUid(readFolder(world.path("vdir", "odd")));
    record("odd-uids", "what the vdir holds", {
      outcome: `${local.size} UIDs: ${JSON.stringify([...local.keys()].map((k) => (k.length > 40 ? `${k.slice(0, 12)}…(${k.length})` : k)))}; files: ${JSON.stringify(listFiles(world.path("vdir", "odd")).map((f) => (f.length > 40 ? `${f.slice(0, 12)}…(${f.length})` : f)))}`,
    });
    for (const u of ODD_SERVER_UIDS) {
      const reported = /^(error|warning): /m.test(r.stderr);
      record("odd-uids", u.what, {
        outcome: local.has(u.uid)
          ? "synced, inside the vdir"
          : reported
            ? `not synced; the sync said: ${r.stderr
                .split("\n")
                .filter((l) => /^(error|warning): /.test(l))
                .join(" / ")
                .slice(0, 300)}`
            : "**not synced, nothing reported**",
      });
    }
    expect(local.has("plain"), describeRan(r)).toBe(true);
    // Everything the sync wrote is a plain file directly in the collection folder.
    const tree = listTree(world.root).filter((p) => !/^(status|home)(\/|$)/.test(p) && p !== "config");
    expect(tree.filter((p) => !/^vdir\/(\.keep|odd\/|odd\/[^/]+)$/.test(p) && p !== "vdir/")).toEqual([]);
    expect(outside.filter((p) => existsSync(p) && !existed.includes(p))).toEqual([]);
    // The server lost nothing.
    expect([...user.items("odd").keys()]).toEqual([...serverBefore.keys()]);
    expect(
      CONTROL.test(output),
      `raw control codes in the output: ${JSON.stringify(output.match(/.{0,30}[\x1b\x07].{0,30}/g))}`,
    ).toBe(false);
    expect(output.includes(TERMINAL_ATTACK)).toBe(false);
  } finally {
    world.dispose();
  }
});
