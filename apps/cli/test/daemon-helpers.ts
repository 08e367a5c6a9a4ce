/**
 * Runs the daemon in-process: a real AppContext on a test world's config, the Daemon with test timing and a
 * round hook, stopped through the context's stop signal as the first SIGTERM would.
 */
import { Readable } from "node:stream";
import { AppContext } from "../src/context.ts";
import { type DaemonTiming, DEFAULT_TIMING } from "../src/daemon/policy.ts";
import { Daemon, type DaemonClock, type RoundInfo } from "../src/daemon/runner.ts";
import { Output } from "../src/output.ts";
import { Capture, type World } from "./helpers.ts";

/** Short timings for tests: a poll every 50 ms, 20 ms debounce, retries from 50 ms. */
export const FAST: DaemonTiming = {
  ...DEFAULT_TIMING,
  intervalMs: 50,
  jitter: 0.1,
  debounceMs: 20,
  retryMs: 50,
  maxBackoffMs: 400,
  discoverMs: 0,
};

/** A daemon running in the background. */
export interface Running {
  ctx: AppContext;
  stderr: Capture;
  rounds: RoundInfo[];
  /** Resolves after the next round that satisfies `pred` (default: any). */
  round(pred?: (r: RoundInfo) => boolean, timeoutMs?: number): Promise<RoundInfo>;
  /** Resolves once `check()` is true, looking after every round and every 20 ms. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops gracefully (as the first SIGTERM) and returns the exit code. */
  stop(): Promise<number>;
  done: Promise<number>;
}

/** Starts the daemon in `w` with `pairs` (all when empty). */
export function startDaemon(
  w: World,
  options: {
    pairs?: string[];
    timing?: Partial<DaemonTiming>;
    clock?: DaemonClock;
    level?: "INFO" | "DEBUG";
  } = {},
): Running {
  const stderr = new Capture(false);
  const stdout = new Capture(false);
  const ctx = new AppContext(
    {
      env: { HOME: w.home, PATH: process.env.PATH, npm_config_prefix: `${w.root}/npm-global` },
      cwd: w.root,
      stdin: Readable.from([]),
      stdout,
      stderr,
    },
    new Output(stderr, options.level ?? "INFO"),
    w.config,
  );
  const rounds: RoundInfo[] = [];
  const waiters: (() => void)[] = [];
  const daemon = new Daemon(ctx, {
    pairs: options.pairs ?? [],
    timing: { ...FAST, ...options.timing },
    ...(options.clock ? { clock: options.clock } : {}),
    heartbeatMs: 100,
    onRound: (info) => {
      rounds.push(info);
      for (const w of waiters.splice(0)) w();
    },
  });
  const done = daemon.run().finally(() => ctx.storages.closeAll());
  const failFast = done.then(
    (code) => Promise.reject(new Error(`the daemon ended early with ${code}:\n${stderr.text}`)),
    (err: unknown) => Promise.reject(new Error(`the daemon failed: ${String(err)}\n${stderr.text}`)),
  );
  failFast.catch(() => {});
  const until = async (check: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out; daemon log:\n${stderr.text}`);
      await Promise.race([
        new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 20);
        }),
        failFast,
      ]);
    }
  };
  return {
    ctx,
    stderr,
    rounds,
    async round(pred = () => true, timeoutMs = 15_000) {
      const start = rounds.length;
      await until(() => rounds.slice(start).some(pred), timeoutMs);
      return rounds.slice(start).find(pred) as RoundInfo;
    },
    until,
    async stop() {
      ctx.stop.abort();
      return done;
    },
    done,
  };
}
