import { isVdirsyncerError, type UserError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import {
  parseConfig,
  parseUserConfig,
  validateCollections,
  validateConflictResolution,
} from "../src/index.ts";
import { runPython } from "./python.ts";

const FILE = "/home/me/.config/vdirsyncer/config";

// Lines written flush left (the interpolated GENERAL) keep their place; the others lose the common indent.
function dedent(s: string): string {
  const lines = s.replace(/^\n/, "").split("\n");
  const indents = lines.filter((l) => /^ +\S/.test(l)).map((l) => l.match(/^ */)![0].length);
  const indent = Math.min(...indents, Number.POSITIVE_INFINITY);
  return lines.map((l) => (l.startsWith(" ") && Number.isFinite(indent) ? l.slice(indent) : l)).join("\n");
}

function read(text: string) {
  return parseConfig(dedent(text), FILE, { home: "/home/me" });
}

function readError(text: string): UserError {
  try {
    read(text);
  } catch (err) {
    if (isVdirsyncerError(err, "USER")) return err as UserError;
    throw err;
  }
  throw new Error("expected a UserError");
}

const GENERAL = '[general]\nstatus_path = "/tmp/status/"\n';

/** Asserts the error names the file, the section and (when given) the key, and says what to do. */
function expectPlace(err: UserError, section: string | undefined, key?: string): void {
  const where = err.problems[err.problems.length - 1]!;
  expect(where).toContain(FILE);
  if (section !== undefined) expect(where).toContain(`[${section}]`);
  if (key !== undefined) expect(where).toContain(`key "${key}"`);
  expect(err.hint).toBeTruthy();
  expect(err.hint).not.toContain("\n");
}

describe("ported from vdirsyncer tests/system/cli/test_config.py", () => {
  it("test_read_config: values are JSON, instance_name is injected", () => {
    const c = read(`
      [general]
      status_path = "/tmp/status/"

      [pair bob]
      a = "bob_a"
      b = "bob_b"
      collections = null

      [storage bob_a]
      type = "filesystem"
      path = "/tmp/contacts/"
      fileext = ".vcf"
      yesno = false
      number = 42

      [storage bob_b]
      type = "carddav"
    `);
    expect(c.statusPath).toBe("/tmp/status");
    expect([...c.pairs.keys()]).toEqual(["bob"]);
    expect(c.pairs.get("bob")!.collections).toBeNull();
    expect(Object.fromEntries([...c.storages].map(([k, s]) => [k, s.raw]))).toEqual({
      bob_a: {
        type: "filesystem",
        path: "/tmp/contacts/",
        fileext: ".vcf",
        yesno: false,
        number: 42,
        instance_name: "bob_a",
      },
      bob_b: { type: "carddav", instance_name: "bob_b" },
    });
    const a = c.storages.get("bob_a")!;
    expect(a.options).toEqual({ path: "/tmp/contacts/", fileext: ".vcf", yesno: false, number: 42 });
    expect(a.type).toBe("filesystem");
    expect(a.source).toMatchObject({ file: FILE, section: "storage bob_a", line: 9, lines: { path: 11 } });
  });

  it("test_missing_collections_param", () => {
    const err = readError(`${GENERAL}
      [pair bob]
      a = "bob_a"
      b = "bob_b"

      [storage bob_a]
      type = "lmao"

      [storage bob_b]
      type = "lmao"
    `);
    expect(err.message).toBe(
      "Pair bob: collections parameter missing.\n\nAs of 0.9.0 this parameter has no default anymore. Set `collections = null` explicitly in your pair config.",
    );
    expectPlace(err, "pair bob");
  });

  it("test_invalid_section_type", () => {
    const err = readError(`${GENERAL}\n[bogus]\n`);
    expect(err.message).toBe('Section "bogus": Unknown section type.');
    expectPlace(err, "bogus");
  });

  it("test_missing_general_section", () => {
    const err = readError(`
      [pair my_pair]
      a = "my_a"
      b = "my_b"
      collections = null

      [storage my_a]
      type = "filesystem"
      path = "/tmp/path_a/"
      fileext = ".txt"
    `);
    expect(err.message).toBe(
      "Invalid general section. Copy the example config from the repository and edit it: https://github.com/pimutils/vdirsyncer",
    );
    expect(err.problems.slice(0, -1)).toEqual(["general section is missing the parameters: status_path"]);
    expectPlace(err, undefined);
  });

  it("test_wrong_general_section", () => {
    const err = readError("[general]\nwrong = true\n");
    expect(err.message).toContain("Invalid general section.");
    expect(err.problems.slice(0, -1)).toEqual([
      "general section doesn't take the parameters: wrong",
      "general section is missing the parameters: status_path",
    ]);
    expectPlace(err, "general");
  });

  it("test_invalid_storage_name", () => {
    const err = readError(`${GENERAL}\n[storage foo.bar]\n`);
    expect(err.message).toBe(
      'Section "storage foo.bar": The storage-section "foo.bar" contains invalid characters. Only the following characters are allowed for storage and pair names:\n0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
    );
    expectPlace(err, "storage foo.bar");
  });

  it("test_invalid_collections_arg", () => {
    const err = readError(`${GENERAL}
      [pair foobar]
      a = "foo"
      b = "bar"
      collections = [null]
    `);
    expect(err.message).toBe(
      "Pair foobar: `collections` parameter, position 0: Expected string or list of three strings.",
    );
    expectPlace(err, "pair foobar", "collections");
  });

  it("test_duplicate_sections: a name is unique across pairs and storages", () => {
    const err = readError(`${GENERAL}
      [pair foobar]
      a = "foobar"
      b = "bar"
      collections = null

      [storage foobar]
      type = "filesystem"
    `);
    expect(err.message).toBe('Section "storage foobar": Name "foobar" already used.');
    expectPlace(err, "storage foobar");
  });

  it("test_validate_collections_param", () => {
    const ok = [null, ["c", "a", "b"], [["c", null, "b"]], [["c", "a", null]], [["c", null, null]]];
    for (const v of ok) expect(validateCollections(v, "here")).toEqual(v);
    for (const v of [[null], ["a", "a", "a"], [[null, "a", "b"]]]) {
      expect(() => validateCollections(v, "here")).toThrow(/`collections` parameter, position \d: /);
    }
  });

  it("test_invalid_implicit_value", () => {
    const err = readError(`${GENERAL}
      [pair my_pair]
      a = "my_a"
      b = "my_b"
      collections = null
      implicit = "invalid"
    `);
    expect(err.message).toBe("Pair my_pair: `implicit` parameter must be 'create' or absent.");
    expectPlace(err, "pair my_pair", "implicit");
  });

  it("test_implicit_create_only", () => {
    const c = read(`${GENERAL}
      [pair my_pair]
      a = "my_a"
      b = "my_b"
      collections = ["from a", "from b"]
      implicit = "create"
    `);
    expect(c.pairs.get("my_pair")).toMatchObject({ implicitCreate: true, collections: ["from a", "from b"] });
  });
});

describe("every config error names file, section and key", () => {
  const cases: [string, string, RegExp | string, string, string?][] = [
    // [description, config (after [general]), message, section, key]
    [
      "inline comment",
      '[storage s]\ntype = "filesystem"  # the type\n',
      /^Section "storage s": Section "storage s", option "type": /,
      "storage s",
      "type",
    ],
    [
      "unquoted text",
      "[storage s]\ntype = filesystem\n",
      /^Section "storage s": Section "storage s", option "type": Invalid JSON/,
      "storage s",
      "type",
    ],
    ["empty value", "[storage s]\ntype =\n", /option "type": Expecting value/, "storage s", "type"],
    ["invalid pair name", "[pair a-b]\n", /The pair-section "a-b" contains invalid characters/, "pair a-b"],
    [
      "duplicate name",
      '[storage x]\ntype = "filesystem"\n[pair x]\n',
      'Section "pair x": Name "x" already used.',
      "pair x",
    ],
    ["second general", "[general x]\n", 'Section "general x": More than one general section.', "general x"],
    ["unknown type", "[storages s]\n", 'Section "storages s": Unknown section type.', "storages s"],
    ["missing a", '[pair p]\nb = "x"\ncollections = null\n', "Pair p: `a` parameter missing.", "pair p"],
    [
      "a not a string",
      '[pair p]\na = 1\nb = "x"\ncollections = null\n',
      /^Pair p: Invalid value for `a`/,
      "pair p",
      "a",
    ],
    [
      "conflict_resolution",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\nconflict_resolution = "c wins"\n',
      "Pair p: Invalid value for `conflict_resolution`.",
      "pair p",
      "conflict_resolution",
    ],
    [
      "conflict_resolution command alone",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\nconflict_resolution = ["command"]\n',
      "Pair p: Invalid value for `conflict_resolution`.",
      "pair p",
      "conflict_resolution",
    ],
    [
      "partial_sync",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\npartial_sync = "maybe"\n',
      "Pair p: Invalid value for `partial_sync`.",
      "pair p",
      "partial_sync",
    ],
    [
      "metadata",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\nmetadata = "color"\n',
      /^Pair p: Invalid value for `metadata`/,
      "pair p",
      "metadata",
    ],
    [
      "unknown pair option",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\nfoo = 1\nbar = 2\n',
      "Pair p: Unknown options: foo, bar",
      "pair p",
      "foo",
    ],
    [
      ".fetch in a pair",
      '[pair p]\na = "x"\nb = "y"\ncollections = null\na.fetch = ["prompt", "a"]\n',
      "Pair p: Unknown options: a.fetch",
      "pair p",
      "a.fetch",
    ],
    [
      "collections not a list",
      '[pair p]\na = "x"\nb = "y"\ncollections = "from a"\n',
      "Pair p: `collections` parameter must be a list or `null`.",
      "pair p",
      "collections",
    ],
    [
      "collections duplicate",
      '[pair p]\na = "x"\nb = "y"\ncollections = ["c", ["c", "a", "b"]]\n',
      "Pair p: `collections` parameter, position 1: Duplicate value.",
      "pair p",
      "collections",
    ],
    [
      "collections bad triple",
      '[pair p]\na = "x"\nb = "y"\ncollections = [["c", "a"]]\n',
      'Pair p: `collections` parameter, position 0: Expected list of format ["config_name", "storage_a_name", "storage_b_name"]',
      "pair p",
      "collections",
    ],
    [
      "fetch not a list",
      '[storage s]\ntype = "filesystem"\npassword.fetch = "hunter2"\n',
      "Invalid value for password.fetch: Expected a list, found a string.",
      "storage s",
      "password.fetch",
    ],
    [
      "fetch empty",
      '[storage s]\ntype = "filesystem"\npassword.fetch = []\n',
      "Expected list of length > 0.",
      "storage s",
      "password.fetch",
    ],
    [
      "fetch unknown strategy",
      '[storage s]\ntype = "filesystem"\npassword.fetch = ["unreal", "asdf"]\n',
      "Unknown strategy: unreal",
      "storage s",
      "password.fetch",
    ],
    [
      "fetch non-string",
      '[storage s]\ntype = "filesystem"\npassword.fetch = ["command", 1]\n',
      /^Invalid value for password.fetch: /,
      "storage s",
      "password.fetch",
    ],
    [
      "fetch prompt arity",
      '[storage s]\ntype = "filesystem"\npassword.fetch = ["prompt"]\n',
      /^Invalid value for password.fetch: "prompt" takes exactly one/,
      "storage s",
      "password.fetch",
    ],
    [
      "fetch and plain",
      '[storage s]\ntype = "filesystem"\npassword = "x"\npassword.fetch = ["prompt", "p"]\n',
      "Can't set password.fetch and password.",
      "storage s",
      "password.fetch",
    ],
    ["missing type", '[storage s]\npath = "x"\n', "Storage s: `type` parameter missing.", "storage s"],
    [
      "type not a string",
      "[storage s]\ntype = 1\n",
      /^Storage s: Invalid value for `type`/,
      "storage s",
      "type",
    ],
    [
      "read_only not a boolean",
      '[storage s]\ntype = "http"\nread_only = "yes"\n',
      /^Storage s: Invalid value for `read_only`/,
      "storage s",
      "read_only",
    ],
    [
      "no_delete not a boolean",
      '[storage s]\ntype = "http"\nno_delete = 1\n',
      /^Storage s: Invalid value for `no_delete`/,
      "storage s",
      "no_delete",
    ],
  ];
  for (const [what, body, message, section, key] of cases) {
    it(what, () => {
      const err = readError(`${GENERAL}\n${body}`);
      if (typeof message === "string") expect(err.message).toBe(message);
      else expect(err.message).toMatch(message);
      expectPlace(err, section, key);
    });
  }

  it("status_path must be a string", () => {
    const err = readError("[general]\nstatus_path = 1\n");
    expect(err.message).toMatch(/status_path/);
    expectPlace(err, "general", "status_path");
  });

  it("hints at the inline comment, and never repeats an unquoted value (it may be a password)", () => {
    expect(readError('[general]\nstatus_path = "x" # where\n').hint).toMatch(
      /Inline comments are not supported/,
    );
    const err = readError(`${GENERAL}[storage s]\ntype = "caldav"\npassword = hunter2\n`);
    expect(`${err.message} ${err.hint} ${err.problems.join(" ")}`).not.toContain("hunter2");
    expect(err.hint).toMatch(/double quotes/);
  });

  it("INI syntax errors name the file and line", () => {
    const err = readError(`${GENERAL}[pair p]\n[pair p]\n`);
    expect(err.message).toBe(`While reading from '${FILE}' [line  4]: section 'pair p' already exists`);
  });
});

describe("semantics", () => {
  it("resolves status_path against the config file's directory, after ~ expansion and normalisation", () => {
    expect(read('[general]\nstatus_path = "~/status/"\n').statusPath).toBe("/home/me/status");
    expect(read('[general]\nstatus_path = "status//x/../y/"\n').statusPath).toBe(
      "/home/me/.config/vdirsyncer/status/y",
    );
    expect(parseConfig('[general]\nstatus_path = "st/"\n', "config").statusPath).toBe("st");
    expect(parseConfig('[general]\nstatus_path = "st/"\n').statusPath).toBe("st");
  });

  it("reads pairs and storages with defaults and fetch params", () => {
    const c = read(`${GENERAL}
      [pair p]
      a = "x"
      b = "y"
      collections = ["from a", ["work", "Work", null]]
      conflict_resolution = ["command", "vimdiff"]
      partial_sync = "ignore"
      metadata = ["color"]

      [pair q]
      a = "x"
      b = "y"
      collections = null

      [storage x]
      type = "filesystem/icalendar"
      path = "~/cal"
      fileext = ".ics"
      read_only = true

      [storage y]
      type = "caldav"
      url = "https://example.com/"
      username = "bob"
      password.fetch = ["command", "pass", "show", "dav"]
    `);
    expect(c.pairs.get("p")).toMatchObject({
      a: "x",
      b: "y",
      collections: ["from a", ["work", "Work", null]],
      conflictResolution: { kind: "command", argv: ["vimdiff"] },
      partialSync: "ignore",
      partialSyncSet: true,
      metadata: ["color"],
      implicitCreate: false,
    });
    expect(c.pairs.get("q")).toMatchObject({
      conflictResolution: null,
      partialSync: "revert",
      partialSyncSet: false,
      metadata: [],
    });
    expect(c.storages.get("x")).toMatchObject({
      type: "filesystem/icalendar",
      readOnly: true,
      noDelete: false,
      options: { path: "~/cal", fileext: ".ics" },
    });
    const y = c.storages.get("y")!;
    expect(y.options).toEqual({ url: "https://example.com/", username: "bob" });
    expect(y.fetch).toEqual({ password: ["command", "pass", "show", "dav"] });
    expect(y.raw).toEqual({
      type: "caldav",
      url: "https://example.com/",
      username: "bob",
      "password.fetch": ["command", "pass", "show", "dav"],
      instance_name: "y",
    });
  });

  it("injects [DEFAULT] keys into every section (a vdirsyncer quirk)", () => {
    const err = readError('[DEFAULT]\nfoo = 1\n[general]\nstatus_path = "x"\n');
    expect(err.problems[0]).toBe("general section doesn't take the parameters: foo");
  });

  it("accepts a JSON list spread over indented lines with blank lines and comments", () => {
    const c = read(`${GENERAL}
      [pair p]
      a = "x"
      b = "y"
      collections = [
          "one",

          # a comment
          "two"
        ]
    `);
    expect(c.pairs.get("p")!.collections).toEqual(["one", "two"]);
  });
});

// The same texts through vdirsyncer's own Config.from_fileobject: accepted/rejected must agree, and messages
// must be equal wherever vdirsyncer 0.19 has one (its JSON error text differs from ours on purpose).
const READ_WITH_VDIRSYNCER = `
import io, json, sys
from vdirsyncer.cli.config import Config
from vdirsyncer import exceptions
out = []
for text in json.load(sys.stdin):
    try:
        c = Config.from_fileobject(io.StringIO(text))
        out.append({"ok": True, "storages": c.storages, "pairs": sorted(c.pairs)})
    except exceptions.UserError as e:
        out.append({"ok": False, "message": e.args[0], "problems": e.problems or []})
print(json.dumps(out))
`;

describe("agrees with vdirsyncer's Config on the same files", () => {
  const texts = [
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = null\n[storage x]\ntype = "filesystem"\npath = "/p"\nfileext = ".ics"\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\n`,
    `${GENERAL}[bogus]\n`,
    `[general]\nwrong = true\n`,
    `[storage s]\ntype = "x"\n`,
    `${GENERAL}[storage foo.bar]\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = [null]\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = ["a", "a"]\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = [["a", 1, "b"]]\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = 5\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = null\nconflict_resolution = "x"\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = null\nfoo = 1\n`,
    `${GENERAL}[pair foobar]\na = "x"\nb = "y"\ncollections = null\n[storage foobar]\ntype = "x"\n`,
    `[general]\nstatus_path = "a"\n[general x]\n`,
    `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = null\n[storage x]\ntype = "filesystem"\npassword.fetch = ["command", "x"]\n`,
  ];
  it("on accepted and rejected configs", () => {
    const expected = runPython<
      { ok: boolean; message?: string; problems?: string[]; storages?: unknown; pairs?: string[] }[]
    >(READ_WITH_VDIRSYNCER, texts);
    texts.forEach((text, i) => {
      const want = expected[i]!;
      let got: typeof want;
      try {
        const c = parseConfig(text);
        got = {
          ok: true,
          storages: Object.fromEntries([...c.storages].map(([k, s]) => [k, s.raw])),
          pairs: [...c.pairs.keys()].sort(),
        };
      } catch (err) {
        const e = err as UserError;
        got = { ok: false, message: e.message, problems: e.problems.slice(0, -1) };
      }
      expect({ text, ...got }).toEqual({ text, ...want });
    });
  });
});

describe("conflict_resolution becomes the engine's value, once", () => {
  const pair = (value: string) =>
    parseConfig(
      `${GENERAL}[pair p]\na = "x"\nb = "y"\ncollections = null\nconflict_resolution = ${value}\n`,
      FILE,
    ).pairs.get("p")!.conflictResolution;

  it("for every accepted form, from INI and from a config object alike", () => {
    expect(pair("null")).toBeNull();
    expect(pair('"a wins"')).toEqual({ kind: "a wins" });
    expect(pair('"b wins"')).toEqual({ kind: "b wins" });
    expect(pair('["command", "~/bin/merge", "--auto"]')).toEqual({
      kind: "command",
      argv: ["~/bin/merge", "--auto"],
    });
    const fromObject = parseUserConfig({
      general: { status_path: "/s" },
      pairs: { p: { a: "x", b: "y", collections: null, conflict_resolution: ["command", "meld"] } },
    }).pairs.get("p")!;
    expect(fromObject.conflictResolution).toEqual({ kind: "command", argv: ["meld"] });
  });

  it.each([
    ['"c wins"', /^"c wins" is none of the accepted values\. Use null/],
    ['"A wins"', /^"A wins" is none of the accepted values/],
    ["true", /^Use null, "a wins", "b wins"/],
    ['["command"]', /^Name the program after "command"/],
    ['["command", ""]', /^Name the program after "command"/],
    ['["command", "meld", 1]', /^Write every part of the command as a string/],
    ['["shell", "x"]', /^Use null, "a wins", "b wins"/],
  ])("refuses %s with vdirsyncer's message and a hint saying what is wrong", (value, hint) => {
    let caught: UserError | undefined;
    try {
      pair(value);
    } catch (err) {
      caught = err as UserError;
    }
    expect(caught?.message).toBe("Pair p: Invalid value for `conflict_resolution`.");
    expect(caught?.hint).toMatch(hint);
    expect(caught?.problems).toEqual([`in ${FILE}, line 7, section [pair p], key "conflict_resolution"`]);
  });

  it("never repeats a command line in the error (it may hold a secret)", () => {
    expect(() => validateConflictResolution(["command", "tool", 7, "--token=s3cret"], "here")).toThrow(
      expect.objectContaining({ hint: expect.not.stringContaining("s3cret") }),
    );
  });
});
