/**
 * The crash harness's driver (bench/crash-harness.mjs and the CI test both use it) and the report.
 */
import { commandLine } from "./command.ts";
import {
  addKill,
  type Backend,
  CrashKind,
  emptySummary,
  KINDS,
  type KindSummary,
  type Op,
  PENDING_OPS,
} from "./crash.ts";
import { startServer } from "./radicale.ts";

/** A small seeded generator (mulberry32): the same seed kills at the same moments. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of one harness run. */
export interface HarnessOptions {
  kills: number;
  ops?: readonly string[];
  backends?: readonly string[];
  items?: number | undefined;
  signal?: string;
  seed?: number | undefined;
  /** No kill starts after this long. */
  budgetMs?: number;
  log?: (line: string) => void;
}

/** What one harness run measured. */
export interface HarnessResults {
  date: string;
  /** The commit the working tree was at (it may have had changes on top). */
  commit?: string;
  command: string;
  signal: string;
  seed: number;
  killsPerKind: number;
  seconds: number;
  kinds: KindSummary[];
  /** Kinds not run because the budget ran out. */
  skipped: string[];
  pending: readonly string[];
}

/** Runs every selected kind, `kills` times each, within the budget. */
export async function runCrashHarness(options: HarnessOptions): Promise<HarnessResults> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const budgetMs = options.budgetMs ?? 1_800_000;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const kinds = KINDS.filter(
    (k) => (options.ops ?? [k.op]).includes(k.op) && (options.backends ?? [k.backend]).includes(k.backend),
  );
  const cmd = commandLine();
  log(`command: ${cmd.kind} (${cmd.argv.join(" ")}); seed ${seed}; ${options.kills} kills per kind`);
  const { execFileSync } = await import("node:child_process");
  const { REPO } = await import("./command.ts");
  let commit: string | undefined;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
  } catch {}
  const results: HarnessResults = {
    date: new Date().toISOString(),
    ...(commit === undefined ? {} : { commit }),
    command: cmd.kind,
    signal: options.signal ?? "SIGKILL",
    seed,
    killsPerKind: options.kills,
    seconds: 0,
    kinds: [],
    skipped: [],
    pending: PENDING_OPS,
  };
  const server = kinds.some((k) => k.backend === "radicale") ? await startServer() : undefined;
  try {
    for (const { op, backend } of kinds) {
      const name = `${op} vdir ↔ ${backend}`;
      if (performance.now() - started > budgetMs) {
        results.skipped.push(name);
        continue;
      }
      const kind = new CrashKind(op as Op, backend as Backend, server, {
        items: options.items,
        signal: (options.signal ?? "SIGKILL") as NodeJS.Signals,
        random,
      });
      try {
        try {
          await kind.setup();
          await kind.calibrate();
        } catch (error) {
          // One kind that cannot be prepared (or does not converge unkilled) must not stop the others.
          const first = String((error as Error).message ?? error).split("\n")[0] ?? "";
          results.skipped.push(`${name} (setup failed: ${first.slice(0, 160)})`);
          log(`${name}: setup failed: ${(error as Error).message}`);
          continue;
        }
        const summary = emptySummary(kind);
        log(
          `${kind.name}: run ${Math.round(kind.fullMs)} ms, killing within ${Math.round(kind.windowMs)} ms of its first line`,
        );
        for (let i = 0; i < options.kills; i++) {
          if (performance.now() - started > budgetMs) break;
          const r = await kind.kill();
          addKill(summary, r);
          const bad = r.lost + r.duplicated + r.different + r.resurrected;
          if (bad > 0 || r.recovery !== "ok") {
            log(
              `  kill ${i + 1} at +${r.delayMs} ms: ${r.recovery}, ${bad} wrong: ${r.details.slice(0, 3).join("; ")}`,
            );
          }
        }
        results.kinds.push(summary);
        log(
          `${kind.name}: ${summary.kills} kills: lost ${summary.lost}, duplicated ${summary.duplicated}, different ${summary.different}, resurrected ${summary.resurrected}, need a human ${summary.needHuman}, temp files left after ${summary.tempLeftRuns}`,
        );
      } finally {
        kind.dispose();
      }
    }
  } finally {
    await server?.stop();
  }
  results.seconds = Math.round((performance.now() - started) / 1000);
  return results;
}

