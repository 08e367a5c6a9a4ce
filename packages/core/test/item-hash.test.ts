import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ParseError } from "../src/item/component.ts";
import { hashItem, Item, normalizeItem, normalizeMetaValue } from "../src/item/item.ts";
import {
  COMPLEX_UID_ITEM,
  EVENT_TEMPLATE,
  EVENT_WITH_TIMEZONE_TEMPLATE,
  fill,
  TASK_TEMPLATE,
  VCARD_TEMPLATE,
} from "./item-fixtures.ts";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const withoutLine = (text: string, needle: string) =>
  text
    .split("\n")
    .filter((l) => !l.includes(needle))
    .join("\n");
const withoutTimezone = (text: string) => text.replace(/BEGIN:VTIMEZONE[\s\S]*END:VTIMEZONE\n/, "");

const EVENT = fill(EVENT_TEMPLATE, 1, 1);
const EVENT_TZ = fill(EVENT_WITH_TIMEZONE_TEMPLATE, 1, 1);
const VCARD = fill(VCARD_TEMPLATE, 1, 1);
const EVENT_NORMALISED =
  "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTEND:19970715T035959Z\r\nDTSTART:19970714T170000Z\r\nEND:VCALENDAR\r\n" +
  "END:VEVENT\r\nSUMMARY:Bastille Day Party\r\nVERSION:2.0\r\nX-SOMETHING:1";

