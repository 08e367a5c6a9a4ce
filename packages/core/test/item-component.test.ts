import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isVdirsyncerError } from "../src/errors.ts";
import { Component, ParseError } from "../src/item/component.ts";

const parseError = (input: string | string[], multiple = false): ParseError => {
  try {
    Component.parse(input, multiple);
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  throw new Error("expected a ParseError");
};

describe("Component.parse()", () => {
  it("accepts a list of lines or a string (test_input_types)", () => {
    const lines = ["BEGIN:FOO", "FOO:BAR", "END:FOO"];
    for (const input of [lines, lines.join("\r\n"), lines.join("\n")]) {
      const [c] = Component.parse(input);
      expect(c!.name).toBe("FOO");
      expect(c!.props).toEqual(["FOO:BAR"]);
      expect(c!.subcomponents).toEqual([]);
    }
  });

  it.each<[string, string | string[], string, number | undefined]>([
    ["a stray END (test_broken_item)", "END:FOO", "Parsing error at line 1", 1],
    ["a property outside any component", "BEGIN:A\nEND:A\nX:1", "Parsing error at line 3", 3],
    [
      "a mismatched END (test_mismatched_end)",
      ["BEGIN:FOO", "END:BAR"],
      "Got END:BAR, expected END:FOO at line 2",
      2,
    ],
    [
      "a missing END (test_missing_end)",
      ["BEGIN:FOO", "BEGIN:BAR", "END:BAR"],
      "Missing END for component(s): FOO",
      undefined,
    ],
    ["several missing ENDs", "BEGIN:A\nBEGIN:b\n", "Missing END for component(s): A, B", undefined],
    [
      "two components (test_multiple_items)",
      ["BEGIN:FOO", "END:FOO", "BEGIN:FOO", "END:FOO"],
      "Found 2 components, expected one.",
      undefined,
    ],
    ["nothing", "", "Found 0 components, expected one.", undefined],
    ["a BOM before BEGIN", "\ufeffBEGIN:A\nEND:A", "Parsing error at line 1", 1],
  ])("rejects %s", (_name, input, message, line) => {
    const err = parseError(input);
    expect(err.message).toBe(message);
    expect(err.line).toBe(line);
    expect(err.name).toBe("ParseError");
    expect(isVdirsyncerError(err, "ITEM_INVALID")).toBe(true);
  });

  it("returns every top-level component with multiple", () => {
    const [c1, c2, ...rest] = Component.parse(["BEGIN:FOO", "END:FOO", "BEGIN:FOO", "END:FOO"], true);
    expect(rest).toEqual([]);
    expect(c1!.name).toBe("FOO");
    expect(c2!.name).toBe("FOO");
    expect(Component.parse("", true)).toEqual([]);
  });

  it("normalises names, drops blank lines, keeps folding and lines after subcomponents", () => {
    const c = Component.parseOne(
      "BEGIN:vcalendar \r\n\r\nA:1\r\n  folded\r\n\u3000\r\nBEGIN:x\r\nEND:X \r\nB:2\r\nEND:VCALENDAR",
    );
    expect(c.name).toBe("VCALENDAR");
    expect(c.props).toEqual(["A:1", "  folded", "B:2"]);
    expect(c.subcomponents.map((s) => s.name)).toEqual(["X"]);
    expect(c.toLines()).toEqual([
      "BEGIN:VCALENDAR",
      "A:1",
      "  folded",
      "B:2",
      "BEGIN:X",
      "END:X",
      "END:VCALENDAR",
    ]);
    expect(c.toString()).toBe(
      "BEGIN:VCALENDAR\r\nA:1\r\n  folded\r\nB:2\r\nBEGIN:X\r\nEND:X\r\nEND:VCALENDAR",
    );
  });

  it("BEGIN and END are case-sensitive prefixes", () => {
    expect(parseError("begin:A\nEND:A").message).toBe("Parsing error at line 1");
    expect(Component.parseOne("BEGIN:A\nend:A\nEND:A").props).toEqual(["end:A"]);
  });
});

describe("Component properties", () => {
  it.each<[string[], string, string | undefined]>([
    [["FOO:YES"], "FOO", "YES"],
    [["FOO;A=1;B=2:YES"], "FOO", "YES"],
    [["FOO;A=1"], "FOO", "A=1"],
    [["FOOBAR:1", "FOO:2"], "FOO", "2"],
    [["FOO:a", " b", "\tc", "X:d"], "FOO", "abc"],
    [["FOO:a", "", " b"], "FOO", "a"],
    [["foo:1"], "FOO", undefined],
    [[], "FOO", undefined],
  ])("get() on %j for %s", (props, key, value) => {
    const c = new Component("X", props);
    expect(c.get(key)).toBe(value);
    expect(c.has(key)).toBe(value !== undefined);
  });

  it("has() answers for property names (test_component_contains)", () => {
    const c = Component.parseOne(["BEGIN:FOO", "FOO:YES", "END:FOO"]);
    expect(c.has("FOO")).toBe(true);
    expect(c.has("BAZ")).toBe(false);
  });

  it.each<[string[], string, string[]]>([
    [["A:1", "B:2"], "A", ["B:2"]],
    [["A;X=1:1", " cont", "\tcont", "B:2", "A:3"], "A", ["B:2"]],
    [["A:1", "A:2", "A;P=1:3", "B:2"], "A", ["B:2"]],
    [["A:1", "", " x"], "A", ["", " x"]],
    [["AB:1", "a:1"], "A", ["AB:1", "a:1"]],
    [["B:1", " cont"], "A", ["B:1", " cont"]],
  ])("delete() on %j for %s", (props, key, expected) => {
    const c = new Component("X", props);
    c.delete(key);
    expect(c.props).toEqual(expected);
  });

  it("set() replaces every line of the key and appends one", () => {
    const c = new Component("X", ["A:1", " more", "B:2", "A:3"]);
    c.set("A", "new");
    expect(c.props).toEqual(["B:2", "A:new"]);
    expect(() => c.set("A", "x\ny")).toThrow("The value of A cannot contain a line break.");
  });

  it("dupe consecutive keys (test_dupe_consecutive_keys)", () => {
    const c = Component.parseOne(["BEGIN:FOO", "FOO:YES", "END:FOO"]);
    c.props.unshift("0;:0");
    c.props.unshift("0;:0");
    c.set("0", "1");
    expect(c.get("0")).toBe("1");
    expect(c.props).toEqual(["FOO:YES", "0:1"]);
    expect(Component.parseOne(c.toLines()).equals(c)).toBe(true);
  });
});

// vdirsyncer's VobjectMachine, as a property test: random property edits and nesting, then dump and parse.
describe("parse/serialise round trip (VobjectMachine)", () => {
  const uidLike = fc
    .string({ unit: "grapheme", minLength: 1 })
    .filter((s) => !/[\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cs}]/u.test(s) && s.trim() === s);
  // Keys that would be read as BEGIN/END lines or continuation lines are not property keys.
  const key = uidLike.filter((s) => !s.startsWith("BEGIN") && !s.startsWith("END") && !/[:;]/.test(s));
  const param = uidLike.filter((s) => !/[:=]/.test(s));
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), key, value: uidLike }),
    fc.record({
      kind: fc.constant("raw" as const),
      key,
      value: uidLike,
      params: fc.array(fc.tuple(param, param), { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant("nest" as const), name: fc.constantFrom("VEVENT", "VTODO", "X-FOO") }),
  );

  it("set/get agree and the tree survives a round trip", () => {
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 12 }), fc.boolean(), (edits, joined) => {
        const base = ["BEGIN:FOO", "FOO:YES", "END:FOO"];
        const root = Component.parseOne(joined ? base.join("\r\n") : base);
        let current = root;
        for (const e of edits) {
          if (e.kind === "set") {
            current.set(e.key, e.value);
            expect(current.get(e.key)).toBe(e.value);
            expect(current.has(e.key)).toBe(true);
            expect(current.toString()).toContain(`${e.key}:${e.value}`);
          } else if (e.kind === "raw") {
            const params = e.params.map(([k, v]) => `${k}=${v}`).join(",");
            current.props.unshift(`${e.key};${params}:${e.value}`);
            expect(current.get(e.key)).toBe(e.value);
          } else {
            const child = new Component(e.name);
            current.subcomponents.push(child);
            expect(root.toString()).toContain(child.toString());
            current = child;
          }
          const reparsed = Component.parseOne(root.toLines());
          expect(reparsed.equals(root)).toBe(true);
          expect(Component.parseOne(root.toString()).equals(root)).toBe(true);
        }
      }),
    );
  });
});
