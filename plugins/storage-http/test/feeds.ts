/**
 * Feeds shaped like the ones people subscribe to: Google's and Outlook's published calendars (METHOD:PUBLISH,
 * X-WR-* names, VTIMEZONEs, a DTSTAMP that is "now" on every request), a holiday feed without UIDs, and a
 * large generated one.
 */

const CRLF = "\r\n";

/** An iCalendar UTC timestamp for `date`. */
export function icsStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "X-LIC-LOCATION:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

const NEW_YORK = [
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

/**
 * A Google-style public calendar: a weekly series with one moved and one cancelled occurrence, an event with a
 * VALARM, an all-day event, non-ASCII text, a folded line, two VTIMEZONEs, and `DTSTAMP` set to `now`.
 * Four items once split: the series (with its override) and three single events.
 */
export function googleStyleFeed(now = new Date()): string {
  const stamp = `DTSTAMP:${icsStamp(now)}`;
  return [
    "BEGIN:VCALENDAR",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    "VERSION:2.0",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    "X-WR-CALNAME:Verein Müllerstraße",
    "X-WR-TIMEZONE:Europe/Berlin",
    ...BERLIN,
    ...NEW_YORK,
    "BEGIN:VEVENT",
    "DTSTART;TZID=Europe/Berlin:20240108T190000",
    "DTEND;TZID=Europe/Berlin:20240108T210000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO",
    "EXDATE;TZID=Europe/Berlin:20240122T190000",
    stamp,
    "UID:weekly-training@google.com",
    "CREATED:20231201T100000Z",
    "LAST-MODIFIED:20240101T100000Z",
    "SUMMARY:Training",
    "LOCATION:Turnhalle\\, Müllerstraße 12",
    "SEQUENCE:0",
    "STATUS:CONFIRMED",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;TZID=Europe/Berlin:20240116T183000",
    "DTEND;TZID=Europe/Berlin:20240116T203000",
    stamp,
    "UID:weekly-training@google.com",
    "RECURRENCE-ID;TZID=Europe/Berlin:20240115T190000",
    "SUMMARY:Training (moved to Tuesday)",
    "SEQUENCE:1",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;TZID=America/New_York:20240301T090000",
    "DTEND;TZID=America/New_York:20240301T100000",
    stamp,
    "UID:call-ny@google.com",
    "SUMMARY:Call with the New York office",
    "DESCRIPTION:Dial-in: +1 555 0100\\nAgenda: budget\\, travel\\, the long list of items that makes th",
    " is line fold at seventy-five octets",
    "BEGIN:VALARM",
    "ACTION:DISPLAY",
    "DESCRIPTION:Reminder",
    "TRIGGER:-P0DT0H15M0S",
    "END:VALARM",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;VALUE=DATE:20240501",
    "DTEND;VALUE=DATE:20240502",
    stamp,
    "UID:maifest@google.com",
    "SUMMARY:Maifest 🎉",
    "TRANSP:TRANSPARENT",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART:20240601T120000Z",
    "DTEND:20240601T130000Z",
    stamp,
    "UID:outlook-style-{8E5A}-0001",
    "SUMMARY:Lunch",
    "CLASS:PUBLIC",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join(CRLF);
}

/** A holiday feed whose events have no UID at all (some municipal and school feeds), `\n` line ends. */
export function holidaysWithoutUids(now = new Date()): string {
  const event = (date: string, summary: string) => [
    "BEGIN:VEVENT",
    `DTSTAMP:${icsStamp(now)}`,
    `DTSTART;VALUE=DATE:${date}`,
    `SUMMARY:${summary}`,
    "END:VEVENT",
  ];
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Stadt//Feiertage//DE",
    "METHOD:PUBLISH",
    ...event("20240101", "Neujahr"),
    ...event("20241003", "Tag der Deutschen Einheit"),
    ...event("20241225", "1. Weihnachtstag"),
    "END:VCALENDAR",
    "",
  ].join("\n");
}

/** `count` events with UIDs and one VTIMEZONE, `DTSTAMP` set to `now`. */
export function largeFeed(count: number, now = new Date()): string {
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Big//Feed//EN", "METHOD:PUBLISH", ...BERLIN];
  const stamp = `DTSTAMP:${icsStamp(now)}`;
  for (let i = 0; i < count; i++) {
    const day = String((i % 28) + 1).padStart(2, "0");
    lines.push(
      "BEGIN:VEVENT",
      `UID:event-${i}@big.example`,
      stamp,
      `DTSTART;TZID=Europe/Berlin:2024${String((i % 12) + 1).padStart(2, "0")}${day}T100000`,
      "DURATION:PT1H",
      `SUMMARY:Event number ${i}`,
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR", "");
  return lines.join(CRLF);
}

/** A published address book: two vCards in a row, no wrapper. */
export function vcardFeed(): string {
  return [
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:card-1",
    "FN:Ana Müller",
    "N:Müller;Ana;;;",
    "EMAIL;TYPE=INTERNET:ana@example.org",
    "END:VCARD",
    "BEGIN:VCARD",
    "VERSION:4.0",
    "FN:Bo Chen",
    "N:Chen;Bo;;;",
    "TEL;TYPE=cell:+49 151 0000",
    "END:VCARD",
    "",
  ].join(CRLF);
}
