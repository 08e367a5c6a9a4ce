/**
 * khal reads the vdir our built command wrote, and what khal creates there syncs back.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, ensureBuilt, type Ran, requireTool, Sandbox } from "./built-bin.ts";

let khal: string;
let box: Sandbox;

beforeAll(() => {
  khal = requireTool("khal");
  ensureBuilt();
  box = new Sandbox("vdirsyncer-khal-");
}, 300_000);

afterAll(() => box?.dispose());

const CRLF = (lines: string[]) => `${lines.join("\r\n")}\r\n`;

const TIMEZONE = [
  "BEGIN:VTIMEZONE",
  "TZID:America/New_York",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:-0500",
  "TZOFFSETTO:-0400",
  "TZNAME:EDT",
  "DTSTART:19700308T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:-0400",
  "TZOFFSETTO:-0500",
  "TZNAME:EST",
  "DTSTART:19701101T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** One calendar file holding every kind of event khal must show. */
const CALENDAR = CRLF([
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//vdirsyncer-ts interop//EN",
  ...TIMEZONE,
  // A weekly series of four, whose second meeting moved to Tuesday afternoon and got a new title.
  "BEGIN:VEVENT",
  "UID:series@interop",
  "DTSTAMP:20250101T000000Z",
  "DTSTART:20250303T090000Z",
  "DTEND:20250303T100000Z",
  "RRULE:FREQ=WEEKLY;COUNT=4",
  "SUMMARY:Wöchentliches Treffen",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:series@interop",
  "DTSTAMP:20250101T000000Z",
  "RECURRENCE-ID:20250310T090000Z",
  "DTSTART:20250311T150000Z",
  "DTEND:20250311T160000Z",
  "SUMMARY:Treffen verschoben ☕",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:allday@interop",
  "DTSTAMP:20250101T000000Z",
  "DTSTART;VALUE=DATE:20250305",
  "DTEND;VALUE=DATE:20250306",
  "SUMMARY:Ausflug nach Åre",
  "END:VEVENT",
  // 09:00 in New York is 13:00 UTC in March (daylight saving time began on the 9th).
  "BEGIN:VEVENT",
  "UID:newyork@interop",
  "DTSTAMP:20250101T000000Z",
  "DTSTART;TZID=America/New_York:20250320T090000",
  "DTEND;TZID=America/New_York:20250320T100000",
  "SUMMARY:Réunion à New York",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:tokyo@interop",
  "DTSTAMP:20250101T000000Z",
  "DTSTART:20250307T120000Z",
  "DTEND:20250307T130000Z",
  "SUMMARY:日本語の会議",
  "END:VEVENT",
  "END:VCALENDAR",
]);

const CONFIG = `[general]
status_path = "~/.local/share/vdirsyncer/status/"

[pair calendar]
a = "file"
b = "vdir"
collections = null

[storage file]
type = "singlefile"
path = "~/calendar.ics"

[storage vdir]
type = "filesystem"
path = "~/calendars/personal/"
fileext = ".ics"
`;

const KHAL_CONFIG = (vdir: string) => `[calendars]
[[personal]]
path = ${vdir}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = UTC
default_timezone = UTC

[default]
default_calendar = personal
`;

