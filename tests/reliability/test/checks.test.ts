/**
 * The checks the other tests rely on: if these miscounted, every "0 lost" in docs/reliability.md would mean
 * nothing.
 */
import { expect, test } from "vitest";
import { classify, isTempName } from "../src/crash.ts";
import { event, hashOf, normalized, type Side, tally } from "../src/items.ts";

const side = (entries: [string, string][]): Side => new Map(entries);

test("tally counts lost, duplicated, different and resurrected items", () => {
  const v1 = event("x", "v1");
  const v2 = event("x", "v2");
  const expected = new Map([
    ["x", [hashOf(v2)]],
    ["y", [hashOf(event("y"))]],
    ["z", [hashOf(event("z"))]],
    ["w", [hashOf(event("w"))]],
  ]);
  const a = side([
    ["x.ics", v1], // the expected edit (v2) is on neither side: lost
    ["z.ics", event("z")],
    ["z2.ics", event("z")], // a second copy: duplicated
    ["w.ics", event("w")], // only on a: different
    ["gone.ics", event("gone")], // deleted, and back: resurrected
  ]);
  const b = side([
    ["x.ics", v1],
    ["z.ics", event("z")],
  ]);
  const t = tally(a, b, expected, new Set(["gone"]));
  // y is on neither side: lost too.
  expect(t).toMatchObject({ lost: 2, duplicated: 1, different: 1, resurrected: 1 });
});

test("a clean pair tallies to zero, whatever a server rewrote", () => {
  const mine = event("r", "same");
  // What Radicale does to a stored item: another PRODID, properties in another order, LF line ends.
  const rewritten = mine
    .replace("PRODID:-//reliability//EN", "PRODID:-//Radicale//NONSGML Radicale Server//EN")
    .replace(
      "DTSTART:20240101T100000Z\r\nDTSTAMP:20240101T000000Z",
      "DTSTAMP:20240102T000000Z\r\nDTSTART:20240101T100000Z",
    )
    .replaceAll("\r\n", "\n");
  expect(normalized(rewritten)).toBe(normalized(mine));
  const t = tally(side([["r.ics", mine]]), side([["r.ics", rewritten]]), new Map([["r", [hashOf(mine)]]]));
  expect(t).toMatchObject({ lost: 0, duplicated: 0, different: 0, resurrected: 0 });
});

test("temporary names and failed recoveries are recognised", () => {
  expect(isTempName("c1/.a-6.ics.502decd4d6d7.tmp")).toBe(true);
  expect(isTempName(".trash/p/c1/.tmp-1234-5/x.ics")).toBe(true);
  expect(isTempName("c1/a-6.ics")).toBe(false);
  const ran = (code: number, stderr: string) => ({
    code,
    signal: null,
    stdout: "",
    stderr,
    ms: 1,
    killed: false,
    pid: 1,
  });
  expect(classify(ran(0, ""))).toBe("ok");
  expect(classify(ran(1, "error: Pair p is being synced by process 12 (lock file /s/p.lock)."))).toBe(
    "stale lock",
  );
  expect(classify(ran(1, "error: p/c1: Item x was changed on both sides."))).toBe("false conflict");
  expect(classify(ran(1, "error: p/c1: The status file /s/p/c1.items is not a database."))).toBe(
    "status broken",
  );
  expect(classify(ran(1, "error: something else"))).toBe("other error");
});