function cell(n: number): string {
  return n === 0 ? "0" : `**${n}**`;
}

/** The markdown table of a harness run. */
export function crashTable(r: HarnessResults): string {
  const rows = r.kinds.map((k) => {
    const human = Object.entries(k.recoveries)
      .map(([what, n]) => `${n} ${what}`)
      .join(", ");
    return `| ${k.kind} | ${k.kills} (${k.finishedFirst} after exit) | ${cell(k.lost)} | ${cell(k.duplicated)} | ${cell(k.different + k.resurrected)} | ${cell(k.needHuman)}${human ? ` (${human})` : ""} | ${k.tempLeftRuns} |`;
  });
  return [
    `| kill during | kills | items lost | duplicated | left different | needed a human | runs leaving temp files |`,
    `|---|---:|---:|---:|---:|---|---:|`,
    ...rows,
    ...r.skipped.map((s) => `| ${s} | not run | | | | | |`),
    ...r.pending.map((s) => `| ${s} | not yet in the command (hook ready) | | | | | |`),
  ].join("\n");
}

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** The harness results (JSON) to include. */
  crashResults: string;
  /** Where to write the report. Default docs/reliability.md. */
  out?: string;
  /**
   * A folder the reliability tests already recorded their figures in (VDIRSYNCER_RELIABILITY_RECORD), instead
   * of running them again.
   */
  records?: string | undefined;
  log?: (line: string) => void;
}

type Rec = Record<string, unknown>;

