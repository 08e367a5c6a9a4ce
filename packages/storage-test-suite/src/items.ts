import { randomUUID } from "node:crypto";
import { Item } from "@vdirsyncer/core";

/** The item types the suite builds; calendars hold VEVENT and VTODO, address books VCARD. */
export type ItemType = "VEVENT" | "VTODO" | "VCARD";

/** A random UID: safe in file names and URLs, unique per call. */
export function randomUid(): string {
  return randomUUID();
}

/** A random value for the `X-SOMETHING` line, so that two builds with the same UID differ in content. */
function randomTag(): string {
  return randomUUID().slice(0, 8);
}

function lines(...parts: (string | undefined)[]): string {
  // CRLF with a trailing line break, as RFC 5545/6350 servers produce; hashes ignore the line ending anyway.
  return `${parts.filter((p) => p !== undefined).join("\r\n")}\r\n`;
}

/**
 * Builds a VEVENT in a VCALENDAR (the shape of vdirsyncer's `EVENT_TEMPLATE`), with non-ASCII text.
 * @param uid the UID; a random one when omitted, none at all when `null`
 * @param extra content lines (CRLF-separated) added at the end of the VEVENT
 */
export function makeEvent(uid: string | null = randomUid(), extra?: string): Item {
  return new Item(
    lines(
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//hacksw/handcal//NONSGML v1.0//EN",
      "BEGIN:VEVENT",
      "DTSTART:19970714T170000Z",
      "DTEND:19970715T035959Z",
      "SUMMARY:Bastille Day Party – fête à Zürich",
      `X-SOMETHING:${randomTag()}`,
      uid === null ? undefined : `UID:${uid}`,
      extra,
      "END:VEVENT",
      "END:VCALENDAR",
    ),
  );
}

/**
 * Builds a VTODO in a VCALENDAR (the shape of vdirsyncer's `TASK_TEMPLATE`), with non-ASCII text.
 * @param uid the UID; a random one when omitted, none at all when `null`
 * @param extra content lines (CRLF-separated) added at the end of the VTODO
 */
export function makeTodo(uid: string | null = randomUid(), extra?: string): Item {
  return new Item(
    lines(
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//dmfs.org//mimedir.icalendar//EN",
      "BEGIN:VTODO",
      "CREATED:20130721T142233Z",
      "DTSTAMP:20130730T074543Z",
      "LAST-MODIFIED;VALUE=DATE-TIME:20140122T151338Z",
      "SEQUENCE:2",
      "SUMMARY:Book: Kowlani - Tödlicher Staub",
      `X-SOMETHING:${randomTag()}`,
      uid === null ? undefined : `UID:${uid}`,
      extra,
      "END:VTODO",
      "END:VCALENDAR",
    ),
  );
}

/**
 * Builds a vCard 3.0 (the shape of vdirsyncer's `VCARD_TEMPLATE`), with non-ASCII text.
 * @param uid the UID; a random one when omitted, none at all when `null`
 * @param extra content lines (CRLF-separated) added before `END:VCARD`
 */
export function makeCard(uid: string | null = randomUid(), extra?: string): Item {
  return new Item(
    lines(
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Cyrus Daboo",
      "N:Daboo;Cyrus;;;",
      "ADR;TYPE=POSTAL:;2822 Email HQ;Suite 2821;RFCVille;PA;15213;USA",
      "EMAIL;TYPE=PREF:cyrus@example.com",
      "NICKNAME:Дядя Сайрус",
      "NOTE:Example VCard. Grüße!",
      "ORG:Self Employed",
      "TEL;TYPE=VOICE:412 605 0499",
      "TEL;TYPE=FAX:412 605 0705",
      "URL;VALUE=URI:http://www.example.com",
      `X-SOMETHING:${randomTag()}`,
      uid === null ? undefined : `UID:${uid}`,
      extra,
      "END:VCARD",
    ),
  );
}

/**
 * Builds an item of the given type.
 * @param uid the UID; a random one when omitted, none at all when `null`
 */
export function makeItem(type: ItemType, uid?: string | null, extra?: string): Item {
  switch (type) {
    case "VEVENT":
      return makeEvent(uid, extra);
    case "VTODO":
      return makeTodo(uid, extra);
    case "VCARD":
      return makeCard(uid, extra);
  }
}

/**
 * Builds a recurring VEVENT together with an override of one occurrence (a second VEVENT with the same UID and a
 * `RECURRENCE-ID`): one item, as RFC 4791 requires them to travel together.
 */
export function makeRecurringEvent(uid: string = randomUid()): Item {
  return new Item(
    lines(
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//vdirsyncer-ts//storage-test-suite//EN",
      "BEGIN:VEVENT",
      "DTSTART;VALUE=DATE:20140101",
      "DTEND;VALUE=DATE:20140102",
      "RRULE:FREQ=WEEKLY;COUNT=10",
      "SUMMARY:Weekly standup – Wöchentlich",
      `UID:${uid}`,
      "END:VEVENT",
      "BEGIN:VEVENT",
      "RECURRENCE-ID;VALUE=DATE:20140108",
      "DTSTART;VALUE=DATE:20140109",
      "DTEND;VALUE=DATE:20140110",
      "SUMMARY:Weekly standup (moved) – verschoben",
      `UID:${uid}`,
      "END:VEVENT",
      "END:VCALENDAR",
    ),
  );
}

/** Item types for each kind of collection a storage declares. */
export function itemTypesFor(kinds: readonly ("calendar" | "addressbook")[]): ItemType[] {
  const types: ItemType[] = [];
  if (kinds.includes("calendar")) types.push("VEVENT", "VTODO");
  if (kinds.includes("addressbook")) types.push("VCARD");
  return types;
}
