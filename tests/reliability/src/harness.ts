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
  const results: HarnessResults = {
    date: new Date().toISOString(),
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
        await kind.setup();
        await kind.calibrate();
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
    ...r.skipped.map((s) => `| ${s} | not run (budget) | | | | | |`),
    ...r.pending.map((s) => `| ${s} | not yet in the command (hook ready) | | | | | |`),
  ].join("\n");
}
