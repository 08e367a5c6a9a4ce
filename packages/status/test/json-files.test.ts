import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { discoveryCacheKey, readDiscoveryCache, writeDiscoveryCache } from "../src/discovery-cache.ts";
import { openMetaStatus } from "../src/meta-status.ts";
import { collectingLog, python, tempDir } from "./helpers.ts";

describe("discoveryCacheKey", () => {
  it("matches the spec's test vector", () => {
    const sa = { type: "filesystem", path: "~/cal/a/", fileext: ".ics", instance_name: "sa" };
    const sb = { fileext: ".ics", instance_name: "sb", path: "~/cal/b/", type: "filesystem" };
    expect(discoveryCacheKey(["from a", "from b"], sa, sb)).toBe(
      "afec0f185f00a1c8540334238ee57e618867a8316eab96bf503206ce9620f4f5",
    );
  });

  it("matches vdirsyncer's own function for non-ASCII, nested and numeric config", () => {
    const collections = [["ü", "a😀", "b"], "from a"];
    const a = {
      type: "caldav",
      url: "https://ex.com/dav/ü",
      username: "jö",
      instance_name: "a",
      verify: false,
    };
    const b = { type: "filesystem", path: "~/x", fileext: ".ics", instance_name: "b", post_hook: null, n: 3 };
    const expected = python(
      `import json, sys
from vdirsyncer.cli.discover import _get_collections_cache_key
class P: pass
p = P(); p.collections, p.config_a, p.config_b = json.loads(sys.argv[1])
print(_get_collections_cache_key(p))`,
      JSON.stringify([collections, a, b]),
    ).trim();
    expect(discoveryCacheKey(collections, a, b)).toBe(expected);
  });
});

describe("the discovery cache file", () => {
  it("round-trips, written as Python writes it, with mode 0600", () => {
    const dir = join(tempDir(), "status");
    const cache = {
      collections: [
        [
          "ü",
          [
            { collection: "ü", path: "/x/ü" },
            { path: "/y/ü", collection: "ü" },
          ],
        ],
        [null, [{ collection: null }, { collection: null }]],
      ] as [string | null, [Record<string, unknown>, Record<string, unknown>]][],
      cache_key: "k",
    };
    writeDiscoveryCache(dir, "p", cache);
    const text = readFileSync(join(dir, "p.collections"), "utf8");
    expect(text).toBe(
      '{"collections": [["\\u00fc", [{"collection": "\\u00fc", "path": "/x/\\u00fc"}, {"path": "/y/\\u00fc", ' +
        '"collection": "\\u00fc"}]], [null, [{"collection": null}, {"collection": null}]]], "cache_key": "k"}',
    );
    expect(statSync(join(dir, "p.collections")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(["p.collections"]);
    expect(readDiscoveryCache(dir, "p")).toEqual(cache);
    // And Python reads what we wrote as the same data.
    const back = python(
      "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))",
      join(dir, "p.collections"),
    );
    expect(back.trim()).toBe(text);
  });

  it("reads a missing, empty, invalid or misshapen file as no cache", () => {
    const dir = tempDir();
    expect(readDiscoveryCache(dir, "none")).toBeUndefined();
    for (const [pair, content] of [
      ["empty", "{}"],
      ["broken", '{"collections": ['],
      ["shape", '{"collections": [["x"]], "cache_key": "k"}'],
    ]) {
      writeFileSync(join(dir, `${pair}.collections`), content ?? "", { mode: 0o600 });
      expect(readDiscoveryCache(dir, pair ?? "")).toBeUndefined();
    }
  });

  it("tightens loose permissions with vdirsyncer's warning", () => {
    const dir = tempDir();
    const path = join(dir, "p.collections");
    writeFileSync(path, '{"collections": [], "cache_key": "k"}');
    chmodSync(path, 0o644);
    const log = collectingLog();
    expect(readDiscoveryCache(dir, "p", { log })?.cache_key).toBe("k");
    expect(log.warnings).toEqual([`Correcting permissions of ${path} from 644 to 600`]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // vdirsyncer compares the modes as numbers: 0o077 is below 0o600 and is left alone.
    chmodSync(path, 0o077);
    readDiscoveryCache(dir, "p", { log });
    expect(statSync(path).mode & 0o777).toBe(0o077);
    expect(log.warnings).toHaveLength(1);
  });
});

describe("openMetaStatus", () => {
  it("saves and loads the Python way, per collection", () => {
    const dir = tempDir();
    const m = openMetaStatus(dir, "p", "c");
    expect(m.load()).toEqual({});
    m.save({ color: "#ff0000", displayname: "Käse" });
    expect(readFileSync(join(dir, "p", "c.metadata"), "utf8")).toBe(
      '{"color": "#ff0000", "displayname": "K\\u00e4se"}',
    );
    expect(openMetaStatus(dir, "p", "c").load()).toEqual({ color: "#ff0000", displayname: "Käse" });
    openMetaStatus(dir, "q", null).save({});
    expect(readFileSync(join(dir, "q.metadata"), "utf8")).toBe("{}");
  });

  it("loads invalid JSON as {} and leaves the file alone", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "p"));
    writeFileSync(join(dir, "p", "c.metadata"), "nonsense", { mode: 0o600 });
    expect(openMetaStatus(dir, "p", "c").load()).toEqual({});
    expect(readFileSync(join(dir, "p", "c.metadata"), "utf8")).toBe("nonsense");
  });
});
