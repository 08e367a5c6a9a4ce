// Times our `vdirsyncer` command against Python vdirsyncer 0.19 on real Radicale and Xandikos servers: a calendar
// of N events (and an address book) seeded into the server's storage, then first sync, no-op sync, 1% changed on
// the server and 1% changed locally. Each tool syncs its own identically seeded server collection into its own
// vdir with its own status, through a counting proxy (requests per run), under /usr/bin/time (wall, CPU, RSS).
// The fastest ways each server offers to fetch everything are measured on fresh copies for comparison.
//
// Usage: node bench/dav-sync.mjs [--servers radicale,xandikos] [--sizes 1000,10000] [--contacts 1000]
//                                [--timeout 330] [--budget 3600] [--out bench/results/dav.md] [--probe-only]
// Needs `pnpm build`, /usr/bin/vdirsyncer, /usr/bin/radicale, /usr/bin/xandikos, /usr/bin/time, git.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  authHeaders,
  seedRadicaleCollection,
  seedXandikosCollection,
  startServer,
} from "@vdirsyncer/test-servers";
import { Agent, setGlobalDispatcher, fetch as undiciFetch } from "undici";
import { startCountingProxy } from "./lib/proxy.mjs";

// Node 24's built-in fetch (undici 7) can die on an uncatchable `assert(!this.paused)` when Radicale (HTTP/1.0,
// connection close) ends a large answer while the body is paused (nodejs/undici#5360); undici 8 has the fix.
// The seeding helpers use the global fetch; both fetch implementations use the global dispatcher, so that is
// made undici 8's too (otherwise undici 8's fetch would run on Node's built-in Agent).
setGlobalDispatcher(new Agent());
globalThis.fetch = undiciFetch;

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const { values: args } = parseArgs({
  options: {
    servers: { type: "string", default: "radicale,xandikos" },
    sizes: { type: "string", default: "1000,10000" },
    contacts: { type: "string", default: "1000" },
    timeout: { type: "string", default: "330" },
    budget: { type: "string", default: "3600" },
    out: { type: "string" },
    "probe-only": { type: "boolean", default: false },
  },
});
const servers = args.servers.split(",").filter(Boolean);
const sizes = args.sizes.split(",").map(Number).filter(Boolean);
const contactSizes = args.contacts.split(",").map(Number).filter(Boolean);
const timeoutMs = Number(args.timeout) * 1000;
// The whole run is bounded: no tool run outlives the budget, and no server/size starts after it is spent.
const deadline = performance.now() + Number(args.budget) * 1000;
const remainingMs = () => deadline - performance.now();
const runTimeoutMs = () => Math.max(1000, Math.min(timeoutMs, remainingMs()));
const ourBin = join(repo, "apps/cli/bin/vdirsyncer.js");
const t0 = performance.now();
const progress = (m) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${m}`);

// ---------------------------------------------------------------- items

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
    `SUMMARY:Event ${i} revision ${rev} – Grüße`,
    "DESCRIPTION:Some text that makes the item look like a real one with a little body to it.",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

function contact(i, rev) {
  return [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:bench-${i}`,
    `FN:Person ${i} rev ${rev}`,
    `N:Person ${i};Rev ${rev};;;`,
    `EMAIL;TYPE=INTERNET:person${i}@example.org`,
    "TEL;TYPE=CELL:+49 30 1234567",
    "END:VCARD",
    "",
  ].join("\r\n");
}

const KINDS = {
  calendar: { make: event, ext: ".ics", type: "caldav", home: "calendars" },
  addressbook: { make: contact, ext: ".vcf", type: "carddav", home: "contacts" },
};

function* items(kind, n, rev = 0, step = 1) {
  for (let i = 0; i < n; i += step)
    yield { name: `bench-${i}${KINDS[kind].ext}`, text: KINDS[kind].make(i, rev) };
}

// ---------------------------------------------------------------- server collections

const DAV = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:R="urn:ietf:params:xml:ns:carddav"';

