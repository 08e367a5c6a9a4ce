// Compares the port with vdirsyncer's own vobject.py on random items and collections.
//
// The installed vdirsyncer is 0.19.0; the spec follows a later reference version, which differs in two
// known ways. The generators never produce those cases, and item-hash.test.ts pins our behaviour for them:
// - END names must match BEGIN names (0.19.3), and a missing END is an error: every component is closed
//   with its own name here;
// - adjacent duplicate ignored properties are all deleted (0.20.0): an ignored key appears at most once per
//   component here, and components are always separated by BEGIN/END lines.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPyWhitespace, pySplitlines, sortByCodePoint } from "../src/compat/index.ts";
import { joinCollection, splitCollection } from "../src/item/collection.ts";
import { Item, normalizeItem } from "../src/item/item.ts";
import {
  EVENT_TEMPLATE,
  EVENT_WITH_TIMEZONE_TEMPLATE,
  fill,
  TASK_TEMPLATE,
  VCARD_TEMPLATE,
} from "./item-fixtures.ts";
import { askPython, type PythonAnswer, type PythonRequest } from "./item-python-reference.ts";

const SEED = Number(process.env.ITEM_CROSSCHECK_SEED ?? 20260407);
const RUNS = Number(process.env.ITEM_CROSSCHECK_RUNS ?? 400);

// Value characters: no upper-case letters, so a value split across lines never starts a BEGIN/END/KEY line.
const valueChar = fc.constantFrom(
  ..."abcxyz0129 :;=,-\t".split(""),
  "ä",
  "ß",
  "€",
  "\u{1f600}",
  "\u{1d11e}",
  "\ue000",
  "\ufffd",
  "\uffff",
  "\u00a0",
  "\ufeff",
  "\u3000",
  "\x1f",
  "\u2003",
);
const lineBreak = fc.constantFrom(
  "\n",
  "\r",
  "\r\n",
  "\v",
  "\f",
  "\x1c",
  "\x1d",
  "\x1e",
  "\x85",
  "\u2028",
  "\u2029",
);
const plainValue = fc.array(valueChar, { maxLength: 8 }).map((cs) => cs.join(""));
// Sometimes a value holds a Python line boundary, which makes its tail a line of its own (often a
// continuation line, or a blank one).
const value = fc.oneof(
  { weight: 5, arbitrary: plainValue },
  { weight: 1, arbitrary: fc.tuple(plainValue, lineBreak, plainValue).map((p) => p.join("")) },
);
const uidValue = fc.oneof(fc.constantFrom("a", "b", "a ", " ", "", "x\u{1f600}", "\ue000"), plainValue);

const KEYS = ["SUMMARY", "DESCRIPTION", "X-FOO", "DTSTART", "VERSION", "uid", "UIDX", "TZID", "FN"];
const IGNORED = [
  "PRODID",
  "METHOD",
  "X-RADICALE-NAME",
  "X-WR-CALNAME",
  "REV",
  "LAST-MODIFIED",
  "CREATED",
  "DTSTAMP",
  "UID",
];

interface Prop {
  key: string;
  lines: string[];
}
const prop: fc.Arbitrary<Prop> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...KEYS) },
      { weight: 2, arbitrary: fc.constantFrom(...IGNORED) },
    ),
    fc.constantFrom("", ";VALUE=DATE-TIME", ";X-P=\u00e4:b"),
    fc.boolean(),
    fc.array(fc.tuple(fc.constantFrom(" ", "\t", "  "), value), { maxLength: 2 }),
  )
  .chain(([key, params, noColon, folds]) =>
    (key === "UID" ? uidValue : value).map((v) => ({
      key,
      lines: [
        // Python's `split(":", 1)[-1]`: a parameter line without a colon is read whole.
        params !== "" && noColon ? `${key}${params}${v.replaceAll(":", "")}` : `${key}${params}:${v}`,
        ...folds.map(([indent, f]) => indent + f),
      ],
    })),
  );
const blank = fc.constantFrom("", " ", "\u3000", "\t");

// Which children each component gets; the odd ones exercise errors and the edges of split/join.
const CHILDREN: Record<string, string[]> = {
  VCALENDAR: ["VEVENT", "VEVENT", "VTODO", "VJOURNAL", "VTIMEZONE", "VTIMEZONE", "X-ODD", "VCARD"],
  VADDRESSBOOK: ["VCARD", "VCARD", "VCARD", "VTIMEZONE"],
  VEVENT: ["VALARM", "VTIMEZONE"],
  VTODO: ["VALARM"],
  VTIMEZONE: ["STANDARD", "DAYLIGHT"],
};
const TOP = ["VCALENDAR", "VCALENDAR", "VCALENDAR", "VCALENDAR", "VADDRESSBOOK", "VCARD", "VEVENT", "X-ODD"];

