import { describe, expect, it } from "vitest";
import { PythonFloat, pythonJsonDumps, pythonJsonIndent } from "../src/compat/index.ts";
import { python } from "./python.ts";

/** What Python's json.dumps prints for each value, computed by the real interpreter. */
function pythonDumps(values: unknown[], sortKeys: boolean): string[] {
  // Floats travel as {"__float__": "<digits>"} so Python rebuilds them as floats, not ints.
  const encoded = JSON.stringify(values, (_k, v) =>
    v instanceof PythonFloat ? { __float__: String(v.value) } : v,
  );
  const out = python(
    `import json,sys
def hook(d):
    return float(d["__float__"]) if set(d) == {"__float__"} else d
vals = json.loads(sys.argv[1], object_hook=hook)
print(json.dumps([json.dumps(v, sort_keys=${sortKeys ? "True" : "False"}) for v in vals]))`,
    encoded,
  );
  return JSON.parse(out) as string[];
}

describe("pythonJsonDumps", () => {
  const floats = [
    0.1,
    1.5,
    -2.25,
    1,
    0,
    100,
    1e15,
    1e16,
    1.5e16,
    123456789012345680,
    1e22,
    1e-4,
    1e-5,
    1.234e-7,
    5e-324,
    Number.MAX_VALUE,
    Math.PI,
    -1e100,
    12345.678,
  ];
  const strings = [
    "plain",
    'quote " and backslash \\',
    "tab\tnewline\ncr\rbs\bff\f",
    "\u0000\u001f\u007f",
    "é ü ß",
    "emoji 😀 and 𝄞",
    "\u2028\u2029",
    "\ud800 lone surrogate",
    "",
  ];

  it("prints floats like Python's repr", () => {
    const values = floats.map((f) => new PythonFloat(f));
    expect(values.map((v) => pythonJsonDumps(v))).toEqual(pythonDumps(values, false));
    expect(pythonJsonDumps(new PythonFloat(-0))).toBe("-0.0");
    expect(pythonJsonDumps(new PythonFloat(Number.NaN))).toBe("NaN");
    expect(pythonJsonDumps(new PythonFloat(Number.POSITIVE_INFINITY))).toBe("Infinity");
  });

  it("prints plain numbers as ints when integral and floats otherwise", () => {
    expect(pythonJsonDumps([1, -3, 0, 2 ** 60, 0.5, 10n ** 30n])).toBe(
      `[1, -3, 0, ${(2n ** 60n).toString()}, 0.5, ${(10n ** 30n).toString()}]`,
    );
  });

  it("escapes strings like ensure_ascii=True", () => {
    expect(strings.map((s) => pythonJsonDumps(s))).toEqual(pythonDumps(strings, false));
  });

  it("sorts keys by code point, recursively, with sortKeys", () => {
    const value = {
      b: 1,
      a: { z: [true, false, null], y: "x" },
      "\uffff": 1,
      "😀": 2,
      B: 3,
      "10": 4,
      "9": 5,
    };
    expect(pythonJsonDumps(value, { sortKeys: true })).toBe(pythonDumps([value], true)[0]);
  });

  it("keeps insertion order without sortKeys, and Map order exactly", () => {
    expect(pythonJsonDumps({ path: "p", collection: "c" })).toBe('{"path": "p", "collection": "c"}');
    expect(
      pythonJsonDumps(
        new Map([
          ["b", 1],
          ["1", 2],
        ]),
      ),
    ).toBe('{"b": 1, "1": 2}');
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => pythonJsonDumps(() => 1)).toThrow(TypeError);
  });
});

describe("pythonJsonIndent", () => {
  it("equals json.dumps(value, indent=2) and indent=4", () => {
    const values: unknown[] = [
      { storages: { a: { type: "filesystem", path: "~/x", read_only: true, n: 1.5, none: null } } },
      [],
      {},
      [[], {}, [1, [2, "é"]], { k: [] }],
      "plain",
      42,
    ];
    const expected = JSON.parse(
      python(
        `import json,sys
vals = json.loads(sys.argv[1])
print(json.dumps([[json.dumps(v, indent=2), json.dumps(v, indent=4)] for v in vals]))`,
        JSON.stringify(values),
      ),
    ) as [string, string][];
    expect(values.map((v) => [pythonJsonIndent(v), pythonJsonIndent(v, 4)])).toEqual(expected);
  });

  it("leaves out undefined members and prints a PythonFloat as a float", () => {
    expect(pythonJsonIndent({ a: undefined, b: new PythonFloat(1) })).toBe('{\n  "b": 1.0\n}');
  });
});