describe("hash test vectors (spec/sync.md)", () => {
  it.each<[string, string, string]>([
    ["UID:1", "UID:1", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["EVENT_TEMPLATE", EVENT, "d91afa28dfaee90d2f6da0ca192f28c9eceae6dfc2bcb1c93205c73cbfa7d502"],
    [
      "EVENT_TEMPLATE without PRODID",
      withoutLine(EVENT, "PRODID"),
      "d91afa28dfaee90d2f6da0ca192f28c9eceae6dfc2bcb1c93205c73cbfa7d502",
    ],
    [
      "EVENT_WITH_TIMEZONE_TEMPLATE",
      EVENT_TZ,
      "cbb7e0febeddab11415139ecd0d3fd22f579841f7462d31c93aca1141bd22909",
    ],
    [
      "EVENT_WITH_TIMEZONE_TEMPLATE without its VTIMEZONE",
      withoutTimezone(EVENT_TZ),
      "cbb7e0febeddab11415139ecd0d3fd22f579841f7462d31c93aca1141bd22909",
    ],
    ["VCARD_TEMPLATE (LF)", VCARD, "2accefad1690f94a75681297fe6c4f1901a4cb0420453f89c63a9a14b91d6c7b"],
    [
      "VCARD_TEMPLATE (CRLF)",
      VCARD.replaceAll("\n", "\r\n"),
      "2accefad1690f94a75681297fe6c4f1901a4cb0420453f89c63a9a14b91d6c7b",
    ],
    [
      "folded FN",
      "BEGIN:VCARD\r\nFN:A very long\r\n  name\r\nUID:x\r\nEND:VCARD\r\n",
      "bcdda410152f1281705a8fda05dd82d611f10e7a83cb99a2d86ffb7cb67f7fb8",
    ],
    [
      "no UID",
      "BEGIN:VCARD\nFN:x\nEND:VCARD",
      "0c75fbbd11e12d30a7c9d77bb00754ef98b92d15c16c3a2749d1799cc700e997",
    ],
    [
      "TASK_TEMPLATE",
      fill(TASK_TEMPLATE, 1, 1),
      "7c7ead73e81d87cf651a2e9f97dd811e52458aa1bba1d0a85b6b8eb5f2f3ebd6",
    ],
  ])("%s", (_name, raw, hash) => {
    expect(hashItem(raw)).toBe(hash);
    expect(new Item(raw).hash).toBe(hash);
    expect(sha256(normalizeItem(raw))).toBe(hash);
  });

  it("the no-UID item's ident is its hash", () => {
    const item = new Item("BEGIN:VCARD\nFN:x\nEND:VCARD");
    expect(item.uid).toBeUndefined();
    expect(item.ident).toBe("0c75fbbd11e12d30a7c9d77bb00754ef98b92d15c16c3a2749d1799cc700e997");
  });
});

describe("normalizeItem()", () => {
  it.each<[string, string, string]>([
    ["EVENT_TEMPLATE", EVENT, EVENT_NORMALISED],
    ["EVENT_WITH_TIMEZONE_TEMPLATE", EVENT_TZ, EVENT_NORMALISED.replace("\r\nVERSION:2.0", "")],
    [
      "folded FN: continuation sorted on its own",
      "BEGIN:VCARD\r\nFN:A very long\r\n  name\r\nUID:x\r\nEND:VCARD\r\n",
      "name\r\nBEGIN:VCARD\r\nEND:VCARD\r\nFN:A very long",
    ],
    ["only ignored properties", "UID:1\nDTSTAMP:2\nPRODID:3", ""],
    [
      "a folded UID goes with its continuation",
      "BEGIN:X\nUID:1\n 2\n\t3\nA:b\nEND:X",
      "A:b\r\nBEGIN:X\r\nEND:X",
    ],
    ["ignored keys are case-sensitive", "uid:1\nUIDX:2\nUID", "UID\r\nUIDX:2\r\nuid:1"],
    ["parameters count as the key", "LAST-MODIFIED;VALUE=DATE-TIME:1\nX:1", "X:1"],
    // Adjacent duplicates are deleted too (vdirsyncer >= 0.20.0; 0.19 kept the second one).
    ["adjacent duplicate ignored properties", "DTSTAMP:1\nDTSTAMP:2\nX:1", "X:1"],
    ["adjacent through another ignored key", "UID:1\nDTSTAMP:2\nUID:3\nX:1", "X:1"],
    ["a blank line ends a continuation run", "UID:1\n\n x", "x"],
    [
      "a parseable VCALENDAR is re-serialised: names upper-cased, blank lines dropped",
      "BEGIN:vcalendar \n\nX:1\nBEGIN:vevent\n \nEND:VEVENT\nEND:Vcalendar",
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\nEND:VEVENT\r\nX:1",
    ],
    [
      "a VCARD is not re-serialised: a whitespace-only line ends the continuation run",
      "BEGIN:vcard \nUID:1\n\u3000\n x\nEND:vcard",
      "x\r\nBEGIN:vcard\r\nEND:vcard",
    ],
    [
      "a parsed VCALENDAR drops whitespace-only lines, so the continuation goes with UID",
      "BEGIN:VCALENDAR\nUID:1\n\u3000\n x\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nEND:VCALENDAR",
    ],
    [
      "properties after a subcomponent move up when re-serialised",
      "BEGIN:VCALENDAR\nUID:0\nBEGIN:VEVENT\nX:1\nEND:VEVENT\n continued\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\nEND:VEVENT\r\nX:1",
    ],
    [
      "only direct VTIMEZONEs are stripped",
      "BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VTIMEZONE\nTZID:x\nEND:VTIMEZONE\nEND:VEVENT\nEND:VCALENDAR",
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nBEGIN:VTIMEZONE\r\nEND:VCALENDAR\r\nEND:VEVENT\r\nEND:VTIMEZONE\r\nTZID:x",
    ],
    [
      "no VTIMEZONE stripping when the END names do not match (vdirsyncer >= 0.19.3)",
      "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:x\nEND:VTIMEZONE\nEND:VCARD",
      "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nEND:VCARD\r\nEND:VTIMEZONE\r\nTZID:x",
    ],
    [
      "no VTIMEZONE stripping when an END is missing",
      "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:x\nEND:VTIMEZONE",
      "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nEND:VTIMEZONE\r\nTZID:x",
    ],
    ["lines are stripped after sorting", " b\na\n\u00a0", "b\r\na"],
    ["U+FEFF is not stripped", "\ufeffa", "\ufeffa"],
    ["sorted by code point, not UTF-16 unit", "X:\u{1f600}\nX:\ufffd", "X:\ufffd\r\nX:\u{1f600}"],
    ["Python line boundaries split lines", "B:1\x1cA:2\u2028C:3\x85UID:4", "A:2\r\nB:1\r\nC:3"],
  ])("%s", (_name, raw, normalised) => {
    expect(normalizeItem(raw)).toBe(normalised);
  });
});

describe("Item.uid", () => {
  it.each<[string, string, string | undefined]>([
    ["simple", "BEGIN:X\nUID:abc\nEND:X", "abc"],
    [
      "multi-line UID (vdirsyncer test_multiline_uid)",
      "BEGIN:FOO\r\nUID:123456789abcd\r\n efgh\r\nEND:FOO\r\n",
      "123456789abcdefgh",
    ],
    [
      "complex multi-line UID (test_multiline_uid_complex)",
      COMPLEX_UID_ITEM,
      "040000008200E00074C5B7101A82E0080000000050AAABEEF50DCF001000000062548482FA830A46B9EA62114AC9F0EF",
    ],
    ["with parameters", "UID;X-A=1:abc", "abc"],
    ["parameters without a colon", "UID;abc", "abc"],
    ["stripped", "UID:  abc \t", "abc"],
    ["empty means none", "BEGIN:X\nUID:\nEND:X", undefined],
    ["whitespace means none", "UID: \u00a0", undefined],
    ["absent", "BEGIN:X\nEND:X", undefined],
    ["case-sensitive", "uid:abc", undefined],
    [
      "the first one anywhere wins",
      "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nUID:tz\nEND:VTIMEZONE\nUID:ev\nEND:VCALENDAR",
      "tz",
    ],
    ["tab continuation", "UID:a\n\tb\n c\nX:d\n e", "abc"],
    ["not parsed at all", "UID:a\nEND:X\nEND:Y", "a"],
  ])("%s", (_name, raw, uid) => {
    const item = new Item(raw);
    expect(item.uid).toBe(uid);
    expect(item.ident).toBe(uid ?? item.hash);
  });
});

describe("Item.withUid()", () => {
  it("replaces a multi-line UID (test_replace_multiline_uid)", () => {
    const item = new Item(COMPLEX_UID_ITEM).withUid("a");
    expect(item.uid).toBe("a");
    expect(item.raw).not.toContain("001000000062548482FA830A46B9EA62114AC9F0EF");
    expect(item.raw).toContain("\r\nSUMMARY:Präsentation\r\nTRANSP:OPAQUE\r\nUID:a\r\nEND:VEVENT\r\n");
  });

  it("appends the UID to every item component, not to wrappers or timezones", () => {
    const raw =
      "BEGIN:VCALENDAR\nUID:cal\nBEGIN:VTIMEZONE\nUID:tz\nEND:VTIMEZONE\n" +
      "BEGIN:VEVENT\nUID:old\n more\nSUMMARY:a\nEND:VEVENT\nBEGIN:VTODO\nEND:VTODO\nEND:VCALENDAR\n";
    expect(new Item(raw).withUid("new").raw).toBe(
      "BEGIN:VCALENDAR\r\nUID:cal\r\nBEGIN:VTIMEZONE\r\nUID:tz\r\nEND:VTIMEZONE\r\n" +
        "BEGIN:VEVENT\r\nSUMMARY:a\r\nUID:new\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:new\r\nEND:VTODO\r\nEND:VCALENDAR",
    );
  });

  it("removes the UID when given an empty one", () => {
    const item = new Item(fill(VCARD_TEMPLATE, 1, 1)).withUid("");
    expect(item.uid).toBeUndefined();
    expect(item.raw).not.toContain("UID");
    expect(new Item(fill(VCARD_TEMPLATE, 1, 1)).withUid(undefined).raw).toBe(item.raw);
  });

  it("throws ParseError for an item that does not parse, and rejects line breaks", () => {
    expect(() => new Item("END:FOO").withUid("x")).toThrow(ParseError);
    expect(() => new Item(EVENT).withUid("a\nUID:b")).toThrow("A UID cannot contain a line break.");
    expect(() => new Item(EVENT).withUid("a\u2028b")).toThrow("A UID cannot contain a line break.");
  });

  // vdirsyncer's test_replace_uid: uid_strategy is non-empty text without Zs/Zl/Zp/Cc/Cs characters,
  // equal to its own strip().
  const uidArbitrary = fc
    .string({ unit: "grapheme", minLength: 1 })
    .filter((s) => !/[\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cs}]/u.test(s) && s.trim() === s);

  it.each([
    ["EVENT_TEMPLATE", EVENT_TEMPLATE],
    ["EVENT_WITH_TIMEZONE_TEMPLATE", EVENT_WITH_TIMEZONE_TEMPLATE],
    ["VCARD_TEMPLATE", VCARD_TEMPLATE],
  ])("leaves exactly one UID line or none (%s, property-based)", (_name, template) => {
    fc.assert(
      fc.property(fc.option(uidArbitrary, { nil: undefined }), (uid) => {
        const item = new Item(fill(template, 123, 123)).withUid(uid);
        expect(item.uid).toBe(uid);
        if (uid) expect(item.raw.split(`\nUID:${uid}`).length - 1).toBe(1);
        else expect(item.raw).not.toContain("\nUID:");
      }),
    );
  });
});