// How BEGIN/END spell a name; all spellings normalise to the same name, so END always matches.
const spelling = fc.constantFrom(
  (n: string) => n,
  (n: string) => n,
  (n: string) => n.toLowerCase(),
  (n: string) => `${n} `,
  (n: string) => ` ${n[0]}${n.slice(1).toLowerCase()}`,
);

const ITEM_NAMES = new Set(["VEVENT", "VTODO", "VJOURNAL", "VCARD"]);

function component(name: string, depth: number): fc.Arbitrary<string[]> {
  const children = CHILDREN[name] ?? [];
  const child =
    depth > 0 && children.length > 0
      ? fc.array(
          fc.constantFrom(...children).chain((c) => component(c, depth - 1)),
          { maxLength: 3 },
        )
      : fc.constant([] as string[][]);
  const entry = fc.oneof(
    { weight: 8, arbitrary: prop },
    { weight: 1, arbitrary: blank.map((b) => ({ key: "", lines: [b] })) },
    // A continuation line of its own: after a blank line or a subcomponent it tests what it attaches to.
    { weight: 1, arbitrary: plainValue.map((v) => ({ key: "", lines: [` ${v}`] })) },
  );
  // Items usually have a UID (two times in three), often shared, so that split groups them.
  const uid = ITEM_NAMES.has(name)
    ? fc.option(
        uidValue.map((v): Prop => ({ key: "UID", lines: [`UID:${v}`] })),
        { freq: 3 },
      )
    : fc.constant(null);
  return fc
    .tuple(
      spelling,
      spelling,
      uid,
      fc.array(entry, { maxLength: 7 }),
      child,
      fc.array(entry, { maxLength: 2 }),
    )
    .map(([begin, end, uidProp, rest, subs, after]) => {
      const before = uidProp === null ? rest : [uidProp, ...rest];
      // One line per ignored key and component: see the header comment.
      const used = new Set<string>();
      const keep = (p: Prop) => {
        if (!IGNORED.includes(p.key)) return true;
        if (used.has(p.key)) return false;
        used.add(p.key);
        return true;
      };
      const props = (ps: Prop[]) => ps.filter(keep).flatMap((p) => p.lines);
      return [`BEGIN:${begin(name)}`, ...props(before), ...subs.flat(), ...props(after), `END:${end(name)}`];
    });
}

const separator = fc.constantFrom("\n", "\r\n", "\r\n", "\n", "\r", "\u2028", "\x85");
function render(lines: fc.Arbitrary<string[]>): fc.Arbitrary<string> {
  return fc
    .tuple(lines, fc.array(separator, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([ls, seps, trailing]) =>
      ls.map((l, i) => l + (i < ls.length - 1 || trailing ? seps[i % seps.length] : "")).join(""),
    );
}

// Mostly one top-level component; sometimes none, two, or a stray line that breaks parsing.
const topLevel = fc
  .tuple(
    fc.array(
      fc.constantFrom(...TOP).chain((n) => component(n, 3)),
      { minLength: 1, maxLength: 2 },
    ),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom("X:stray", "END:VCALENDAR", "\ufeffBEGIN:VCALENDAR", " ") },
    ),
  )
  .map(([comps, stray]) => (stray === null ? comps.flat() : [stray, ...comps.flat()]));

const itemText = fc.oneof(
  { weight: 8, arbitrary: render(topLevel) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(EVENT_TEMPLATE, EVENT_WITH_TIMEZONE_TEMPLATE, TASK_TEMPLATE, VCARD_TEMPLATE),
        plainValue,
        uidValue,
      )
      .map(([t, r, uid]) => fill(t, r, uid)),
  },
);

// Splitting wants mostly well-formed collections: wrappers holding events, timezones and cards.
const collectionText = render(
  fc
    .array(
      fc
        .constantFrom("VCALENDAR", "VCALENDAR", "VADDRESSBOOK", "VCARD", "VEVENT")
        .chain((n) => component(n, 2)),
      {
        maxLength: 3,
      },
    )
    .map((cs) => cs.flat()),
);

function ours(run: () => unknown): PythonAnswer {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    return { ok: false, error: (err as Error).message, type: (err as Error).name };
  }
}

// Compares answer by answer, and reports the first mismatches with their input, so a failure can be replayed.
function compare(requests: PythonRequest[], mine: (r: PythonRequest) => unknown) {
  const { answers } = askPython(requests);
  const mismatches: string[] = [];
  requests.forEach((req, i) => {
    const theirs = answers[i]!;
    const got = ours(() => mine(req));
    const same = theirs.ok
      ? got.ok && JSON.stringify(got.value) === JSON.stringify(theirs.value)
      : !got.ok && got.error === theirs.error;
    if (!same && mismatches.length < 5) {
      mismatches.push(
        `${JSON.stringify(req)}\n  python: ${JSON.stringify(theirs)}\n  ours:   ${JSON.stringify(got)}`,
      );
    }
  });
  expect(mismatches, `seed ${SEED}; set ITEM_CROSSCHECK_SEED to replay`).toEqual([]);
  return answers;
}

