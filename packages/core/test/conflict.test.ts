import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Item } from "../src/item/item.ts";
import type { WritableCollection } from "../src/storage/contract.ts";
import { createMemoryStorage } from "../src/storage/memory.ts";
import {
  type ConflictResolution,
  checkConflictResolution,
  describeConflictResolution,
  toConflictResolver,
} from "../src/sync/conflict.ts";
import { createMemoryMetaStatus } from "../src/sync/memory-status.ts";
import { metasyncCollection } from "../src/sync/metasync.ts";

const A = new Item("BEGIN:VCARD\r\nUID:1\r\nFN:A\r\nEND:VCARD\r\n");
const B = new Item("BEGIN:VCARD\r\nUID:1\r\nFN:B\r\nEND:VCARD\r\n");
const context = { ident: "1", nameA: "local/work", nameB: "remote/work" };

const WRONG: unknown[] = [
  "a wins",
  "yolo",
  ["command", "cp"],
  () => A,
  42,
  {},
  { kind: "c wins" },
  { kind: "command" },
  { kind: "command", argv: [] },
  { kind: "command", argv: [""] },
  { kind: "command", argv: ["cp", 1] },
  { kind: "custom" },
];

describe("checkConflictResolution()", () => {
  it("accepts every kind and null/undefined", () => {
    const all: ConflictResolution[] = [
      { kind: "a wins" },
      { kind: "b wins" },
      { kind: "command", argv: ["cp", "-f"] },
      { kind: "custom", resolve: (a) => a },
    ];
    for (const r of all) expect(checkConflictResolution(r)).toBe(r);
    expect(checkConflictResolution(null)).toBeNull();
    expect(checkConflictResolution(undefined)).toBeNull();
  });

  it.each(WRONG.map((w) => [w]))("refuses %j with the one message and a hint", (wrong) => {
    let caught: unknown;
    try {
      checkConflictResolution(wrong);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      code: "USER",
      message: expect.stringMatching(/^Invalid conflict resolution: /),
    });
    expect((caught as { hint?: string }).hint).toContain('{ kind: "a wins" }');
  });

  it("never prints a command line (it may hold a secret)", () => {
    expect(() => checkConflictResolution(["command", "secret-token"])).toThrow(
      /^Invalid conflict resolution: a list\.$/,
    );
  });
});

describe("toConflictResolver()", () => {
  it("a wins, b wins and custom pick the expected item", async () => {
    expect(toConflictResolver(null)).toBeNull();
    expect(await toConflictResolver({ kind: "a wins" })!(A, B, context)).toBe(A);
    expect(await toConflictResolver({ kind: "b wins" })!(A, B, context)).toBe(B);
    const merged = new Item("BEGIN:VCARD\r\nUID:1\r\nFN:AB\r\nEND:VCARD\r\n");
    expect(await toConflictResolver({ kind: "custom", resolve: () => merged })!(A, B, context)).toBe(merged);
  });

  describe("command", () => {
    let dir: string | undefined;
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("runs the program with the two files named after the sections, ~ expanded", async () => {
      dir = await mkdtemp(join(tmpdir(), "conflict-test-"));
      const script = join(dir, "merge.sh");
      // Writes "<arg> <basename a> <basename b>" into both files, so the test sees what the program was given.
      await writeFile(
        script,
        '#!/bin/sh\nline="$1 $(basename "$2") $(basename "$3")"\necho "$line" > "$2"\necho "$line" > "$3"\n',
      );
      await chmod(script, 0o755);
      const saved = process.env.HOME;
      process.env.HOME = dir;
      try {
        const resolver = toConflictResolver({ kind: "command", argv: ["~/merge.sh", "--flag"] })!;
        expect((await resolver(A, B, context)).raw).toBe("--flag local remote\n");
        const same = await resolver(A, B, { ident: "1", nameA: "x/one", nameB: "x/two" });
        expect(same.raw).toBe("--flag x-a x-b\n");
      } finally {
        if (saved === undefined) delete process.env.HOME;
        else process.env.HOME = saved;
      }
    });
  });
});

describe("describeConflictResolution()", () => {
  it("names each kind for messages and dry runs", () => {
    expect(
      [null, { kind: "a wins" }, { kind: "b wins" }, { kind: "command", argv: ["vimdiff", "-d"] }].map((r) =>
        describeConflictResolution(r as ConflictResolution | null),
      ),
    ).toEqual(["none", "a wins", "b wins", "command vimdiff -d"]);
    expect(describeConflictResolution({ kind: "custom", resolve: (a) => a })).toBe("custom");
  });
});

describe("metasync takes the same value", () => {
  const sides = async () => {
    const a = createMemoryStorage().open(null) as WritableCollection;
    const b = createMemoryStorage().open(null) as WritableCollection;
    await a.setMeta!("color", "#000000");
    await b.setMeta!("color", "#ffffff");
    return { a: { name: "a", collection: a }, b: { name: "b", collection: b } };
  };

  it("refuses a wrong value with sync's message, before reading anything", async () => {
    for (const wrong of WRONG) {
      const { a, b } = await sides();
      const status = createMemoryMetaStatus({ color: "#000000" });
      await expect(
        metasyncCollection({ a, b, keys: ["color"], status, conflictResolution: wrong as never }),
      ).rejects.toMatchObject({
        code: "USER",
        message: expect.stringMatching(/^Invalid conflict resolution: /),
      });
      expect(await a.collection.getMeta!("color")).toBe("#000000");
      expect(await b.collection.getMeta!("color")).toBe("#ffffff");
    }
  });

  it("warns for a custom resolver, then reports the conflict", async () => {
    const { a, b } = await sides();
    const warnings: string[] = [];
    await expect(
      metasyncCollection({
        a,
        b,
        keys: ["color"],
        status: createMemoryMetaStatus(),
        conflictResolution: { kind: "custom", resolve: (x) => x },
        log: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
      }),
    ).rejects.toMatchObject({ code: "METASYNC_CONFLICT" });
    expect(warnings).toEqual(["Custom commands don't work on metasync."]);
  });
});
