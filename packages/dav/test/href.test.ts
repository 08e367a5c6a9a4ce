import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateHref, normalizeHref } from "../src/href.ts";

const BASE = "https://example.com/dav/calendars/user/work/";

describe("normalizeHref", () => {
  it("keeps vdirsyncer's fixed point (test_normalize_href)", () => {
    const href = "/dav/calendars/user/work/UID%253A20210609T084907Z-@synaps-web-54fddfdf7-7kcfm%250A.ics";
    expect(normalizeHref(BASE, href)).toBe(href);
    expect(normalizeHref(BASE, normalizeHref(BASE, href))).toBe(href);
  });

  it("resolves, drops host and query, keeps @, uppercases escapes, encodes %2F's slash back", () => {
    expect(normalizeHref(BASE, "a b.ics")).toBe("/dav/calendars/user/work/a%20b.ics");
    expect(normalizeHref(BASE, "https://other.example/x/y.ics?q=1#f")).toBe("/x/y.ics");
    expect(normalizeHref(BASE, "/x/%c3%bc@%2f.ics")).toBe("/x/%C3%BC@/.ics");
    expect(normalizeHref(BASE, "../up.ics")).toBe("/dav/calendars/user/up.ics");
    expect(normalizeHref(BASE, "/x/%ff.ics")).toBe("/x/%EF%BF%BD.ics");
    expect(() => normalizeHref(BASE, "")).toThrow(/empty href/);
  });

  it("agrees with Python's urllib on many random hrefs", () => {
    const alphabet = [
      ..."abcXYZ019 /.-_~%@:;?#+&=,!'()*[]ü€𝄞\t",
      "%2F",
      "%25",
      "%C3%A9",
      "%zz",
      "..",
      "//",
      "%E2%82",
    ];
    const hrefArb = fc
      .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 14 })
      .map((parts) => parts.join(""))
      .filter((h) => h.trim() !== "" && !/[[\]]/.test(h.slice(0, h.indexOf("/", 2) >>> 0)));
    const bases = [BASE, "http://h:8080/", "https://u.example/a/b", "http://127.0.0.1:5232/user/cal/"];
    const cases = fc.sample(fc.tuple(fc.constantFrom(...bases), hrefArb), { numRuns: 600, seed: 42 });
    const script = `
import json, sys
from vdirsyncer.storage.dav import _normalize_href
out = []
for base, href in json.load(sys.stdin):
    try:
        out.append(_normalize_href(base, href))
    except Exception as e:
        out.append("ERROR " + type(e).__name__)
print(json.dumps(out))`;
    const python = JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" }),
    ) as string[];
    const ours = cases.map(([b, h]) => {
      try {
        return normalizeHref(b, h);
      } catch (e) {
        return `ERROR ${(e as Error).name}`;
      }
    });
    const mismatches = cases.filter((_, i) => ours[i] !== python[i] && !python[i]?.startsWith("ERROR"));
    expect(mismatches).toEqual([]);
  });
});

describe("generateHref", () => {
  it("keeps safe idents and replaces others with a uuid4", () => {
    expect(generateHref("abc.DEF_1+2-3")).toBe("abc.DEF_1+2-3");
    expect(generateHref("a@b")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(generateHref("with space")).not.toBe("with space");
  });
});
