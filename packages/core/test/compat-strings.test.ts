import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareCodePoints, isPyBlank, pySplitlines, pyStrip, sortByCodePoint } from "../src/compat/index.ts";

describe("pySplitlines() follows Python str.splitlines()", () => {
  it.each<[string, string[]]>([
    ["", []],
    ["a", ["a"]],
    ["a\n", ["a"]],
    ["a\n\n", ["a", ""]],
    ["\n", [""]],
    ["a\r\nb", ["a", "b"]],
    ["a\r\rb", ["a", "", "b"]],
    ["a\n\rb", ["a", "", "b"]],
    ["a\rb\nc", ["a", "b", "c"]],
    ["a\vb\fc", ["a", "b", "c"]],
    ["a\x1cb\x1dc\x1ed", ["a", "b", "c", "d"]],
    ["a\x1fb", ["a\x1fb"]],
    ["a\x85b", ["a", "b"]],
    ["a\u2028b\u2029c", ["a", "b", "c"]],
    ["a\u00a0b\ufeffc\tb", ["a\u00a0b\ufeffc\tb"]],
    [" x \r\n", [" x "]],
  ])("%j -> %j", (input, expected) => {
    expect(pySplitlines(input)).toEqual(expected);
  });
});

describe("pyStrip() follows Python str.strip()", () => {
  it.each<[string, string]>([
    ["", ""],
    ["  a b  ", "a b"],
    ["\t\n\v\f\ra\r", "a"],
    ["\x1c\x1d\x1e\x1fa\x1f", "a"],
    ["\x85a\x85", "a"],
    ["\u00a0a\u00a0", "a"],
    ["\u1680\u2000\u2005\u200aa\u2028\u2029\u202f\u205f\u3000", "a"],
    // Not Python whitespace, although JavaScript's trim() removes U+FEFF.
    ["\ufeffa\ufeff", "\ufeffa\ufeff"],
    ["\u200ba\u200b", "\u200ba\u200b"],
    ["\x00a", "\x00a"],
    ["   ", ""],
  ])("%j -> %j", (input, expected) => {
    expect(pyStrip(input)).toBe(expected);
  });

  it("isPyBlank() is true exactly when pyStrip() gives an empty string", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => isPyBlank(s) === (pyStrip(s) === "")));
  });
});

describe("compareCodePoints() sorts by code point", () => {
  it.each<[string, string, number]>([
    ["a", "b", -1],
    ["b", "a", 1],
    ["a", "a", 0],
    ["a", "ab", -1],
    // U+1F600 is stored as surrogates D83D DE00, below U+FFFD in UTF-16 order but above it as a code point.
    ["\u{1f600}", "\ufffd", 1],
    ["\ufffd", "\u{1f600}", -1],
    ["\ue000", "\u{10000}", -1],
    ["\u{10000}", "\u{10001}", -1],
    ["x\u{1f600}", "x\uffff", 1],
    ["\ud7ff", "\u{10000}", -1],
  ])("%j vs %j -> %i", (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
  });

  it("agrees with comparing arrays of code points", () => {
    const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
    const reference = (a: string, b: string) => {
      const x = codePoints(a);
      const y = codePoints(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
      return Math.sign(x.length - y.length);
    };
    const text = fc.string({
      unit: fc.constantFrom("a", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1f600}"),
    });
    fc.assert(fc.property(text, text, (a, b) => Math.sign(compareCodePoints(a, b)) === reference(a, b)));
  });

  it("sortByCodePoint() puts non-BMP characters after U+E000-U+FFFF, short and long lists alike", () => {
    const lines = ["b\u{1f600}", "b\ufffd", "a", "\u{10000}", "\uffff", "b"];
    const expected = ["a", "b", "b\ufffd", "b\u{1f600}", "\uffff", "\u{10000}"];
    expect(sortByCodePoint(lines.slice())).toEqual(expected);
    const many = Array.from({ length: 40 }, (_, i) => lines[i % lines.length]! + String(i % 3));
    const sorted = sortByCodePoint(many.slice());
    expect(sorted).toEqual(many.slice().sort(compareCodePoints));
    expect(sorted.at(-1)!.startsWith("\u{10000}")).toBe(true);
  });

  it("sortByCodePoint() sorts plain text like the default sort", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 40 }), (lines) => {
        expect(sortByCodePoint(lines.slice())).toEqual(lines.slice().sort());
      }),
    );
  });
});