/** Creates (Xandikos) and seeds one collection; returns its URL after checking the PROPFIND count. */
async function seed(server, kind, name, n) {
  let result;
  if (server.kind === "radicale") {
    result = await seedRadicaleCollection(server, `user/${name}`, kind, items(kind, n));
  } else {
    const url = `${server.url}user/${KINDS[kind].home}/${name}/`;
    const body =
      kind === "calendar"
        ? `<?xml version="1.0"?><C:mkcalendar ${DAV}><D:set><D:prop><D:displayname>${name}</D:displayname></D:prop></D:set></C:mkcalendar>`
        : '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:R="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>' +
          "<D:resourcetype><D:collection/><R:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>";
    const res = await fetch(url, {
      method: kind === "calendar" ? "MKCALENDAR" : "MKCOL",
      headers: { "content-type": "application/xml", ...authHeaders(server) },
      body,
    });
    if (res.status !== 201) throw new Error(`Creating ${url} answered ${res.status}: ${await res.text()}`);
    result = await seedXandikosCollection(server, `user/${KINDS[kind].home}/${name}`, items(kind, n));
  }
  if (result.count !== n) throw new Error(`${result.url} lists ${result.count} items after seeding ${n}.`);
  return result.url;
}

/** Changes every 100th item in the server's own storage (no HTTP), as another client's writes would. */
async function changeOnServer(server, kind, name, n, rev) {
  const changed = items(kind, n, rev, 100);
  if (server.kind === "radicale") await seedRadicaleCollection(server, `user/${name}`, kind, changed);
  else await seedXandikosCollection(server, `user/${KINDS[kind].home}/${name}`, changed);
}

// ---------------------------------------------------------------- running a tool

/** Runs a command under /usr/bin/time, killed (whole process group) after the timeout. */
function timed(cmd, cmdArgs, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/time", ["-f", "TIME %e %U %S %M", cmd, ...cmdArgs], {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-4_000_000);
    });
    const started = performance.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, runTimeoutMs());
    child.on("close", (code) => {
      clearTimeout(timer);
      const wallNow = (performance.now() - started) / 1000;
      const line = err.split("\n").find((l) => l.startsWith("TIME "));
      const copies = (err.match(/^(Copying|Updating|Deleting)/gm) ?? []).length;
      if (timedOut) return resolve({ failed: "timeout", wall: wallNow, copies });
      if (!line || code !== 0) {
        const tail = err
          .split("\n")
          .filter((l) => !l.startsWith("TIME "))
          .slice(-15)
          .join("\n");
        return resolve({
          failed: `exit ${code}`,
          wall: wallNow,
          copies,
          tail: `${tail}\n${out.slice(-500)}`,
        });
      }
      const [, wall, user, sys, rss] = line.split(" ").map(Number);
      resolve({ wall, cpu: user + sys, rss: rss / 1024, copies });
    });
  });
}

function writeConfig(dir, kind, url, server) {
  const { type, ext } = KINDS[kind];
  const auth =
    server.username !== undefined ? `username = "${server.username}"\npassword = "${server.password}"\n` : "";
  const config =
    `[general]\nstatus_path = "${join(dir, "status")}/"\n\n` +
    `[pair bench]\na = "bench_local"\nb = "bench_remote"\ncollections = null\nconflict_resolution = "b wins"\n\n` +
    `[storage bench_local]\ntype = "filesystem"\npath = "${join(dir, "vdir")}/"\nfileext = "${ext}"\n\n` +
    `[storage bench_remote]\ntype = "${type}"\nurl = "${url}"\n${auth}`;
  mkdirSync(join(dir, "vdir"), { recursive: true });
  writeFileSync(join(dir, "config"), config);
  return join(dir, "config");
}

const TOOLS = {
  ours: (config) => ({ cmd: process.execPath, pre: [ourBin], env: { VDIRSYNCER_CONFIG: config } }),
  py: (config) => ({ cmd: "/usr/bin/vdirsyncer", pre: [], env: { VDIRSYNCER_CONFIG: config } }),
};

async function runTool(tool, dir, proxy, command) {
  const { cmd, pre, env } = TOOLS[tool](join(dir, "config"));
  proxy.reset();
  const r = await timed(cmd, [...pre, ...command], env, dir);
  return { ...r, http: proxy.stats() };
}