/** The one table of every figure: crash kinds, faults, bad items, odd UIDs, concurrency, secrets. */
export function reliabilityTable(crash: HarnessResults | undefined, recs: Map<string, Rec[]>): string {
  const rows: string[] = [];
  const row = (
    area: string,
    tried: string,
    often: string,
    lost: unknown,
    dup: unknown,
    diff: unknown,
    human: unknown,
    notes: string,
  ) =>
    rows.push(
      `| ${area} | ${tried} | ${often} | ${fmt(lost)} | ${fmt(dup)} | ${fmt(diff)} | ${fmt(human)} | ${notes.replaceAll("|", "\\|")} |`,
    );
  for (const k of crash?.kinds ?? []) {
    const human = Object.entries(k.recoveries)
      .map(([w, n]) => `${n} ${w}`)
      .join(", ");
    row(
      "crash",
      `${crash?.signal ?? "SIGKILL"} during ${k.kind}`,
      `${k.kills} kills`,
      k.lost,
      k.duplicated,
      k.different + k.resurrected,
      k.needHuman,
      [
        human,
        k.tempLeftRuns > 0 ? `temp files left after ${k.tempLeftRuns} kills` : "",
        k.finishedFirst > 0 ? `${k.finishedFirst} kills came after the exit` : "",
      ]
        .filter(Boolean)
        .join("; "),
    );
  }
  for (const s of crash?.skipped ?? [])
    row("crash", s, "not run (budget, or setup failed)", "", "", "", "", "");
  for (const p of crash?.pending ?? [])
    row("crash", p, "not in the command yet", "", "", "", "", "hook: add an Op in crash.ts");
  for (const r of recs.get("crash-ci") ?? []) {
    row(
      "crash (CI)",
      `SIGKILL during ${r.kind}`,
      `${r.kills} kills`,
      r.lost,
      r.duplicated,
      Number(r.different) + Number(r.resurrected),
      r.needHuman,
      "",
    );
  }
  for (const r of recs.get("faults") ?? []) {
    const bad = [
      r.named ? "" : "pair/collection not named",
      r.url ? "" : "URL not named",
      r.hint ? "" : "no hint",
      r.othersFinished ? "" : "**others did not finish**",
      r.exit === 0 ? "**exit 0**" : "",
      r.converged ? "" : "**next sync did not converge**",
    ].filter(Boolean);
    row(
      "fault proxy",
      `${r.name} on one collection (Radicale)`,
      `1 sync, ${r.hits} faulty answers`,
      r.lost,
      "",
      r.converged ? 0 : "not converged",
      "",
      bad.length === 0
        ? `ok: "${String(r.message).slice(0, 140)}"`
        : `${bad.join(", ")}: "${String(r.message).slice(0, 140)}"`,
    );
  }
  for (const r of recs.get("bad-items") ?? []) {
    const ok =
      r.expected === "either" ||
      (r.expected === "syncs" && r.outcome === "synced") ||
      (r.expected === "error" && r.outcome === "reported") ||
      (r.expected === "ignored" && r.outcome === "not synced, not reported");
    row(
      "bad items (vdir)",
      `${r.name}: ${r.what}`,
      "1",
      "",
      "",
      "",
      "",
      `${ok ? "" : "**"}${r.outcome} (expected: ${r.expected})${ok ? "" : "**"}`,
    );
  }
  for (const r of recs.get("odd-uids") ?? []) {
    row("odd UIDs (from Radicale)", `UID ${r.name}`, "1", "", "", "", "", String(r.outcome));
  }
  for (const r of recs.get("concurrency") ?? []) {
    const { section: _s, name, lost, duplicated, different, ...rest } = r;
    row(
      "concurrency",
      String(name),
      "1",
      lost,
      duplicated,
      different,
      "",
      JSON.stringify(rest).replace(/[{}"]/g, "").replaceAll(",", ", "),
    );
  }
  for (const r of recs.get("secrets") ?? []) {
    row(
      "secrets",
      "password in the config, password.fetch, URL credentials, a wrong password; -vdebug discover and sync per pair, sync --json, metasync, showconfig",
      `${r.runs} runs, ${r.secretsChecked} secret forms`,
      "",
      "",
      "",
      "",
      `${fmt(r.leaks)} leaks${r.leakedIn ? ` (in ${r.leakedIn})` : ""}, ${fmt(r.authorizationLines)} Authorization lines, ${fmt(r.notPrivate)} of ${r.statusFiles} status files not 0600`,
    );
  }
  return [
    "| area | what was tried | how often | items lost | duplicated | left different | needed a human | notes |",
    "|---|---|---|---:|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

function fmt(v: unknown): string {
  if (v === undefined || v === "") return "";
  return v === 0 ? "0" : `**${String(v)}**`;
}

/**
 * Runs the reliability tests with recording on, then writes docs/reliability.md from their figures and the
 * harness results.
 */
export async function writeReport(options: ReportOptions): Promise<string> {
  const { spawnSync } = await import("node:child_process");
  const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { recorded } = await import("./record.ts");
  const { REPO } = await import("./command.ts");
  const log = options.log ?? (() => {});
  const crash = existsSync(options.crashResults)
    ? (JSON.parse(readFileSync(options.crashResults, "utf8")) as HarnessResults)
    : undefined;
  const out = options.out ?? join(REPO, "docs", "reliability.md");
  if (options.records !== undefined) {
    const tests = { testSeconds: 0, summary: "figures recorded by earlier runs (--records)", failing: [] };
    writeFileSync(out, renderReport(crash, recorded(options.records), tests));
    return out;
  }
  const dir = mkdtempSync(join(tmpdir(), "vdirsyncer-reliability-record-"));
  try {
    // The report shows the full coverage (every crash kind, every fault, the large race), not the CI subset.
    log(
      "running the reliability tests in full (VDIRSYNCER_RELIABILITY_FULL=1 pnpm exec vitest run --project @vdirsyncer/reliability-tests) ...",
    );
    const t0 = performance.now();
    const vt = spawnSync("pnpm", ["exec", "vitest", "run", "--project", "@vdirsyncer/reliability-tests"], {
      cwd: REPO,
      env: { VDIRSYNCER_RELIABILITY_FULL: "1", ...process.env, VDIRSYNCER_RELIABILITY_RECORD: dir },
      encoding: "utf8",
      timeout: 1_800_000,
    });
    const testSeconds = Math.round((performance.now() - t0) / 1000);
    const summary = `${vt.stdout}${vt.stderr}`
      .split("\n")
      .filter((l) => /^\s*(Test Files|Tests)\s/.test(l.replace(/\x1b\[[0-9;]*m/g, "")))
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
      .join("; ");
    const failing = `${vt.stdout}${vt.stderr}`
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split("\n")
      .filter((l) => /^\s*(×|✗|FAIL)\s/.test(l))
      .map((l) => l.trim());
    const recs = recorded(dir);
    writeFileSync(out, renderReport(crash, recs, { testSeconds, summary, failing }));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function renderReport(
  crash: HarnessResults | undefined,
  recs: Map<string, Rec[]>,
  tests: { testSeconds: number; summary: string; failing: string[] },
): string {
  const crashLine =
    crash === undefined
      ? "No crash harness results yet (`node bench/crash-harness.mjs --kills 100`)."
      : `Crash harness run of ${crash.date}${crash.commit ? ` at commit ${crash.commit}` : ""} (${crash.killsPerKind} kills per kind, ${crash.signal}, seed ${crash.seed}, the command from its ${crash.command}, ${crash.seconds} s).`;
  return `# Reliability: nothing lost, proven

This file is generated: \`node bench/crash-harness.mjs --kills 100 --report\` runs the crash harness and then the
reliability tests (\`tests/reliability\`) with recording on, and rewrites it. \`--report\` alone keeps the last
crash results (\`bench/results/crash.json\`) and reruns the tests.

${crashLine}
Reliability tests: ${tests.summary || "no summary"}${tests.testSeconds > 0 ? ` in ${tests.testSeconds} s` : ""}.
${tests.failing.length > 0 ? `\nFailing now:\n\n${tests.failing.map((f) => `- ${f}`).join("\n")}\n` : ""}
${reliabilityTable(crash, recs)}

Bold figures are what should be zero (or yes) and is not.

## What is tried

- **Crash**: the real command (\`vdirsyncer sync\`, \`metasync\` or \`discover\`) is killed at a random moment,
  uniformly within the time an unkilled run spends after its first output line; then the same command runs
  normally (after a killed discover: discover, then sync). Every kill starts from the same snapshot of the world
  (vdirs, status, and the Radicale user's storage folder). Items are compared normalised as the storage
  conformance suite compares them (servers rewrite what they store). *Lost*: an expected item, or its expected
  version, on neither side. *Duplicated*: more than one file per UID on a side. *Left different*: on one side
  only, different on the two sides, or deleted and back. *Needed a human*: the normal run after the kill failed
  (a stale lock, a status that does not open, a false "changed on both sides" conflict, anything else).
  Temporary files (\`.<name>.<random>.tmp\`, \`.trash/…/.tmp-PID-N\`) still there after that run are counted
  apart. Trash restore and undo are not in the command yet; \`PENDING_OPS\` in \`tests/reliability/src/crash.ts\`
  is the hook.
- **Fault proxy**: a reverse proxy in front of a real Radicale injects one fault into every request of one
  collection (\`p1/bad\`) of one of two pairs; \`p1/good\` and \`p2/other\` must finish, the command must name
  the pair, collection and URL with a hint and exit non-zero, nothing may be lost, and the next clean sync must
  converge.
- **Bad items**: a generated corpus in a vdir (expected: *syncs*, *error* = reported by name and left alone,
  *ignored*, or *either*), and odd UIDs served by Radicale; nothing may be written outside the vdir, nothing
  deleted, and no terminal control code may reach the output.
- **Concurrency**: two syncs of one pair at once; another program editing the vdir during a sync; our sync
  and Python vdirsyncer's (\`/usr/bin/vdirsyncer\`, 0.19) on one pair and status, started 2 s apart.
- **Secrets**: unique random secrets at \`-vdebug\`, searched in every output with their Base64 and
  percent-encoded forms; the status files' modes.
`;
}
