/**
 * A generated corpus of bad items: what real vdirs and servers hold once in a while. Each entry says what a
 * sync must do with it: copy it ("syncs"), report it and leave it alone ("error"), or not see it ("ignored").
 */
import { event } from "./items.ts";

export type Fate = "syncs" | "error" | "ignored" | "either";

export interface BadItem {
  /** The file name in the vdir. */
  name: string;
  /** What makes it bad. */
  what: string;
  content: string | Uint8Array;
  fate: Fate;
  /** The UID it carries when it syncs. */
  uid?: string;
}

/** Terminal control codes: set the window title, then clear the screen. */
export const TERMINAL_ATTACK = "\x1b]0;pwned\x07\x1b[2J";

function wrap(body: string): string {
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bad//EN\r\n${body}END:VCALENDAR\r\n`;
}

/** A deterministic pseudo-random byte string (not valid UTF-8). */
function junk(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 16) & 0xff;
  }
  out[0] = 0xff;
  out[1] = 0xfe;
  out[2] = 0x00;
  return out;
}

/** A ~`mb` MB event: one long DESCRIPTION, folded at 75 octets. */
function huge(uid: string, mb: number): string {
  const line = `DESCRIPTION:${"x".repeat(mb * 1024 * 1024)}`;
  const folded: string[] = [];
  for (let i = 0; i < line.length; i += 74) folded.push((i === 0 ? "" : " ") + line.slice(i, i + 74));
  return wrap(
    `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20240101T100000Z\r\n${folded.join("\r\n")}\r\nEND:VEVENT\r\n`,
  );
}

/** The corpus for a vdir. `bigMb` sizes the large item (20 in the issue). */
export function vdirCorpus(bigMb = 20): BadItem[] {
  const latin1 = Buffer.from(event("latin1", "caf\u00e9 cr\u00e8me"), "latin1");
  let deep = "";
  for (let i = 0; i < 2000; i++) deep += "BEGIN:X-NEST\r\n";
  for (let i = 0; i < 2000; i++) deep += "END:X-NEST\r\n";
  return [
    { name: "good-1.ics", what: "a plain event", content: event("good-1"), fate: "syncs", uid: "good-1" },
    { name: "good-2.ics", what: "a plain event", content: event("good-2"), fate: "syncs", uid: "good-2" },
    {
      name: "no-uid.ics",
      what: "no UID (keyed by its hash, as vdirsyncer does)",
      content: wrap("BEGIN:VEVENT\r\nDTSTART:20240101T100000Z\r\nSUMMARY:no uid\r\nEND:VEVENT\r\n"),
      fate: "syncs",
    },
    { name: "binary.ics", what: "binary junk", content: junk(4096), fate: "error" },
    { name: "latin1.ics", what: "Latin-1 bytes", content: latin1, fate: "error" },
    { name: "big.ics", what: `a ${bigMb} MB item`, content: huge("big", bigMb), fate: "either", uid: "big" },
    { name: "empty.ics", what: "an empty file", content: "", fate: "error" },
    {
      name: "broken-folding.ics",
      what: "a continuation line before any property",
      content: ` continued\r\n${event("broken-folding")}`,
      fate: "error",
    },
    {
      name: "two-uids.ics",
      what: "two different UIDs in one VCALENDAR",
      content: wrap(
        "BEGIN:VEVENT\r\nUID:two-1\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:two-2\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\n",
      ),
      fate: "either",
    },
    {
      name: "deep.ics",
      what: "2,000 nested components",
      content: wrap(`BEGIN:VEVENT\r\nUID:deep\r\nDTSTART:20240101T100000Z\r\n${deep}END:VEVENT\r\n`),
      fate: "either",
      uid: "deep",
    },
    {
      name: ".hidden.ics",
      what: "a dotfile with the vdir's extension (vdirsyncer syncs it)",
      content: event("hidden"),
      fate: "either",
    },
    {
      name: ".good-1.ics.a1b2c3.tmp",
      what: "an editor's temp file",
      content: event("tmp-1"),
      fate: "ignored",
    },
    {
      name: "good-3.ics.tmp",
      what: "a temp file with another extension",
      content: event("tmp-2"),
      fate: "ignored",
    },
  ];
}

/** A .ics starting with a UTF-8 byte order mark: vdirsyncer accepts it, so must we. */
export const BOM_ITEM: BadItem = {
  name: "bom.ics",
  what: "a UTF-8 BOM (vdirsyncer accepts it)",
  content: `\ufeff${event("bom")}`,
  fate: "syncs",
  uid: "bom",
};

/** An item whose UID holds terminal control codes: it may sync, but the codes must not reach the output. */
export const TERMINAL_ITEM: BadItem = {
  name: "terminal.ics",
  what: "terminal control codes in the UID",
  content: event(`esc${TERMINAL_ATTACK}x`),
  fate: "either",
};

/** UIDs a server may hand out that must not become paths (synced into a vdir). */
export const ODD_SERVER_UIDS: readonly { uid: string; what: string }[] = [
  { uid: "../x", what: "`../x`" },
  { uid: "/abs", what: "`/abs`" },
  { uid: "..", what: "`..`" },
  { uid: "u".repeat(300), what: "300 characters" },
  { uid: "ctl\x01\x02\x7f", what: "control characters" },
  { uid: "a%2Fb", what: "`%2F`" },
  { uid: `srv${TERMINAL_ATTACK}`, what: "terminal control codes" },
];