/** Changes every 100th file of a vdir, as khal or an editor would (a new file replaces the old one). */
function changeLocally(kind, dir, n, rev) {
  for (const { name, text } of items(kind, n, rev, 100)) {
    const target = join(dir, "vdir", name.replace(/^bench-/, "bench-"));
    writeFileSync(`${target}.tmp`, text.replace("revision", "local revision").replace("rev ", "local rev "));
    rmSync(target, { force: true });
    writeFileSync(target, readFileSync(`${target}.tmp`));
    rmSync(`${target}.tmp`);
  }
}

// ---------------------------------------------------------------- fastest server paths

const PROBES = {
  "PROPFIND Depth 1 (etags)": {
    method: "PROPFIND",
    depth: "1",
    body: () =>
      `<D:propfind ${DAV}><D:prop><D:getetag/><D:resourcetype/><D:getcontenttype/></D:prop></D:propfind>`,
  },
  "sync-collection, no data": {
    method: "REPORT",
    depth: "0",
    body: () =>
      `<D:sync-collection ${DAV}><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
  },
  "sync-collection with data": {
    data: true,
    method: "REPORT",
    depth: "0",
    body: (kind) =>
      `<D:sync-collection ${DAV}><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/>${
        kind === "calendar" ? "<C:calendar-data/>" : "<R:address-data/>"
      }</D:prop></D:sync-collection>`,
  },
  "query with data (one request)": {
    data: true,
    method: "REPORT",
    depth: "1",
    body: (kind) =>
      kind === "calendar"
        ? `<C:calendar-query ${DAV}><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
        : `<R:addressbook-query ${DAV}><D:prop><D:getetag/><R:address-data/></D:prop></R:addressbook-query>`,
  },
};

/** Times each probe once, each on its own freshly seeded collection (so every one meets a cold server). */
async function probeFastest(server, kind, n) {
  const out = {};
  let i = 0;
  for (const [label, p] of Object.entries(PROBES)) {
    const url = await seed(server, kind, `probe-${kind}-${n}-${i++}`, n);
    const started = performance.now();
    let note = "";
    try {
      const res = await fetch(url, {
        method: p.method,
        headers: { depth: p.depth, "content-type": "application/xml; charset=utf-8", ...authHeaders(server) },
        body: `<?xml version="1.0" encoding="utf-8"?>${p.body(kind)}`,
        signal: AbortSignal.timeout(runTimeoutMs()),
      });
      const body = await res.text();
      const responses = (body.match(/<(?:[A-Za-z_][\w.-]*:)?response[\s>]/g) ?? []).length;
      const data = (body.match(/BEGIN:(VCALENDAR|VCARD)/g) ?? []).length;
      if (res.status !== 207) note = `answered ${res.status}`;
      else if (responses < n) note = `only ${responses} responses`;
      else if (p.data && data < n) note = `no data (${data} items with data)`;
    } catch (err) {
      note = `failed (${err.name === "TimeoutError" ? "timeout" : err.message})`;
    }
    out[label] = { seconds: (performance.now() - started) / 1000, note };
    progress(`${server.kind} ${kind} ${n}: ${label} ${out[label].seconds.toFixed(2)} s ${note}`);
  }
  return out;
}

// ---------------------------------------------------------------- one server, one size

const SCENARIOS = ["first sync", "no-op sync", "1% changed on server", "1% changed locally"];