describe("cross-check with vdirsyncer's vobject.py", () => {
  it("runs the installed vdirsyncer (fails, never skips, when it is missing)", () => {
    const { version, answers } = askPython([{ op: "item", raw: "UID:1" }]);
    expect(version).toMatch(/^0\.\d+\.\d+/);
    expect(answers[0]).toMatchObject({ ok: true, value: { hash: new Item("UID:1").hash } });
  });

  it("agrees on Python whitespace and line boundaries for every BMP character", () => {
    const [chars] = compare([{ op: "chars", upTo: 0x10000 }], () => {
      const space: number[] = [];
      const lineBreak: number[] = [];
      for (let c = 0; c < 0x10000; c++) {
        if (isPyWhitespace(c)) space.push(c);
        if (pySplitlines(`a${String.fromCharCode(c)}b`).length > 1) lineBreak.push(c);
      }
      return { space, lineBreak };
    });
    expect((chars as { ok: true; value: { space: number[] } }).value.space).toContain(0x3000);
  });

  it("sorts like Python sorted()", () => {
    const lists = fc.sample(fc.array(fc.string({ unit: valueChar, maxLength: 4 }), { maxLength: 12 }), {
      numRuns: 200,
      seed: SEED,
    });
    compare(
      lists.map((lines) => ({ op: "sorted", lines })),
      (r) => sortByCodePoint((r as { lines: string[] }).lines.slice()),
    );
  });

  it("agrees on uid, hash, normalised form and parse result of random items", () => {
    const texts = fc.sample(itemText, { numRuns: RUNS, seed: SEED });
    const answers = compare(
      texts.map((raw) => ({ op: "item", raw })),
      (r) => {
        const item = new Item((r as { raw: string }).raw);
        return {
          uid: item.uid ?? null,
          hash: item.hash,
          normalized: normalizeItem(item.raw),
          parsed: item.parsed?.name ?? null,
        };
      },
    );
    // The generators must reach both sides of every branch, or this test proves little.
    const values = answers.map((a) =>
      a.ok ? (a.value as { parsed: string | null; uid: string | null }) : undefined,
    );
    expect(values.filter((v) => v?.parsed === "VCALENDAR").length).toBeGreaterThan(RUNS / 10);
    expect(values.filter((v) => v?.parsed === null).length).toBeGreaterThan(RUNS / 20);
    expect(values.filter((v) => v?.uid === null).length).toBeGreaterThan(RUNS / 20);
    expect(values.filter((v) => v?.uid !== null).length).toBeGreaterThan(RUNS / 10);
  });

  it("agrees on withUid()", () => {
    const cases = fc.sample(
      fc.tuple(
        itemText,
        fc.oneof(
          plainValue.map((v) => v.trim()),
          fc.constant(""),
        ),
      ),
      { numRuns: RUNS, seed: SEED },
    );
    compare(
      cases.map(([raw, uid]) => ({ op: "withUid", raw, uid })),
      (r) => {
        const { raw, uid } = r as { raw: string; uid: string };
        return new Item(raw).withUid(uid).raw;
      },
    );
  });

  it("agrees on splitCollection()", () => {
    const texts = fc.sample(collectionText, { numRuns: RUNS, seed: SEED });
    const answers = compare(
      texts.map((text) => ({ op: "split", text })),
      (r) => splitCollection((r as { text: string }).text).map((i) => i.raw),
    );
    expect(answers.filter((a) => a.ok && (a.value as string[]).length > 1).length).toBeGreaterThan(RUNS / 10);
  });

  it("agrees on joinCollection()", () => {
    // Mostly parseable items, since one broken item fails the whole join.
    const joinable = fc.oneof(
      { weight: 6, arbitrary: render(fc.constantFrom(...TOP).chain((n) => component(n, 2))) },
      { weight: 1, arbitrary: itemText },
    );
    const lists = fc.sample(fc.array(joinable, { maxLength: 4 }), { numRuns: RUNS, seed: SEED });
    const answers = compare(
      lists.map((raws) => ({ op: "join", raws })),
      (r) => joinCollection((r as { raws: string[] }).raws.map((raw) => new Item(raw))),
    );
    expect(answers.filter((a) => a.ok && a.value !== "").length).toBeGreaterThan(RUNS / 10);
  });

  it("agrees on joining what splitCollection() produced", () => {
    const texts = fc.sample(collectionText, { numRuns: RUNS, seed: SEED + 1 });
    const requests: PythonRequest[] = [];
    for (const text of texts) {
      try {
        requests.push({ op: "join", raws: splitCollection(text).map((i) => i.raw) });
      } catch {
        // Texts that do not split are covered by the split test.
      }
    }
    compare(requests, (r) => joinCollection((r as { raws: string[] }).raws.map((raw) => new Item(raw))));
  });
});
