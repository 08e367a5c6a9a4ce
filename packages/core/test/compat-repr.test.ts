import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PythonFloat, pyRepr, pyReprString } from "../src/compat/index.ts";
import { runPython } from "./python.ts";

// Lone surrogates travel as \\udfff escapes both ways, which each side reads back as the same lone code unit.
const PYTHON_REPR_LIST = `
import json, sys
print(json.dumps([repr(s) for s in json.load(sys.stdin)], ensure_ascii=True))
`;

describe("pyReprString() equals Python's repr() of a str", () => {
  it("on quotes, escapes and unprintable characters", () => {
    const strings = [
      "",
      "plain",
      "it's",
      'say "hi"',
      `both ' and "`,
      "back\\slash",
      "tab\tnew\nline\rcr",
      "\u0000\u001f\u007f\u0085\u00a0\u00ad",
      "\u2028\u3000 space",
      "é€😀",
      "\udfff lone",
      "\u{e0001}",
    ];
    // Random text stays below U+0300: which characters further up are printable depends on the Unicode version
    // of the Python and the Node at hand, and the two differ.
    const unit = fc.integer({ min: 0, max: 0x2ff }).map((c) => String.fromCharCode(c));
    const random = fc.sample(fc.string({ unit, maxLength: 12 }), { numRuns: 300, seed: 7 });
    const all = [...strings, ...random];
    expect(all.map(pyReprString)).toEqual(runPython<string[]>(PYTHON_REPR_LIST, all));
  });
});

describe("pyRepr() equals Python's repr() of the value json.loads gives", () => {
  it("for every JSON type, nested", () => {
    const values: unknown[] = [
      true,
      false,
      null,
      0,
      -3,

      1.5,
      1e-7,

      "a'b",
      ["a", null, 1, [true]],
      { k: "v", n: [1, 2.5], nested: { x: null } },
      [],
      {},
    ];
    const expected = runPython<string[]>(
      "import json, sys\nprint(json.dumps([repr(v) for v in json.load(sys.stdin)]))",
      values,
    );
    expect(values.map(pyRepr)).toEqual(expected);
  });

  it("prints undefined as None, a PythonFloat as a float and the special floats as Python does", () => {
    expect(pyRepr(undefined)).toBe("None");
    expect(pyRepr(new PythonFloat(2))).toBe("2.0");
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(pyRepr)).toEqual([
      "nan",
      "inf",
      "-inf",
    ]);
    expect(pyRepr([null, "x"])).toBe("[None, 'x']");
  });
});
