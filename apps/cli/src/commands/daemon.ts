/**
 * `vdirsyncer daemon [PAIR…]`: keeps the pairs in sync until stopped (see `../daemon/runner.ts`). Settings are
 * flags; the config file stays vdirsyncer's.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { AppContext } from "../context.ts";
import { type DaemonTiming, DEFAULT_TIMING } from "../daemon/policy.ts";
import { UsageError } from "../errors.ts";

/** A number of seconds from a flag, as milliseconds. */
function ms(value: unknown, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    throw new UsageError(
      `Invalid value for '--${flag}': ${String(value)} is not a number of seconds ≥ ${min}.`,
    );
  return Math.round(n * 1000);
}

/** The timing from the command line. */
export function timingFrom(argv: Record<string, unknown>): DaemonTiming {
  const jitter = Number(argv.jitter ?? DEFAULT_TIMING.jitter);
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1)
    throw new UsageError(`Invalid value for '--jitter': ${String(argv.jitter)} is not between 0 and 1.`);
  return {
    intervalMs: ms(argv.interval ?? DEFAULT_TIMING.intervalMs / 1000, "interval", 0.01),
    jitter,
    debounceMs: ms(argv.debounce ?? DEFAULT_TIMING.debounceMs / 1000, "debounce", 0),
    retryMs: ms(argv.retry ?? DEFAULT_TIMING.retryMs / 1000, "retry", 0.01),
    maxBackoffMs: ms(argv.maxBackoff ?? DEFAULT_TIMING.maxBackoffMs / 1000, "max-backoff", 0.01),
    discoverMs: ms(argv.discoverInterval ?? DEFAULT_TIMING.discoverMs / 1000, "discover-interval", 0),
  };
}

/** The yargs module of `daemon`. */
export function daemonCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  const d = DEFAULT_TIMING;
  return {
    command: "daemon [pairs..]",
    describe:
      "Keep the given pairs (all when none are given) in sync until stopped: local changes at once, servers polled.",
    builder: (y: Argv) =>
      y
        .positional("pairs", { type: "string", array: true, describe: "PAIR" })
        .option("interval", {
          type: "number",
          default: d.intervalMs / 1000,
          describe: "Seconds between two polls of a collection.",
        })
        .option("jitter", {
          type: "number",
          default: d.jitter,
          describe: "Fraction of the interval by which each poll moves at random.",
        })
        .option("debounce", {
          type: "number",
          default: d.debounceMs / 1000,
          describe: "Seconds a local change waits for more changes before it is synced.",
        })
        .option("retry", {
          type: "number",
          default: d.retryMs / 1000,
          describe: "Seconds before the first retry of a failed collection (doubled after each failure).",
        })
        .option("max-backoff", {
          type: "number",
          default: d.maxBackoffMs / 1000,
          describe: "Longest wait in seconds between retries of a failing collection.",
        })
        .option("discover-interval", {
          type: "number",
          default: d.discoverMs / 1000,
          describe: "Seconds between two looks for new or removed server collections (0: never).",
        })
        .example("$0 daemon", "Keep every pair in sync")
        .example(
          "$0 daemon --interval 60 calendars",
          'Keep the pair "calendars" in sync, polling every minute',
        ),
    handler: (argv: ArgumentsCamelCase) => {
      const timing = timingFrom(argv);
      const pairs = ((argv.pairs as string[] | undefined) ?? []).map(String);
      run(async (ctx) => {
        // Loaded when the daemon starts, not for the command line's parsing or help.
        const { Daemon } = await import("../daemon/runner.ts");
        return new Daemon(ctx, { pairs, timing }).run();
      });
    },
  };
}