/** Runs a command that must succeed. */
function ok(r: Ran): Ran {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

/** The events khal lists in March 2025, one line each: start, end, title. */
function khalMarch(): string[] {
  const r = ok(
    box.run(khal, [
      "list",
      "--format",
      "{start} | {end} | {title}",
      "--day-format",
      "",
      "2025-03-01",
      "2025-04-01",
    ]),
  );
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/** Our log lines that copy or delete an item. */
function transfers(r: Ran): string[] {
  return r.stderr
    .split("\n")
    .filter((l) => /^(Copying|Deleting)/.test(l))
    .sort();
}

describe("khal", () => {
  test("lists every event we synced from a single .ics, and what khal creates syncs back", () => {
    box.write(".config/vdirsyncer/config", CONFIG);
    box.write(".config/khal/config", KHAL_CONFIG(box.path("calendars", "personal")));
    box.write("calendar.ics", CALENDAR);
    box.write("calendars/personal/.keep", "");

    ok(box.ours(["discover"]));
    const first = ok(box.ours(["sync"]));
    expect(transfers(first)).toEqual(
      ["series@interop", "allday@interop", "newyork@interop", "tokyo@interop"]
        .map((u) => `Copying (uploading) item ${u} to vdir`)
        .sort(),
    );
    // One file per UID; the series keeps its moved meeting, and the New York event its time zone.
    const files = box.files("calendars/personal").filter((f) => f.endsWith(".ics"));
    expect(files).toHaveLength(4);
    const texts = files.map((f) => box.read(`calendars/personal/${f}`));
    const series = texts.find((t) => t.includes("UID:series@interop")) as string;
    expect(series.match(/BEGIN:VEVENT/g)).toHaveLength(2);
    expect(texts.find((t) => t.includes("UID:newyork@interop"))).toContain("BEGIN:VTIMEZONE");

    expect(khalMarch()).toEqual([
      "2025-03-03 09:00 | 2025-03-03 10:00 | Wöchentliches Treffen",
      "2025-03-05 | 2025-03-05 | Ausflug nach Åre",
      "2025-03-07 12:00 | 2025-03-07 13:00 | 日本語の会議",
      "2025-03-11 15:00 | 2025-03-11 16:00 | Treffen verschoben ☕",
      "2025-03-17 09:00 | 2025-03-17 10:00 | Wöchentliches Treffen",
      "2025-03-20 13:00 | 2025-03-20 14:00 | Réunion à New York",
      "2025-03-24 09:00 | 2025-03-24 10:00 | Wöchentliches Treffen",
    ]);

    // khal writes an event into the vdir; our next sync carries it into the single file, once.
    ok(box.run(khal, ["new", "-a", "personal", "2025-03-12", "18:00", "19:00", "Kaffee mit Ünal"]));
    const created = box.files("calendars/personal").filter((f) => f.endsWith(".ics") && !files.includes(f));
    expect(created).toHaveLength(1);
    const uid = /^UID:(.*)\r?$/m.exec(box.read(`calendars/personal/${created[0]}`))?.[1];
    expect(uid).toBeTruthy();
    const back = ok(box.ours(["sync"]));
    expect(transfers(back)).toEqual([`Copying (uploading) item ${uid} to file`]);
    const single = box.read("calendar.ics");
    expect(single).toContain("SUMMARY:Kaffee mit Ünal");
    expect(single).toContain("SUMMARY:Treffen verschoben ☕");
    expect(single.match(/BEGIN:VEVENT/g)).toHaveLength(6);
    // khal reads the single file we wrote, too.
    const printed = ok(
      box.run(khal, ["printics", "--format", "{start} | {title}", box.path("calendar.ics")]),
    );
    const [head, ...events] = printed.stdout.split("\n").filter((l) => l !== "");
    expect(head).toBe(`5 events found in ${box.path("calendar.ics")}`);
    expect(events.sort()).toEqual([
      "2025-03-03 09:00 | Wöchentliches Treffen",
      "2025-03-05 | Ausflug nach Åre",
      "2025-03-07 12:00 | 日本語の会議",
      "2025-03-12 18:00 | Kaffee mit Ünal",
      "2025-03-20 13:00 | Réunion à New York",
    ]);

    // An edit on the other side reaches khal, whose cache must notice the rewritten file.
    box.write("calendar.ics", single.replace("SUMMARY:日本語の会議", "SUMMARY:日本語の会議（変更）"));
    const edit = ok(box.ours(["sync"]));
    expect(transfers(edit)).toEqual(["Copying (updating) item tokyo@interop to vdir"]);
    const after = khalMarch();
    expect(after).toContain("2025-03-07 12:00 | 2025-03-07 13:00 | 日本語の会議（変更）");
    expect(after).toContain("2025-03-12 18:00 | 2025-03-12 19:00 | Kaffee mit Ünal");
    expect(after).toHaveLength(8);

    expect(transfers(ok(box.ours(["sync"])))).toEqual([]);
  }, 120_000);
});
