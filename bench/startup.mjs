// Start-up time of the command against bare Node and Python vdirsyncer, measured in one run: each command runs
// N times, the commands taking turns (so a change in the machine's load hits all of them alike), and the table
// shows medians and the difference to `node -e 0`. Optionally writes a CPU profile of one `--version` run and
// lists where its time went, per file.
// Usage: node bench/startup.mjs [--runs 30] [--profile]     (needs `pnpm build`; the runs are capped at 200)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const runsArg = args.indexOf("--runs");
const runs = Math.min(200, Math.max(1, runsArg >= 0 ? Number(args[runsArg + 1]) || 30 : 30));
const profile = args.includes("--profile");

const node = process.execPath;
const npmBin = join(root, "apps/cli/bin/vdirsyncer.js");
const checkoutBin = join(root, "bin/vdirsyncer");
const python = "/usr/bin/vdirsyncer";
if (!existsSync(join(root, "apps/cli/dist/index.js"))) {
  console.error("error: the command is not built; run pnpm run build first");
  process.exit(1);
}

/** Each row: a label and the command line; `base` marks the row the others are compared with. */
const rows = [
  { label: "node -e 0", cmd: node, argv: ["-e", "0"], base: true },
  { label: "npm bin --version", cmd: node, argv: [npmBin, "--version"] },
  {
    label: "npm bin --version, no compile cache",
    cmd: node,
    argv: [npmBin, "--version"],
    env: { NODE_DISABLE_COMPILE_CACHE: "1" },
  },
  { label: "npm bin --help", cmd: node, argv: [npmBin, "--help"] },
  { label: "npm bin sync --help", cmd: node, argv: [npmBin, "sync", "--help"] },
  { label: "bin/vdirsyncer --version", cmd: checkoutBin, argv: ["--version"] },
];
if (existsSync(python)) rows.push({ label: "Python vdirsyncer --version", cmd: python, argv: ["--version"] });

// CPU time (user + system) comes from /usr/bin/time where it exists: on a busy machine it moves much less than
// the wall time. The wrapper costs every row the same.
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** One run: wall milliseconds and, with /usr/bin/time, CPU milliseconds. */
function once(row) {
  const [cmd, argv] = timeBin ? [timeBin, ["-f", "CPU %U %S", row.cmd, ...row.argv]] : [row.cmd, row.argv];
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, {
    encoding: "utf8",
    env: { ...process.env, ...row.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${row.label} failed (${r.status}):\n${r.stderr}`);
  const cpu = /^CPU ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  return { wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n) => n.toFixed(0);

// One warm-up run each (fills the compile cache and the page cache), not counted.
for (const row of rows) once(row);
const loadStart = loadavg();
const times = rows.map(() => []);
for (let i = 0; i < runs; i++) {
  for (const [j, row] of rows.entries()) times[j].push(once(row));
}
const loadEnd = loadavg();

const walls = times.map((t) => t.map((x) => x.wall));
const cpus = times.map((t) => t.map((x) => x.cpu));
const b = rows.findIndex((r) => r.base);
const base = median(walls[b]);
const baseCpu = median(cpus[b]);
const out = [];
out.push(
  `Node ${process.version}, ${runs} runs each, load average ${loadStart[0].toFixed(2)} at the start and ${loadEnd[0].toFixed(2)} at the end`,
  "",
  "| command | wall ms, median | min | vs node -e 0 | CPU ms, median | vs node -e 0 |",
  "|---|---:|---:|---:|---:|---:|",
);
const vs = (m, b0) => `${m >= b0 ? "+" : ""}${fmt(m - b0)} (×${(m / b0).toFixed(2)})`;
rows.forEach((row, j) => {
  const m = median(walls[j]);
  const c = median(cpus[j]);
  out.push(
    `| ${row.label} | ${fmt(m)} | ${fmt(Math.min(...walls[j]))} | ${row.base ? "" : vs(m, base)} | ${fmt(c)} | ${row.base ? "" : vs(c, baseCpu)} |`,
  );
});
console.log(out.join("\n"));

if (profile) {
  const dir = mkdtempSync(join(tmpdir(), "vdirsyncer-startup-"));
  try {
    spawnSync(node, ["--cpu-prof", "--cpu-prof-dir", dir, npmBin, "--version"], { stdio: "ignore" });
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    const prof = JSON.parse(readFileSync(join(dir, file), "utf8"));
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const selfUs = new Map();
    const dt = prof.timeDeltas;
    prof.samples.forEach((id, i) => {
      const url = byId.get(id).callFrame.url || `(${byId.get(id).callFrame.functionName || "native"})`;
      selfUs.set(url, (selfUs.get(url) ?? 0) + (dt[i] ?? 0));
    });
    const files = new Set(prof.nodes.map((n) => n.callFrame.url).filter((u) => u.startsWith("file:")));
    const total = (prof.endTime - prof.startTime) / 1000;
    console.log(
      `\nCPU profile of one \`--version\` run: ${fmt(total)} ms profiled, ${files.size} files ran code`,
    );
    const name = (u) => (u.startsWith("file:") ? relative(root, fileURLToPath(u)) : u);
    for (const [url, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      console.log(`  ${(us / 1000).toFixed(1).padStart(6)} ms  ${name(url)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
