// Times our engine against Python vdirsyncer on the same vdir data: first sync of N events, a no-op sync, and a
// sync after changing 1% of them on side a. Each tool gets its own copy of the data and its own status.
// Usage: node local-sync.mjs [N…]   (default: 1000 10000). Needs `pnpm build` and /usr/bin/vdirsyncer.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (sizes.length === 0) sizes.push(1000, 10000);

function event(i, rev) {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//bench//EN",
    "BEGIN:VEVENT",
    `UID:bench-${i}`,
    "DTSTAMP:20260101T000000Z",
    `DTSTART:2026${String((i % 12) + 1).padStart(2, "0")}01T100000Z`,
    "DTEND:20260101T110000Z",
    `SUMMARY:Event ${i} revision ${rev} – Grüße`,
    "DESCRIPTION:Some text that makes the item look like a real one with a little body to it.",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** Runs a command under /usr/bin/time; returns wall seconds, CPU seconds and peak RSS in MiB. */
function timed(cmd, args, cwd) {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", cmd, ...args], { cwd, encoding: "utf8" });
  const line = r.stderr.split("\n").find((l) => l.startsWith("TIME "));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr.slice(-2000)}`);
  const [, wall, user, sys, rss] = line.split(" ").map(Number);
  const copies = (r.stderr.match(/^Copying|^Deleting/gm) ?? []).length;
  return { wall, cpu: user + sys, rss: rss / 1024, copies };
}

function setup(root, n) {
  for (const tool of ["ours", "py"]) {
    mkdirSync(join(root, tool, "a"), { recursive: true });
    mkdirSync(join(root, tool, "b"), { recursive: true });
  }
  for (let i = 0; i < n; i++) writeFileSync(join(root, "ours", "a", `bench-${i}.ics`), event(i, 0));
  cpSync(join(root, "ours", "a"), join(root, "py", "a"), { recursive: true });
  writeFileSync(
    join(root, "py", "config"),
    `[general]\nstatus_path = "status/"\n\n[pair bench]\na = "bench_a"\nb = "bench_b"\ncollections = null\n\n` +
      `[storage bench_a]\ntype = "filesystem"\npath = "a/"\nfileext = ".ics"\n\n` +
      `[storage bench_b]\ntype = "filesystem"\npath = "b/"\nfileext = ".ics"\n`,
  );
}

function changeOnePercent(dir, n, rev) {
  for (let i = 0; i < n; i += 100) writeFileSync(join(dir, `bench-${i}.ics`), event(i, rev));
}

const version = execFileSync("vdirsyncer", ["--version"], { encoding: "utf8" }).trim();
const rows = [];
for (const n of sizes) {
  const root = mkdtempSync(join(tmpdir(), `vts-bench-${n}-`));
  try {
    setup(root, n);
    const ours = () => timed("node", [join(here, "sync-pair.mjs"), "a", "b", "status"], join(root, "ours"));
    const py = () => timed("vdirsyncer", ["-c", "config", "sync"], join(root, "py"));
    execFileSync("vdirsyncer", ["-c", "config", "discover"], { cwd: join(root, "py"), stdio: "ignore" });
    const scenarios = [
      ["first sync", () => {}],
      ["no-op sync", () => {}],
      ["1% changed on a", (tool, rev) => changeOnePercent(join(root, tool, "a"), n, rev)],
    ];
    let rev = 1;
    for (const [name, prepare] of scenarios) {
      prepare("ours", rev);
      prepare("py", rev);
      rev++;
      const o = ours();
      const p = py();
      rows.push({ n, name, o, p });
      console.error(`${n} ${name}: ours ${o.wall}s, vdirsyncer ${p.wall}s`);
    }
    const count = (d) => readdirSync(join(root, d, "b")).filter((f) => f.endsWith(".ics")).length;
    if (count("ours") !== n || count("py") !== n) throw new Error(`b does not hold ${n} items`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const fmt = (x, d = 2) => x.toFixed(d);
console.log(
  `\nfilesystem ↔ filesystem, ours (Node ${process.versions.node}) vs ${version}, same data, one pair`,
);
console.log(
  "| items | scenario | ours wall s | vdirsyncer wall s | wall ratio | ours CPU s | vdirsyncer CPU s | ours RSS MiB | vdirsyncer RSS MiB | writes ours / vdirsyncer |",
);
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
for (const { n, name, o, p } of rows) {
  console.log(
    `| ${n} | ${name} | ${fmt(o.wall)} | ${fmt(p.wall)} | ${fmt(o.wall / p.wall)} | ${fmt(o.cpu)} | ${fmt(p.cpu)} | ${fmt(o.rss, 0)} | ${fmt(p.rss, 0)} | ${o.copies} / ${p.copies} |`,
  );
}
