import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { general, type World, world } from "./helpers.ts";

function storageFoo(w: World): void {
  w.writeConfig(`${general(w.root)}
[storage foo]
type = "filesystem"
path = "{root}/foo/"
fileext = ".txt"
`);
  w.write("foo/.keep", "");
}

describe("repair", () => {
  test("warns, asks, repairs a missing UID and names an item beyond repair", async () => {
    const w = world();
    storageFoo(w);
    const empty = await w.run(["repair", "foo"], { stdin: "y\n" });
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain(
      "warning: This operation will take a very long time.\nwarning: It's recommended to make a backup and turn off other client's synchronization features.\nDo you want to continue? [y/N]: ",
    );
    w.write("foo/item.txt", "BEGIN:VCARD\nEND:VCARD");
    w.write("foo/toobroken.txt", "");
    const r = await w.run(["repair", "foo"], { stdin: "y\n" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Repairing foo\n");
    expect(r.stderr).toContain("No UID");
    expect(r.stderr).toContain("'toobroken.txt' is malformed beyond repair");
    const files = readdirSync(join(w.root, "foo")).filter((f) => f !== ".keep" && !f.includes("toobroken"));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(w.root, "foo", files[0] as string), "utf8")).toContain("UID:");
  });

  test("a no at the prompt aborts with exit code 1 and changes nothing", async () => {
    const w = world();
    storageFoo(w);
    w.write("foo/item.txt", "BEGIN:VCARD\nEND:VCARD");
    const r = await w.run(["repair", "foo"], { stdin: "n\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("Repairing");
    expect(w.read("foo/item.txt")).toBe("BEGIN:VCARD\nEND:VCARD");
  });

  test.each([
    [[], false],
    [["--no-repair-unsafe-uid"], false],
    [["--repair-unsafe-uid"], true],
  ])("an unsafe UID with %j", async (flags, repaired) => {
    const w = world();
    storageFoo(w);
    const original = "BEGIN:VCARD\nUID:!!!!!\nEND:VCARD";
    w.write("foo/baduid.txt", original);
    const r = await w.run(["repair", ...flags, "foo"], { stdin: "y\n" });
    expect(r.code).toBe(0);
    const files = readdirSync(join(w.root, "foo")).filter((f) => f !== ".keep");
    if (repaired) {
      expect(r.stderr).toContain("UID or href is unsafe, assigning random UID");
      expect(files).not.toContain("baduid.txt");
      expect(files).toHaveLength(1);
      const text = readFileSync(join(w.root, "foo", files[0] as string), "utf8");
      expect(text.startsWith("BEGIN:VCARD")).toBe(true);
      expect(text).not.toBe(original);
      // The old version is in the trash.
      expect(w.files("status/.trash").some((f) => f.endsWith(".vcf"))).toBe(true);
    } else {
      expect(r.stderr).toContain("UID may cause problems, add --repair-unsafe-uid to repair.");
      expect(w.read("foo/baduid.txt")).toBe(original);
    }
  });

  test("STORAGE/COLLECTION discovers the collection, and an unknown one is an error", async () => {
    const w = world();
    storageFoo(w);
    w.write("foo/work/item.txt", "BEGIN:VCARD\nEND:VCARD");
    const r = await w.run(["repair", "foo/work"], { stdin: "y\n" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Discovering collections (skipping cache).\n");
    expect(r.stderr).toContain("Repairing foo/work\n");
    expect(readdirSync(join(w.root, "foo/work"))).toHaveLength(1);
    const missing = await w.run(["repair", "foo/nope"], { stdin: "y\n" });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("critical: Couldn't find collection nope for storage foo.\n");
  });

  test("an unknown storage", async () => {
    const w = world();
    storageFoo(w);
    const r = await w.run(["repair", "bar"], { stdin: "y\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "critical: Storage 'bar' not found. These are the configured storages: ['foo']\n",
    );
  });
});