async function benchOne(server, proxy, kind, n, root, out) {
  progress(`${server.kind}: seeding two ${kind} collections of ${n}`);
  const urls = {};
  for (const tool of ["ours", "py"]) urls[tool] = await seed(server, kind, `${tool}-${kind}-${n}`, n);
  const dirs = {};
  for (const tool of ["ours", "py"]) {
    dirs[tool] = join(root, `${server.kind}-${kind}-${n}-${tool}`);
    writeConfig(dirs[tool], kind, proxy.via(urls[tool]), server);
    const d = await runTool(tool, dirs[tool], proxy, ["discover"]);
    if (d.failed) throw new Error(`${tool} discover failed (${d.failed}):\n${d.tail ?? ""}`);
  }
  // Rows go into the report as soon as they exist, so a later failure keeps what was measured. Each tool runs
  // all its scenarios before the other starts: a request vdirsyncer abandons (its 300 s timeout) keeps a
  // single-threaded server busy long afterwards and must not stall our runs.
  const rows = SCENARIOS.map((scenario) => ({ server: server.kind, kind, n, scenario, ours: {}, py: {} }));
  out.push(...rows);
  for (const tool of ["ours", "py"]) {
    let dead;
    for (const [s, scenario] of SCENARIOS.entries()) {
      const rev = s + 1 + (tool === "py" ? 10 : 0);
      if (dead) {
        rows[s][tool] = { failed: dead, skipped: true };
        continue;
      }
      if (remainingMs() < 5_000) {
        rows[s][tool] = { failed: "not run: budget spent", skipped: true };
        continue;
      }
      if (scenario === "1% changed on server")
        await changeOnServer(server, kind, `${tool}-${kind}-${n}`, n, rev);
      if (scenario === "1% changed locally") changeLocally(kind, dirs[tool], n, rev);
      const r = await runTool(tool, dirs[tool], proxy, ["sync"]);
      rows[s][tool] = r;
      const files = readdirSync(join(dirs[tool], "vdir")).filter((f) => f.endsWith(KINDS[kind].ext)).length;
      if (!r.failed && files !== n) r.note = `vdir holds ${files}`;
      if (r.failed && scenario === "first sync") dead = "not run: first sync failed";
      progress(
        `${server.kind} ${kind} ${n} ${scenario}: ${tool} ${r.failed ? `FAILED (${r.failed})` : `${r.wall.toFixed(2)} s`}, ` +
          `${r.http.count} requests, ${r.copies} writes${r.note ? `, ${r.note}` : ""}`,
      );
      if (r.failed && r.tail) console.error(r.tail);
      if (r.failed && tool === "ours") dead = `not run: our ${scenario} failed`;
    }
  }
}

// ---------------------------------------------------------------- report

const fmt = (x, d = 2) => (x === undefined ? "–" : x.toFixed(d));
function cell(r, key, d) {
  if (r.failed) return key === "wall" ? (r.skipped ? r.failed : `failed (${r.failed})`) : "–";
  return fmt(r[key], d);
}
function ratio(o, p, key) {
  if (o.failed || p.failed) return p.failed && !p.skipped && !o.failed ? `vdirsyncer failed` : "–";
  return fmt(o[key] / p[key]);
}

function table(rows) {
  const lines = [
    "| server | items | scenario | ours wall s | vdirsyncer wall s | ours / vdirsyncer | ours CPU s | vdirsyncer CPU s | ours RSS MiB | vdirsyncer RSS MiB | requests ours / vdirsyncer | writes ours / vdirsyncer |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { server, kind, n, scenario, ours: o, py: p } of rows) {
    lines.push(
      `| ${server} | ${n} ${kind === "calendar" ? "events" : "contacts"} | ${scenario} | ${cell(o, "wall")} | ${cell(p, "wall")} | ${ratio(o, p, "wall")} | ${cell(o, "cpu")} | ${cell(p, "cpu")} | ${cell(o, "rss", 0)} | ${cell(p, "rss", 0)} | ${o.skipped ? "–" : (o.http?.count ?? "–")} / ${p.skipped ? "–" : (p.http?.count ?? "–")} | ${o.copies ?? "–"} / ${p.skipped ? "–" : (p.copies ?? "–")} |`,
    );
  }
  return lines.join("\n");
}

function detailTable(rows) {
  const lines = [
    "| server | items | scenario | ours: requests by method | ours: server busy s (writes) | vdirsyncer: requests by method | vdirsyncer: server busy s (writes) |",
    "|---|---:|---|---|---:|---|---:|",
  ];
  const methods = (r) =>
    r.http
      ? Object.entries(r.http.byMethod)
          .map(([m, c]) => `${m} ${c}`)
          .join(", ")
      : "–";
  const busy = (r) => (r.http ? `${fmt(r.http.busy)} (${fmt(r.http.writeBusy)})` : "–");
  for (const { server, kind, n, scenario, ours: o, py: p } of rows) {
    lines.push(
      `| ${server} | ${n} ${kind === "calendar" ? "events" : "contacts"} | ${scenario} | ${methods(o)} | ${busy(o)} | ${p.skipped ? "–" : methods(p)} | ${p.skipped ? "–" : busy(p)} |`,
    );
  }
  return lines.join("\n");
}