describe("Item", () => {
  it("parsed is undefined for a broken item (test_broken_item)", () => {
    expect(new Item("END:FOO").parsed).toBeUndefined();
    expect(new Item("BEGIN:A\nEND:A\nBEGIN:B\nEND:B").parsed).toBeUndefined();
  });

  it("parsed is a fresh tree each time, so changing it leaves the item alone", () => {
    const item = new Item(EVENT);
    const tree = item.parsed!;
    expect(tree.name).toBe("VCALENDAR");
    tree.props.push("X:changed");
    expect(item.parsed!.props).not.toContain("X:changed");
  });

  it("caches uid and hash on the instance", () => {
    const item = new Item(EVENT);
    expect(item.hash).toBe(item.hash);
    expect(item.uid).toBe("1");
    expect(item.ident).toBe("1");
  });

  it("hashes 10k items to distinct hashes, equal to hashItem()", () => {
    const items = Array.from({ length: 10_000 }, (_, i) => new Item(fill(EVENT_TEMPLATE, i, `u${i}`)));
    const hashes = new Set(items.map((it) => it.hash));
    expect(hashes.size).toBe(10_000);
    expect(items[42]!.hash).toBe(hashItem(fill(EVENT_TEMPLATE, 42, "other")));
  });
});

describe("normalizeMetaValue()", () => {
  it.each<[string | null | undefined, string | undefined]>([
    [null, undefined],
    [undefined, undefined],
    ["None", undefined],
    [" None ", "None"],
    ["none", "none"],
    ["  Work \n", "Work"],
    ["\x1cRed\x85", "Red"],
    ["\ufeffx", "\ufeffx"],
    ["", ""],
    ["   ", ""],
  ])("%j -> %j", (input, expected) => {
    expect(normalizeMetaValue(input)).toBe(expected);
  });
});
