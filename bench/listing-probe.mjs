// Times the single requests a listing strategy is made of, on one seeded collection per server: getctag alone,
// the sync-token property (first and later calls), PROPFIND Depth 1, one query with all data, and after 1% of the
// items changed in the server's storage: getctag, a sync-collection delta and a multiget of only the changed hrefs.
// These decide the server profiles in packages/dav/src/profiles.ts (numbers in bench/README.md).
//
// Usage: node bench/listing-probe.mjs [--servers radicale,xandikos] [--size 10000] [--out FILE]
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  authHeaders,
  seedRadicaleCollection,
  seedXandikosCollection,
  startServer,
} from "@vdirsyncer/test-servers";
import { Agent, setGlobalDispatcher, fetch as undiciFetch } from "undici";

// Same reason as in dav-sync.mjs: Node 24's built-in fetch can die on Radicale's large HTTP/1.0 answers.
setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0 }));
globalThis.fetch = undiciFetch;

const { values: args } = parseArgs({
  options: {
    servers: { type: "string", default: "radicale,xandikos" },
    size: { type: "string", default: "10000" },
    out: { type: "string" },
  },
});
const n = Number(args.size);
const NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"';

function event(i, rev) {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//vdirsyncer-ts//bench//EN",
    "BEGIN:VEVENT",
    `UID:bench-${i}`,
    "DTSTAMP:20260101T000000Z",
    `DTSTART:2026${String((i % 12) + 1).padStart(2, "0")}${String((i % 28) + 1).padStart(2, "0")}T100000Z`,
    "DURATION:PT1H",
    `SUMMARY:Event ${i} revision ${rev}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}
function* items(count, rev = 0, step = 1) {
  for (let i = 0; i < count; i += step) yield { name: `bench-${i}.ics`, text: event(i, rev) };
}

async function timedRequest(server, url, method, depth, body) {
  const started = performance.now();
  const res = await fetch(url, {
    method,
    headers: { depth, "content-type": "application/xml; charset=utf-8", ...authHeaders(server) },
    body: `<?xml version="1.0" encoding="utf-8"?>${body}`,
  });
  const text = await res.text();
  return { status: res.status, text, seconds: (performance.now() - started) / 1000 };
}

const prop = (p) => `<D:propfind ${NS}><D:prop>${p}</D:prop></D:propfind>`;
const REQ = {
  getctag: ["PROPFIND", "0", prop("<CS:getctag/>")],
  "sync-token property": ["PROPFIND", "0", prop("<D:sync-token/>")],
  "PROPFIND Depth 1": ["PROPFIND", "1", prop("<D:getetag/><D:resourcetype/><D:getcontenttype/>")],
  "query with data": [
    "REPORT",
    "1",
    `<C:calendar-query ${NS}><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`,
  ],
};
const syncCollection = (token) => [
  "REPORT",
  "0",
  `<D:sync-collection ${NS}><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
];
const multiget = (hrefs) => [
  "REPORT",
  "1",
  `<C:calendar-multiget ${NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join("")}</C:calendar-multiget>`,
];

const value = (text, name) => text.match(new RegExp(`<(?:\\w+:)?${name}[^>]*>([^<]*)<`))?.[1];
const count = (text, re) => (text.match(re) ?? []).length;

const report = [
  `Date: ${new Date().toISOString()} · ${cpus()[0]?.model ?? "?"} × ${cpus().length} · Node ${process.versions.node} · load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")} at the start`,
  `Run: \`node bench/listing-probe.mjs --servers ${args.servers} --size ${n}\` (one collection of ${n} events per server; requests in this order)`,
  "",
  "| server | items | request | seconds | status or value |",
  "|---|---:|---|---:|---|",
];
for (const l of report) console.log(l);

for (const kind of args.servers.split(",")) {
  const server = await startServer(kind);
  const line = (label, r) => {
    const l = `| ${kind} | ${n} | ${label} | ${r.seconds === undefined ? "" : r.seconds.toFixed(2)} | ${r.status} |`;
    report.push(l);
    console.log(l);
  };
  try {
    const seedPath = kind === "radicale" ? "user/probe" : "user/calendars/calendar";
    const seed = (it) =>
      kind === "radicale"
        ? seedRadicaleCollection(server, seedPath, "calendar", it)
        : seedXandikosCollection(server, seedPath, it);
    const { url, count: seeded } = await seed(items(n));
    if (seeded !== n) throw new Error(`seeded ${seeded} of ${n}`);
    const run = async (label, req) => {
      const r = await timedRequest(server, url, ...req);
      line(label, r);
      return r;
    };
    const ctag1 = await run("getctag (1st)", REQ.getctag);
    line("getctag value", { status: value(ctag1.text, "getctag") ?? "none" });
    await run("getctag (2nd)", REQ.getctag);
    await run("query with data", REQ["query with data"]);
    await run("PROPFIND Depth 1", REQ["PROPFIND Depth 1"]);
    await run("sync-token property (1st)", REQ["sync-token property"]);
    const tok = await run("sync-token property (2nd)", REQ["sync-token property"]);
    const token = value(tok.text, "sync-token");
    await run("getctag after sync-token", REQ.getctag);

    await seed(items(n, 1, 100)); // 1% changed in the server's storage (also runs a PROPFIND Depth 1)
    const ctag2 = await run("after 1% change: getctag", REQ.getctag);
    line("ctag changed", {
      status: value(ctag1.text, "getctag") !== value(ctag2.text, "getctag"),
    });
    const delta = await run("after 1% change: sync-collection delta", syncCollection(token ?? ""));
    const hrefs = [...delta.text.matchAll(/<(?:\w+:)?href>([^<]*\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1]);
    line("delta hrefs", { status: hrefs.length });
    const mg = await run("after 1% change: multiget of the changed", multiget(hrefs));
    line("multiget items", { status: count(mg.text, /BEGIN:VCALENDAR/g) });
    await run("after 1% change: the same multiget again", multiget(hrefs));
    await run(
      "multiget of 10 unchanged hrefs",
      multiget(Array.from({ length: 10 }, (_, i) => `${new URL(url).pathname}bench-${i * 7 + 1}.ics`)),
    );
    const q = await run("after 1% change: query with data", REQ["query with data"]);
    line("query items", { status: count(q.text, /BEGIN:VCALENDAR/g) });
    await run("after 1% change: sync-token property", REQ["sync-token property"]);
  } finally {
    await server.stop();
  }
}
if (args.out) writeFileSync(args.out, `${report.join("\n")}\n`);
