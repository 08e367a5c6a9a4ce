/**
 * Builds a calendar file with `count` events (UIDs `event-0` … `event-<count-1>`), a shared VTIMEZONE and a
 * non-ASCII summary, as one `.ics` text with CRLF line endings. Used by the large-file test and the benchmark.
 */
export function makeCalendar(count: number): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//vdirsyncer-ts//bench//EN",
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:STANDARD",
    "DTSTART:19701025T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "END:STANDARD",
    "END:VTIMEZONE",
  ];
  for (let i = 0; i < count; i++) {
    const day = String((i % 28) + 1).padStart(2, "0");
    lines.push(
      "BEGIN:VEVENT",
      `UID:event-${i}`,
      "DTSTAMP:20240101T000000Z",
      `DTSTART;TZID=Europe/Berlin:202402${day}T100000`,
      `SUMMARY:Termin ${i} – Grüße`,
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return `${lines.join("\r\n")}\r\n`;
}

/** The same event with a new summary, as an item text (what the engine would upload). */
export function changedEvent(i: number): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//vdirsyncer-ts//bench//EN",
    "BEGIN:VEVENT",
    `UID:event-${i}`,
    "DTSTAMP:20240101T000000Z",
    `SUMMARY:Geändert ${i}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}
