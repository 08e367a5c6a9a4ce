import { describe, expect, it } from "vitest";
import { pySplitlines } from "../src/compat/index.ts";
import { joinCollection, splitCollection } from "../src/item/collection.ts";
import { ParseError } from "../src/item/component.ts";
import { Item, normalizeItem } from "../src/item/item.ts";
import { BARE_EVENT_TEMPLATE, EVENT_TEMPLATE, fill, VCARD_TEMPLATE } from "./item-fixtures.ts";

const SIMPLE_SPLIT = [123, 345, 678].map((n) => fill(VCARD_TEMPLATE, n, n));
const SIMPLE_JOINED = ["BEGIN:VADDRESSBOOK", ...SIMPLE_SPLIT, "END:VADDRESSBOOK\r\n"].join("\r\n");
const raws = (items: Item[]) => items.map((i) => i.raw);
const items = (texts: string[]) => texts.map((t) => new Item(t));

describe("splitCollection()", () => {
  it("splits an address book (test_split_collection_simple)", () => {
    const given = raws(splitCollection(SIMPLE_JOINED));
    expect(given.map(normalizeItem)).toEqual(SIMPLE_SPLIT.map(normalizeItem));
    expect(given.map(pySplitlines)).toEqual(SIMPLE_SPLIT.map(pySplitlines));
    expect(given[0]!.endsWith("END:VCARD")).toBe(true);
    expect(given[0]).toContain("\r\n");
  });

  it("splits several wrappers (test_split_collection_multiple_wrappers)", () => {
    const joined = SIMPLE_SPLIT.map((x) => `BEGIN:VADDRESSBOOK\r\n${x}\r\nEND:VADDRESSBOOK\r\n`).join("\r\n");
    const given = raws(splitCollection(joined));
    expect(given.map(pySplitlines)).toEqual(SIMPLE_SPLIT.map(pySplitlines));
  });

  it("gives every item every timezone (test_split_collection_timezones)", () => {
    const events = [123, 345].map((n) => fill(BARE_EVENT_TEMPLATE, n, n));
    const timezone = [
      "BEGIN:VTIMEZONE",
      "TZID:/mozilla.org/20070129_1/Asia/Tokyo",
      "X-LIC-LOCATION:Asia/Tokyo",
      "BEGIN:STANDARD",
      "TZOFFSETFROM:+0900",
      "TZOFFSETTO:+0900",
      "TZNAME:JST",
      "DTSTART:19700101T000000",
      "END:STANDARD",
      "END:VTIMEZONE",
    ].join("\r\n");
    const full = ["BEGIN:VCALENDAR", ...events, timezone, "END:VCALENDAR"].join("\r\n");
    const given = new Set(raws(splitCollection(full)).map(normalizeItem));
    const expected = new Set(
      events.map((e) => normalizeItem(["BEGIN:VCALENDAR", e, timezone, "END:VCALENDAR"].join("\r\n"))),
    );
    expect(given).toEqual(expected);
    for (const item of splitCollection(full))
      expect(item.raw).toContain("TZID:/mozilla.org/20070129_1/Asia/Tokyo");
  });

  it("splits and joins contacts (test_split_contacts)", () => {
    const bare = [0, 1, 2, 3].map((x) => fill(VCARD_TEMPLATE, x, x)).join("\r\n");
    const withWrapper = `BEGIN:VADDRESSBOOK\r\n${bare}\nEND:VADDRESSBOOK\r\n`;
    for (const text of [bare, withWrapper]) {
      const split = splitCollection(text);
      expect(split).toHaveLength(4);
      expect(pySplitlines(joinCollection(split))).toEqual(pySplitlines(withWrapper));
    }
  });

  it("groups by UID, keeps wrapper properties without METHOD, and orders grouped items first", () => {
    const text = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "METHOD:PUBLISH",
      "PRODID:x",
      "BEGIN:VEVENT",
      "SUMMARY:no uid",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:a",
      "SUMMARY:master",
      "END:VEVENT",
      "BEGIN:VTODO",
      "UID:b",
      "END:VTODO",
      "BEGIN:VEVENT",
      "UID:a",
      "RECURRENCE-ID:1",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID: ",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\n");
    expect(raws(splitCollection(text))).toEqual([
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:master\r\nEND:VEVENT\r\n" +
        "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:1\r\nEND:VEVENT\r\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:b\r\nEND:VTODO\r\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID: \r\nEND:VEVENT\r\nEND:VCALENDAR",
    ]);
  });

  it("groups by the unstripped UID value, as vdirsyncer does", () => {
    const text =
      "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nBEGIN:VEVENT\nUID:a \nEND:VEVENT\nEND:VCALENDAR";
    expect(splitCollection(text)).toHaveLength(2);
  });

  it("returns nothing for an empty file", () => {
    expect(splitCollection("")).toEqual([]);
    expect(splitCollection("\r\n\r\n")).toEqual([]);
  });

  it.each<[string, string]>([
    ["BEGIN:VCALENDAR\nBEGIN:VFOO\nEND:VFOO\nEND:VCALENDAR", "Unknown component: VFOO"],
    ["BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR", "Got END:VCALENDAR, expected END:VEVENT at line 3"],
    ["X:1", "Parsing error at line 1"],
  ])("rejects %j", (text, message) => {
    expect(() => splitCollection(text)).toThrow(ParseError);
    expect(() => splitCollection(text)).toThrow(message);
  });

  it("splits a 10k-event calendar into 10k items with their timezone", () => {
    const tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\nEND:VTIMEZONE";
    const events = Array.from({ length: 10_000 }, (_, i) => fill(BARE_EVENT_TEMPLATE, i, `u${i}`));
    const text = ["BEGIN:VCALENDAR", "VERSION:2.0", tz, ...events, "END:VCALENDAR"].join("\r\n");
    const split = splitCollection(text);
    expect(split).toHaveLength(10_000);
    expect(split[9_999]!.uid).toBe("u9999");
    expect(split[9_999]!.raw.endsWith(`${tz}\r\nEND:VCALENDAR`)).toBe(true);
    const joined = joinCollection(split);
    expect(joined.split("BEGIN:VTIMEZONE")).toHaveLength(2);
    // The timezone is kept where it first appears: after the first event that carried it.
    const [first, ...rest] = events;
    const expected = ["BEGIN:VCALENDAR", "VERSION:2.0", first, tz, ...rest, "END:VCALENDAR"].join("\r\n");
    expect(joined).toBe(`${pySplitlines(expected).join("\r\n")}\r\n`);
  });
});

