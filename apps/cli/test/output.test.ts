import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VdirsyncerError } from "@vdirsyncer/core/engine";
import { describe, expect, test } from "vitest";
import { reportError } from "../src/errors.ts";
import { Output, printable } from "../src/output.ts";
import { Progress, progressLine } from "../src/progress.ts";
import { Capture, event, general, renderScreen, world } from "./helpers.ts";

/** Retitles the window and clears the screen when printed raw. */
const ATTACK = "\x1b]0;pwned\x07\x1b[2J";
/** Anything an item or server sent that must not reach a terminal raw. */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe("control characters from items and servers", () => {
  test("printable() escapes C0 (not newline or tab), DEL, C1 and bidi controls, and nothing else", () => {
    expect(printable(`esc${ATTACK}x`)).toBe("esc\\x1b]0;pwned\\x07\\x1b[2Jx");
    expect(printable("a\rb\x7fc\x9bd\u202ee\u2066f")).toBe("a\\x0db\\x7fc\\x9bd\\u202ee\\u2066f");
    expect(printable("line one\n\tline two: 5/7 é ✓ 日本")).toBe("line one\n\tline two: 5/7 é ✓ 日本");
  });

  test("every Output path escapes: log lines, hints, raw writes; the command's own colours stay", () => {
    const stream = new Capture(true);
    const out = new Output(stream, "DEBUG", { colour: true });
    out.info(`Copying (uploading) item ${ATTACK} to b`);
    out.warn(`one\nserver said \u202egnp.exe`);
    out.hint("ERROR", `delete ${ATTACK}`);
    out.write(`Do you want to create ${ATTACK}? `);
    const text = stream.text;
    expect(text).not.toContain("\x07");
    expect(text).not.toContain("\x1b]");
    expect(text).not.toContain("\x1b[2J");
    expect(text).not.toContain("\u202e");
    expect(text).toContain("Copying (uploading) item \\x1b]0;pwned\\x07\\x1b[2J to b\n");
    // The warning keeps its two lines, each prefixed in yellow.
    expect(text).toContain(
      "\x1b[33mwarning: \x1b[0mone\n\x1b[33mwarning: \x1b[0mserver said \\u202egnp.exe\n",
    );
  });

  test("an error message from a server is escaped where it is printed", () => {
    const stream = new Capture(false);
    reportError(new Output(stream, "INFO"), new VdirsyncerError("ACCESS_DENIED", `denied ${ATTACK}`), "p/c");
    expect(stream.text).toBe(
      "error: p/c: denied \\x1b]0;pwned\\x07\\x1b[2J\nhint: Check the username, password or token of the storage.\n",
    );
  });

  test("a UID with terminal control codes syncs, and sync and discover print it escaped", async () => {
    const w = world();
    w.writeConfig(`${general(w.root)}
[pair p]
a = "a"
b = "b"
collections = ["c\u202e1"]

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`);
    w.write("a/c\u202e1/evil.ics", event(`esc${ATTACK}x`));
    w.write("b/.keep", "");
    const d = await w.run(["discover"], { stdin: "y\n", tty: true });
    expect(d.code, d.stderr).toBe(0);
    const r = await w.run(["sync"], { tty: true });
    expect(r.code, r.stderr).toBe(0);
    const v = await w.run(["-vdebug", "sync"], { tty: true });
    // The progress display's own cursor movements are the only escape sequences left.
    for (const text of [d.stderr, r.stderr, v.stderr]) {
      expect(text.replace(/\x1b\[\d*F\x1b\[J|\x1b\[\d+m/g, "")).not.toMatch(RAW);
    }
    expect(renderScreen(r.stderr)).toContain(
      "Copying (uploading) item esc\\x1b]0;pwned\\x07\\x1b[2Jx to b/c\\u202e1",
    );
    expect(w.files("b")).toHaveLength(2);
  });
});

describe("colour", () => {
  const pair = (root: string) => `${general(root)}
[pair p]
a = "a"
b = "b"
collections = ["nope"]

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
`;
  /** Runs a command that prints an error on a terminal, with `env`. */
  async function errorOutput(env: Record<string, string>): Promise<string> {
    const w = world();
    w.writeConfig(pair(w.root));
    const r = await w.run(["sync", "missing"], { tty: true, env });
    expect(r.code).toBe(1);
    return r.stderr;
  }
  const RED = "\x1b[31merror: ";

  test("a terminal gets colour; TERM=dumb and a non-empty NO_COLOR do not; an empty NO_COLOR does", async () => {
    expect(await errorOutput({ TERM: "xterm-256color" })).toContain(RED);
    expect(await errorOutput({ TERM: "dumb" })).not.toContain("\x1b[");
    expect(await errorOutput({ TERM: "xterm", NO_COLOR: "1" })).not.toContain("\x1b[");
    expect(await errorOutput({ TERM: "xterm", NO_COLOR: "" })).toContain(RED);
  });
});

describe("progress width", () => {
  function drawn(columns: number | undefined, name: string, done: number, total: number): string {
    const stream = new Capture(true);
    (stream as { columns: number | undefined }).columns = columns;
    const p = new Progress(stream);
    p.start(name);
    p.update(name, done, total);
    // Redrawn now, whatever the redraw rate.
    p.clear();
    p.restore();
    return renderScreen(stream.text.slice(stream.text.lastIndexOf("\x1b[J") + 3));
  }

  test("a terminal reporting 0 columns, or none, gets the whole count", () => {
    expect(drawn(0, "calendars/big", 0, 2000)).toBe("calendars/big  0/2000\n");
    expect(drawn(undefined, "calendars/big", 0, 2000)).toBe("calendars/big  0/2000\n");
  });

  test("a narrow terminal shortens the name, never the count", () => {
    expect(drawn(16, "calendars/big", 1999, 2000)).toBe("cal…  1999/2000\n");
    expect(progressLine("calendars/big", 13, "1999/2000", 15)).toBe("cal…  1999/2000");
    expect(progressLine("calendars/big", 13, "1999/2000", 8)).toBe("1999/2000");
    expect(progressLine("c", 1, "3/4", 80)).toBe("c  3/4");
  });
});

describe("an error repeated for many items", () => {
  test("'changed since it was listed' prints once per collection with a count; -vdebug names every href", async () => {
    const w = world();
    // After the first write to b, another program (this hook, once) edits every other item of b.
    const hook = w.write(
      "hook.sh",
      `#!/bin/sh\nmkdir "${w.root}/hooked" 2>/dev/null || exit 0\nfind "$(dirname "$1")" -name '*.ics' ! -path "$1" -exec sed -i 's/^SUMMARY:.*/SUMMARY:changed elsewhere\\r/' {} +\n`,
    );
    chmodSync(hook, 0o755);
    w.writeConfig(`${general(w.root)}
[pair p]
a = "a"
b = "b"
collections = ["c"]
conflict_resolution = "a wins"

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
post_hook = "${hook}"
`);
    // Enough items that the hook's one edit lands before most updates start, however fast the machine is.
    const N = 150;
    for (let i = 0; i < N; i++) w.write(`a/c/e${i}.ics`, event(`e${i}`));
    w.write("b/.keep", "");
    expect((await w.run(["discover"], { stdin: "y\n" })).code).toBe(0);
    // The hook stays quiet for the first sync (its marker exists), and acts during the second.
    w.write("hooked/.keep", "");
    const first = await w.run(["sync"]);
    expect(first.code, first.stderr).toBe(0);
    rmSync(join(w.root, "hooked"), { recursive: true, force: true });
    for (let i = 0; i < N; i++) w.write(`a/c/e${i}.ics`, event(`e${i}`, `edited ${i}`));
    const r = await w.run(["-vdebug", "sync"]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
    const changed = errors.filter((l) => l.includes("changed since it was listed"));
    expect(changed, r.stderr).toHaveLength(1);
    const more = /^error: p\/c: … and (\d+) more like it$/.exec(errors.at(-1) ?? "");
    expect(more, errors.join("\n")).not.toBeNull();
    const n = Number(more?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(r.stderr.match(/^hint: Another program changed the item/gm)).toHaveLength(1);
    // Each held-back error is still there at -vdebug, with its href.
    expect(r.stderr.match(/^debug: p\/c: The item at e\d+\.ics changed since it was listed/gm)).toHaveLength(
      n,
    );
  });
});