function probeTable(probes) {
  const lines = ["| server | items | way | seconds | note |", "|---|---:|---|---:|---|"];
  for (const { server, kind, n, result } of probes) {
    for (const [label, { seconds, note }] of Object.entries(result)) {
      lines.push(
        `| ${server} | ${n} ${kind === "calendar" ? "events" : "contacts"} | ${label} | ${fmt(seconds)} | ${note} |`,
      );
    }
  }
  return lines.join("\n");
}

async function versionOf(cmd, cmdArgs) {
  return new Promise((resolve) => {
    const c = spawn(cmd, cmdArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.stderr.on("data", (d) => {
      out += d;
    });
    c.on("close", () => resolve(out.trim().split("\n")[0]));
    c.on("error", () => resolve("unknown"));
  });
}

// ---------------------------------------------------------------- main

const root = mkdtempSync(join(tmpdir(), "vts-dav-bench-"));
const rows = [];
const probes = [];
const started = new Date();
const running = new Set();
const cleanup = async () => {
  for (const s of running) await s.stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  void cleanup().then(() => process.exit(130));
});
const notRun = [];
const loadAtStart = loadavg();
try {
  for (const kindName of servers) {
    const plan = [...sizes.map((n) => ["calendar", n]), ...contactSizes.map((n) => ["addressbook", n])];
    for (const [kind, n] of plan) {
      if (remainingMs() < 60_000) {
        notRun.push(`${kindName} ${n} ${kind === "calendar" ? "events" : "contacts"}`);
        progress(`${kindName} ${kind} ${n}: not run, the --budget is spent`);
        continue;
      }
      // A fresh server per size: a request a tool abandoned (vdirsyncer's 300 s timeout on Xandikos) keeps the
      // single-threaded server busy long afterwards and must not stall the next size.
      progress(`starting ${kindName} for ${n} ${kind}`);
      const server = await startServer(kindName);
      running.add(server);
      const proxy = await startCountingProxy(server.url);
      try {
        probes.push({ server: kindName, kind, n, result: await probeFastest(server, kind, n) });
        if (!args["probe-only"]) await benchOne(server, proxy, kind, n, root, rows);
      } catch (err) {
        progress(`${kindName} ${kind} ${n}: ${err.message}`);
      } finally {
        await proxy.close();
        await server.stop();
        running.delete(server);
      }
    }
  }
} finally {
  await cleanup();
}
const loadAtEnd = loadavg();

const versions = {
  ours: await versionOf(process.execPath, [ourBin, "--version"]),
  commit: await versionOf("git", ["-C", repo, "rev-parse", "--short", "HEAD"]),
  vdirsyncer: await versionOf("/usr/bin/vdirsyncer", ["--version"]),
  radicale: await versionOf("/usr/bin/radicale", ["--version"]),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  xandikos: await versionOf("dpkg-query", ["-W", "-f=${Version}", "xandikos"]),
};
const report = [
  `Date: ${started.toISOString()} · machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${process.platform} · Node ${process.versions.node}`,
  `Ours: ${versions.ours} (built from ${versions.commit}) · Python vdirsyncer: ${versions.vdirsyncer} · Radicale ${versions.radicale} · Xandikos ${versions.xandikos}`,
  `Run: \`node bench/dav-sync.mjs --servers ${args.servers} --sizes ${args.sizes} --contacts ${args.contacts} --timeout ${args.timeout} --budget ${args.budget}\` (total ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  `Load average (1/5/15 min): ${loadAtStart.map((x) => x.toFixed(2)).join(" / ")} at the start, ${loadAtEnd.map((x) => x.toFixed(2)).join(" / ")} at the end`,
  ...(notRun.length > 0 ? [`Not run (budget spent): ${notRun.join(", ")}`] : []),
  "",
  table(rows),
  "",
  "Requests per method and the time the server was busy (at least one request in flight, from the proxy; in brackets: PUT/DELETE only):",
  "",
  detailTable(rows),
  "",
  "The fastest ways each server offers to fetch a whole collection (one request, each on its own freshly seeded copy):",
  "",
  probeTable(probes),
  "",
].join("\n");
console.log(report);
if (args.out) writeFileSync(args.out, report);
