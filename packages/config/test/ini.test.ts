import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { afterAll, describe, expect, it } from "vitest";
import { parseIni } from "../src/index.ts";
import { runPython } from "./python.ts";

// Writes each text to a file and reads it with open() + RawConfigParser, exactly as vdirsyncer does.
const READ_WITH_CONFIGPARSER = `
import configparser, json, sys, os
cases = json.load(sys.stdin)
out = []
for c in cases:
    with open(c["path"], "w", encoding="utf-8", newline="") as f:
        f.write(c["text"])
    p = configparser.RawConfigParser()
    try:
        with open(c["path"], encoding="utf-8") as f:
            p.read_file(f)
        out.append({"sections": [[s, [list(kv) for kv in p.items(s)]] for s in p.sections()],
                    "defaults": [list(kv) for kv in p.defaults().items()]})
    except Exception as e:
        out.append({"error": str(e)})
print(json.dumps(out))
`;

interface PyResult {
  sections?: [string, [string, string][]][];
  defaults?: [string, string][];
  error?: string;
}

function ours(text: string, file: string): PyResult {
  try {
    const doc = parseIni(text, file);
    return {
      sections: doc.sections.map((s) => [s.name, s.options.map((o) => [o.key, o.value] as [string, string])]),
      defaults: doc.defaults.map((o) => [o.key, o.value]),
    };
  } catch (err) {
    if (!isVdirsyncerError(err, "USER")) throw err;
    return { error: err.message };
  }
}

const dir = mkdtempSync(join(tmpdir(), "vdirsyncer-ini-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compare(texts: string[]): void {
  const cases = texts.map((text, i) => ({ text, path: join(dir, `case${i}`) }));
  const expected = runPython<PyResult[]>(READ_WITH_CONFIGPARSER, cases);
  cases.forEach((c, i) => {
    expect({ text: c.text, ...ours(c.text, c.path) }).toEqual({ text: c.text, ...expected[i] });
  });
}

describe("parseIni matches Python's RawConfigParser", () => {
  it("on hand-written edge cases", () => {
    compare([
      "",
      '[general]\nstatus_path = "~/x"\n',
      '[general]\nStatus_Path: "x"\n',
      "[Storage Foo]\nKEY = 1\n",
      "[a]\nx = [1,\n  2,\n\n  3]\n",
      "[a]\nx = [1,\n  # comment\n  2]\n",
      "[a]\nx = [1,\n\n\n",
      "[a]\nx = 1\n\n  2\n",
      '[a]\nx = "foo"  # inline\n',
      '[a]\nx = "foo" ; inline\n',
      "[a]\nx = 50%\n",
      "[a]\nx =\n",
      "[a]\nx\n",
      "[a]\n= 1\n",
      "[a]\n= 1\n= 2\n",
      "x = 1\n[a]\n",
      "# c\n[a]\n",
      "[a]\n[a]\n",
      "[a]\nx = 1\nX = 2\n",
      "[DEFAULT]\nd = 1\n[a]\nx = 2\n[b]\nd = 3\n",
      "[a]\nx = 2\n[DEFAULT]\nd = 1\n[DEFAULT]\ne = 2\n",
      "[DEFAULT]\nd = 1\n[DEFAULT]\nd = 2\n",
      "[a]b]\nk = v\n",
      "[a] trailing\nk = v\n",
      "[]\n",
      "[a]\n[]\n",
      "  [a]\n  k = v\n    c\n",
      "[a]\r\nk = v\r\n  c\r\n",
      "[a]\rk = v\r",
      "[a]\nk : v = w\n",
      "[a]\nk = v : w\n",
      "[a]\nk\u00a0= v\u00a0\n",
      "[a]\nk = v\n\u0085\n",
      "[a]\nk = v\n\t\tcont\n",
      "[a]\nk = v\nj = w\n  cont of j\n",
      "\ufeff[a]\nk = v\n",
      "[a]\nk = v\u2028w\n",
      "[a]\n  # indented comment\nk = v\n",
      "[a]\nk = 'it''s'\n",
      "[a]\nk\n=\n",
      "[a]\nİ = 1\nΣΑΣ = 2\n",
    ]);
  });

  it("on generated inputs", () => {
    const pieces = [
      "[general]",
      "[DEFAULT]",
      "[pair p]",
      "[storage s]",
      "[a]b]",
      "[]",
      "key = value",
      "Key: v",
      "k = [1,",
      "  2]",
      "  cont",
      "\tcont",
      "",
      "   ",
      "# c",
      "  ; c",
      'x = "a" # c',
      "=novalue",
      "noval",
      "k=",
      "k : v : w",
      " [indented]",
      "a\u00a0= b",
      "\u0085",
      "k = 'quote\"d'",
      "  k2 = v",
      "[Pair P]",
      "d = 1",
      "  ",
      "[x y z]",
    ];
    // A small deterministic generator, so a failure reproduces.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const texts: string[] = [];
    for (let n = 0; n < 600; n++) {
      const count = 1 + rand(9);
      // Most inputs start with a header; otherwise nearly all would stop at "no section headers".
      const lines: string[] = rand(4) ? ["[first]"] : [];
      for (let i = 0; i < count; i++) lines.push(pieces[rand(pieces.length)]!);
      const sep = ["\n", "\r\n", "\n"][rand(3)]!;
      texts.push(lines.join(sep) + (rand(2) ? sep : ""));
    }
    compare(texts);
  });
});

describe("parseIni details", () => {
  it("gives line numbers and marks [DEFAULT] keys", () => {
    const doc = parseIni("[DEFAULT]\nd = 1\n\n[a]\nx = 2\n", "f");
    expect(doc.sections).toEqual([
      {
        name: "a",
        line: 4,
        options: [
          { key: "d", value: "1", line: 2, fromDefault: true },
          { key: "x", value: "2", line: 5, fromDefault: false },
        ],
      },
    ]);
  });

  it("sets a hint on every error", () => {
    for (const text of ["x = 1\n", "[a]\n[a]\n", "[a]\nk = 1\nk = 2\n", "[a]\nnovalue\n"]) {
      try {
        parseIni(text, "/some/config");
        expect.unreachable();
      } catch (err) {
        expect(isVdirsyncerError(err, "USER")).toBe(true);
        expect((err as Error).message).toContain("/some/config");
        expect((err as { hint?: string }).hint).toBeTruthy();
      }
    }
  });
});