describe("joinCollection()", () => {
  it("joins vCards into a VADDRESSBOOK (test_join_collection_simple)", () => {
    const given = joinCollection(items(SIMPLE_SPLIT));
    expect(normalizeItem(given)).toBe(normalizeItem(SIMPLE_JOINED));
    expect(pySplitlines(given)).toEqual(pySplitlines(SIMPLE_JOINED));
    expect(given.endsWith("END:VADDRESSBOOK\r\n")).toBe(true);
  });

  it("keeps one copy of identical timezones (test_join_collection_vevents)", () => {
    const event = (i: number) =>
      `\nBEGIN:VCALENDAR\nVERSION:2.0\nPRODID:HUEHUE\nBEGIN:VTIMEZONE\nVALUE:The Timezone\nEND:VTIMEZONE\n` +
      `BEGIN:VEVENT\nVALUE:Event ${i}\nEND:VEVENT\nEND:VCALENDAR\n`;
    const expected = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:HUEHUE",
      "BEGIN:VTIMEZONE",
      "VALUE:The Timezone",
      "END:VTIMEZONE",
      ...[0, 1, 2].flatMap((i) => ["BEGIN:VEVENT", `VALUE:Event ${i}`, "END:VEVENT"]),
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    expect(joinCollection(items([0, 1, 2].map(event)))).toBe(expected);
  });

  it("uses bare events whole and takes the wrapper from the first known type", () => {
    const joined = joinCollection(
      items(["BEGIN:X-UNKNOWN\nEND:X-UNKNOWN", fill(BARE_EVENT_TEMPLATE, 1, 1), fill(EVENT_TEMPLATE, 2, 2)]),
    );
    expect(pySplitlines(joined)).toEqual([
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//hacksw/handcal//NONSGML v1.0//EN",
      "BEGIN:X-UNKNOWN",
      "END:X-UNKNOWN",
      ...pySplitlines(fill(BARE_EVENT_TEMPLATE, 1, 1)),
      ...pySplitlines(fill(BARE_EVENT_TEMPLATE, 2, 2)),
      "END:VCALENDAR",
    ]);
  });

  it("de-duplicates wrapper properties line by line, even folded ones (vdirsyncer quirk)", () => {
    const a = "BEGIN:VCALENDAR\nX-A:1\n more\nBEGIN:VEVENT\nUID:1\nEND:VEVENT\nEND:VCALENDAR";
    const b = "BEGIN:VCALENDAR\nX-B:2\n more\nBEGIN:VEVENT\nUID:2\nEND:VEVENT\nEND:VCALENDAR";
    expect(pySplitlines(joinCollection(items([a, b]))).slice(0, 5)).toEqual([
      "BEGIN:VCALENDAR",
      "X-A:1",
      " more",
      "X-B:2",
      "BEGIN:VEVENT",
    ]);
  });

  it("returns an empty string for no items", () => {
    expect(joinCollection([])).toBe("");
  });

  it.each<[string[], string]>([
    [["BEGIN:VJOURNAL\nEND:VJOURNAL"], "Not sure how to join components."],
    [["BEGIN:A\nEND:A", "BEGIN:B\nEND:B"], "Not sure how to join components."],
    [[fill(VCARD_TEMPLATE, 1, 1), "END:VCARD"], "Parsing error at line 1"],
    [["BEGIN:VCARD\nEND:VCARD\nBEGIN:VCARD\nEND:VCARD"], "Found 2 components, expected one."],
  ])("rejects %j", (texts, message) => {
    expect(() => joinCollection(items(texts))).toThrow(ParseError);
    expect(() => joinCollection(items(texts))).toThrow(message);
  });
});
