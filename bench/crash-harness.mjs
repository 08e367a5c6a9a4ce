#!/usr/bin/env node
/**
 * Crash harness (issue 10, "nothing lost, proven"): kills the real `vdirsyncer` command at random moments of
 * first syncs, uploads, mixed changes, metasync and discover, on vdir ↔ vdir and vdir ↔ Radicale, runs it
 * again normally after each kill, and counts items lost, duplicated or left different on the two sides, and
 * runs that need a human (a stale lock, a status that no longer opens, a false conflict).
 *
 *   node bench/crash-harness.mjs --kills 100            # the full run (100 kills per kind)
 *   node bench/crash-harness.mjs --kills 5 --kinds mixed,upload --backends vdir
 *   node bench/crash-harness.mjs --report               # rerun the reliability tests and rewrite docs/reliability.md
 *   node bench/crash-harness.mjs --kills 100 --report   # both
 *
 * Options: --kills N (per kind, default 10), --kinds first-sync,upload,mixed,metasync,discover,
 * --backends vdir,radicale, --items N (per collection; default 200 on vdirs, 60 on Radicale),
 * --signal SIGKILL|SIGTERM|SIGINT, --seed N (repeatable kill moments), --budget SECONDS (default 1800: no kill
 * starts after it), --out FILE (the JSON results; default bench/results/crash.json), --records DIR (with
 * --report: use the figures the reliability tests recorded in DIR with VDIRSYNCER_RELIABILITY_RECORD=DIR
 * instead of running them again).
 *
 * The command under test is the built apps/cli when the build is current, else its sources;
 * VDIRSYNCER_RELIABILITY_COMMAND=/path/to/launcher picks another one.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

// The library is TypeScript that loads workspace packages from their sources: run under the `source`
// condition (Node strips the types itself).
if (!process.execArgv.some((a) => a === "--conditions=source" || a === "-C=source")) {
  const r = spawnSync(
    process.execPath,
    [
      "--conditions=source",
      "--disable-warning=ExperimentalWarning",
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit" },
  );
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: {
    kills: { type: "string" },
    kinds: { type: "string", default: "first-sync,upload,mixed,metasync,discover" },
    backends: { type: "string", default: "vdir,radicale" },
    items: { type: "string" },
    signal: { type: "string", default: "SIGKILL" },
    seed: { type: "string" },
    budget: { type: "string", default: "1800" },
    out: { type: "string", default: join(REPO, "bench", "results", "crash.json") },
    report: { type: "boolean", default: false },
    records: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0] ?? "");
  process.exit(0);
}

const lib = await import("../tests/reliability/src/harness.ts");
const runKills = values.kills !== undefined || !values.report;
if (runKills) {
  const results = await lib.runCrashHarness({
    kills: Number(values.kills ?? 10),
    ops: values.kinds.split(","),
    backends: values.backends.split(","),
    items: values.items === undefined ? undefined : Number(values.items),
    signal: values.signal,
    seed: values.seed === undefined ? undefined : Number(values.seed),
    budgetMs: Number(values.budget) * 1000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${lib.crashTable(results)}\n\nResults in ${values.out}\n`);
}
if (values.report) {
  const doc = await lib.writeReport({
    crashResults: values.out,
    records: values.records,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`Wrote ${doc}\n`);
}
