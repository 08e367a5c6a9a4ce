import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Item } from "@vdirsyncer/core";
import { createStorage } from "@vdirsyncer/core/engine";
import { freshDir, makeEvent } from "@vdirsyncer/storage-test-suite";
import { describe, expect, test } from "vitest";
import json from "../src/index.ts";

const log = { debug() {}, info() {}, warn() {}, error() {} };

async function hosted(path: string) {
  return createStorage(json, { path }, { instance: "cal", log });
}

describe("the json file", () => {
  test("a corrupt file is an error naming the file, and no write touches it", async () => {
    const path = join(await freshDir(), "calendar.json");
    await writeFile(path, '{"items": {"a": ');
    const col = await (await hosted(path)).open(null);
    const error = await col.upload!(makeEvent()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", context: { location: path } });
    expect((error as Error).message).toContain(path);
    expect((error as { hint: string }).hint).toContain("did not write");
    await expect(col.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: "INVALID_RESPONSE",
    });
    expect(await readFile(path, "utf8")).toBe('{"items": {"a": ');
  });

  test("a file of other JSON is refused the same way", async () => {
    const path = join(await freshDir(), "calendar.json");
    await writeFile(path, JSON.stringify({ items: { a: "not an entry" } }));
    const col = await (await hosted(path)).open(null);
    await expect(col.get("a")).rejects.toMatchObject({ code: "INVALID_RESPONSE" });
  });

  test("50 uploads at once through the host all land in the file", async () => {
    const path = join(await freshDir(), "calendar.json");
    const storage = await hosted(path);
    await storage.createCollection(null);
    const col = await storage.open(null);
    const items = Array.from({ length: 50 }, () => makeEvent());
    await Promise.all(items.map((item) => col.upload!(item)));
    const stored = JSON.parse(await readFile(path, "utf8")) as { items: Record<string, { raw: string }> };
    expect(Object.keys(stored.items).sort()).toEqual(items.map((i) => i.ident).sort());
    expect(new Item(stored.items[items[0]!.ident]!.raw).hash).toBe(items[0]!.hash);
  });
});
