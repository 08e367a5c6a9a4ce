/**
 * The status directory the real vdirsyncer 0.19 wrote (test/fixtures/make-vdirsyncer-fixture.sh), read through
 * our code: rows, hashes against the committed vdir files, etag shapes, and the discovery cache byte for byte.
 */
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Item } from "@vdirsyncer/core";
import type { StatusRow } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import { discoveryCacheKey, readDiscoveryCache, writeDiscoveryCache } from "../src/discovery-cache.ts";
import { openCollectionStatus } from "../src/open-status.ts";
import { tempDir } from "./helpers.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "vdirsyncer-0.19");

/** A copy of the fixture, so that opening (which may write) never touches the committed files. */
function fixtureCopy(): string {
  const dir = tempDir();
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

function readRows(root: string, pair: string, collection: string | null): StatusRow[] {
  const s = openCollectionStatus(join(root, "status"), pair, collection);
  try {
    return s.rows().sort((x, y) => (x.ident < y.ident ? -1 : 1));
  } finally {
    s.close();
  }
}

// vdirsyncer's filesystem etag: f"{float(st_mtime_ns):.9f};{st_ino}".
function expectFilesystemEtag(etag: string | null): void {
  expect(etag).toMatch(/^\d+\.0{9};\d+$/);
  const [mtime = ""] = (etag ?? "").split(";");
  // The nanosecond count went through a double: printing it as one again changes nothing.
  expect(Number(mtime.split(".")[0]).toFixed(9)).toBe(mtime);
}

const cases: { pair: string; collection: string | null; dirA: string; dirB: string; idents: string[] }[] = [
  {
    pair: "cal",
    collection: "work",
    dirA: "a/work",
    dirB: "b/work",
    idents: [
      "3354cfc6c942f1f1ff666f191932039b7481efe40fde2d2218b2a0241cf31099",
      "simple-event@example.com",
      "todo-1@example.com",
      "tz-event@example.com",
      "ünïcödé-üid-😀@example.com",
    ],
  },
  { pair: "cal", collection: "privé", dirA: "a/privé", dirB: "b/privé", idents: ["from-b@example.com"] },
  {
    pair: "contacts",
    collection: null,
    dirA: "contacts_a",
    dirB: "contacts_b",
    idents: ["card-1@example.com"],
  },
];

describe("a status written by vdirsyncer 0.19", () => {
  for (const c of cases) {
    it(`${c.pair}/${c.collection ?? "(null)"}: rows, hashes and etags match the vdir files`, () => {
      const root = fixtureCopy();
      const rows = readRows(root, c.pair, c.collection);
      expect(rows.map((r) => r.ident)).toEqual(c.idents);
      for (const r of rows) {
        const itemA = new Item(readFileSync(join(root, c.dirA, r.a.href ?? ""), "utf8"));
        const itemB = new Item(readFileSync(join(root, c.dirB, r.b.href ?? ""), "utf8"));
        expect(r.a.hash).toBe(itemA.hash);
        expect(r.b.hash).toBe(itemB.hash);
        expect(itemA.ident).toBe(r.ident);
        expectFilesystemEtag(r.a.etag);
        expectFilesystemEtag(r.b.etag);
      }
    });
  }

  it("the UID-less item's ident is its hash, and unsafe UIDs got uuid hrefs", () => {
    const rows = readRows(fixtureCopy(), "cal", "work");
    const noUid = rows.find((r) => r.a.href === "no-uid.ics");
    expect(noUid?.ident).toBe(noUid?.a.hash);
    expect(noUid?.b.href).toBe(`${noUid?.ident}.ics`);
    const unicode = rows.find((r) => r.a.href === "unicode.ics");
    expect(unicode?.b.href).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.ics$/);
  });

  it("we reproduce vdirsyncer's discovery cache keys from the committed config", () => {
    const root = fixtureCopy();
    const storage = (name: string, path: string, fileext: string) => ({
      type: "filesystem",
      path,
      fileext,
      instance_name: name,
    });
    const cal = readDiscoveryCache(join(root, "status"), "cal");
    expect(cal?.cache_key).toBe(
      discoveryCacheKey(["from a", "from b"], storage("cal_a", "a/", ".ics"), storage("cal_b", "b/", ".ics")),
    );
    const contacts = readDiscoveryCache(join(root, "status"), "contacts");
    expect(contacts?.cache_key).toBe(
      discoveryCacheKey(
        null,
        storage("contacts_a", "contacts_a/", ".vcf"),
        storage("contacts_b", "contacts_b/", ".vcf"),
      ),
    );
  });

  it("we write the discovery cache byte for byte as vdirsyncer did", () => {
    const root = fixtureCopy();
    for (const pair of ["cal", "contacts"]) {
      const original = readFileSync(join(root, "status", `${pair}.collections`));
      const cache = readDiscoveryCache(join(root, "status"), pair);
      if (cache === undefined) throw new Error(`no cache for ${pair}`);
      const out = tempDir();
      writeDiscoveryCache(out, pair, cache);
      expect(readFileSync(join(out, `${pair}.collections`))).toEqual(original);
    }
  });
});
