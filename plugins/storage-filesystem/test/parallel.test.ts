// Parallel calls through the host at the declared concurrency: on one vdir, and on two collections of one instance.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { createStorage, type HostedCollection, type HostedStorage } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import filesystem from "../src/index.ts";
import { collect, event, freshDir, makeContext } from "./helpers.ts";

async function host(path: string): Promise<HostedStorage> {
  const checked = await filesystem.options["~standard"].validate({ path, fileext: ".ics" });
  if (checked.issues) throw new Error("bad options");
  return createStorage(filesystem, checked.value, { instance: "fs", log: makeContext().log });
}

const N = 64;

describe("parallel calls", () => {
  it("declares more than one call at a time", () => {
    expect(filesystem.capabilities.concurrency).toBeGreaterThan(1);
  });

  it("uploads, updates and deletes on two collections of one instance at once, losing nothing", async () => {
    const root = await freshDir();
    const storage = await host(root);
    const cols: HostedCollection[] = [];
    for (const id of ["one", "two"]) cols.push(await storage.open(await storage.createCollection(id)));
    const ids = Array.from({ length: N }, (_, i) => `item-${i}`);
    const uploaded = await Promise.all(
      cols.flatMap((col, c) =>
        ids.map(async (id) => ({ c, id, ...(await col.upload!(event(id, `v1 ${c}`))) })),
      ),
    );
    const updated = await Promise.all(
      uploaded.map(async (u) => ({
        ...u,
        ...(await cols[u.c]!.update!(u.href, event(u.id, `v2 ${u.c}`), u.etag!)),
      })),
    );
    // Half are deleted while the other half are read, all at once.
    await Promise.all(
      updated.map(async (u, i) => {
        if (i % 2 === 0) await cols[u.c]!.delete!(u.href, u.etag!);
        else expect((await cols[u.c]!.get(u.href)).item.raw).toBe(event(u.id, `v2 ${u.c}`).raw);
      }),
    );
    for (const [c, id] of [
      ["one", 0],
      ["two", 1],
    ] as const) {
      const left = (await collect(cols[id]!.list())).map((r) => r.href).sort();
      expect(left).toEqual(
        ids
          .filter((_, i) => i % 2 === 1)
          .map((x) => `${x}.ics`)
          .sort(),
      );
      // No temporary file survives, and every file holds a whole item.
      const names = await readdir(join(root, c));
      expect(names.filter((n) => !n.endsWith(".ics"))).toEqual([]);
      for (const name of names)
        expect(await readFile(join(root, c, name), "utf8")).toMatch(/END:VCALENDAR\r\n$/);
    }
  });

  it("lets exactly one of several updates with the same etag win, and the file is that one", async () => {
    const storage = await host(await freshDir());
    const col = await storage.open(await storage.createCollection("c"));
    const { href, etag } = await col.upload!(event("same"));
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => col.update!(href, event("same", `writer ${i}`), etag!)),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(isVdirsyncerError(r.reason, "WRONG_ETAG")).toBe(true);
    }
    const now = await col.get(href);
    expect(now.item.raw).toBe(event("same", `writer ${won[0]}`).raw);
    expect(now.etag).toBe((results[won[0]!] as PromiseFulfilledResult<{ etag: string }>).value.etag);
  });

  it("lets exactly one of a delete and updates of one href win", async () => {
    const storage = await host(await freshDir());
    const col = await storage.open(await storage.createCollection("c"));
    const { href, etag } = await col.upload!(event("contested"));
    const results = await Promise.allSettled([
      col.delete!(href, etag!),
      col.update!(href, event("contested", "a"), etag!),
      col.update!(href, event("contested", "b"), etag!),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const listed = await collect(col.list());
    if (results[0]!.status === "fulfilled") expect(listed).toEqual([]);
    else expect(listed).toHaveLength(1);
  });

  it("stores one of several parallel uploads of one UID and refuses the others", async () => {
    const storage = await host(await freshDir());
    const col = await storage.open(await storage.createCollection("c"));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => col.upload!(event("dup", `copy ${i}`))),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(isVdirsyncerError(r.reason, "ALREADY_EXISTS")).toBe(true);
    }
    expect(await collect(col.list())).toHaveLength(1);
  });
});
