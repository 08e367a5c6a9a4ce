/**
 * `vdirsyncer daemon`: syncs the cached collections of the given pairs until stopped. Local storages that can
 * watch (`watch: true`) say when they changed, and the collection is synced after a short debounce; everything
 * is polled at an interval with jitter (an unchanged server collection costs its ctag request). A failing
 * collection backs off exponentially (honouring `Retry-After`) and is reported once, not on every attempt; the
 * others go on. Pairs are locked for each round, so a `vdirsyncer sync` from cron runs between two rounds.
 *
 * One "generation" is one reading of the config and the discovery caches: its own {@link AppContext} (hosted
 * storages, watchers), replaced on SIGHUP or when `vdirsyncer discover` rewrote a pair's cache.
 */
import { isVdirsyncerError } from "@vdirsyncer/core/engine";
import {
  applyRetention,
  DEFAULT_RETENTION,
  lockPair,
  type PairLock,
  STATUS_LOCKED,
} from "@vdirsyncer/status";
import { cachedCollections, resolvePair, statusPath } from "../collections.ts";
import { SYNC_CONCURRENCY } from "../commands/sync.ts";
import type { AppContext } from "../context.ts";
import { hintFor, reportError } from "../errors.ts";
import { runPool } from "../pool.ts";
import { Tally } from "../stats.ts";
import { openCollection } from "../storages.ts";
import { statusNameOf } from "../targets.ts";
import { isStop, syncOnce } from "./cycle.ts";
import {
  type Carried,
  cacheStamp,
  childContext,
  collectionStates,
  discoverCollections,
  disposeGeneration,
  type Generation,
  messageOf,
  seconds,
  type Task,
} from "./generation.ts";
import {
  backoffDelay,
  type DaemonTiming,
  debouncedDue,
  failureKey,
  isOffline,
  pollDelay,
  retryAfterOf,
  wallClockJumped,
} from "./policy.ts";
import { DAEMON_STATE_FORMAT, type DaemonState, lockDaemon, writeDaemonState } from "./state.ts";
import { assertUnattended } from "./unattended.ts";

/** The clocks the daemon reads: monotonic for timers, wall for the state file and suspend detection. */
export interface DaemonClock {
  mono(): number;
  wall(): number;
}

const REAL_CLOCK: DaemonClock = { mono: () => performance.now(), wall: () => Date.now() };

/** A finished round, for tests and `-vdebug`. */
export interface RoundInfo {
  /** How many rounds ran so far, this one included. */
  round: number;
  /** The collections synced in this round (`pair/collection`). */
  synced: string[];
}

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  /** Pair names; all pairs when empty. */
  pairs: string[];
  timing: DaemonTiming;
  clock?: DaemonClock;
  random?: () => number;
  /** Called after each round (tests count rounds and stop the daemon). */
  onRound?: (info: RoundInfo) => void;
  /** How often the loop wakes at the least, to notice a suspend and rewritten caches. @default 30 s */
  heartbeatMs?: number;
}

/** How often the loop wakes at the least, to notice a suspend and rewritten discovery caches. */
const HEARTBEAT_MS = 30_000;
/** How much further the wall clock may move than the monotonic one before it counts as a suspend. */
const JUMP_SLACK_MS = 60_000;
/** A pair locked by another sync is tried again after this long. */
const LOCKED_RETRY_MS = 5_000;
/** The trash is pruned at most this often. */
const RETAIN_EVERY_MS = 3_600_000;

/** The daemon of one command run. */
export class Daemon {
  readonly #ctx: AppContext;
  readonly #options: DaemonOptions;
  readonly #clock: DaemonClock;
  readonly #random: () => number;
  #root = "";
  #gen: Generation | undefined;
  #reload = false;
  #wake: (() => void) | undefined;
  #rounds = 0;
  #started = "";
  #lastRetain = Number.NEGATIVE_INFINITY;
  #nextDiscovery = 0;
  readonly #notices = new Set<string>();

  constructor(ctx: AppContext, options: DaemonOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#clock = options.clock ?? REAL_CLOCK;
    this.#random = options.random ?? Math.random;
  }

  /** Asks for a new reading of the config (SIGHUP). */
  reload(): void {
    this.#ctx.out.info("Reloading the config.");
    this.#reload = true;
    this.#wake?.();
  }

  /** Runs until the command is stopped; returns the exit code (0 after SIGTERM/SIGINT). */
  async run(): Promise<number> {
    const ctx = this.#ctx;
    await ctx.config();
    for (const p of this.#options.pairs) await ctx.pair(p);
    this.#root = await statusPath(ctx);
    const lock = await lockDaemon(this.#root);
    this.#started = new Date(this.#clock.wall()).toISOString();
    const onHup = () => this.reload();
    const signals = ctx.io.signals as
      | { on(s: string, l: () => void): unknown; off(s: string, l: () => void): unknown }
      | undefined;
    signals?.on("SIGHUP", onHup);
    const onStop = () => this.#wake?.();
    ctx.stop.signal.addEventListener("abort", onStop);
    try {
      this.#gen = await this.#load(undefined);
      const names = [...this.#gen.tasks.keys()];
      ctx.out.info(
        `Daemon started: ${names.length} collection${names.length === 1 ? "" : "s"}, polled every ${seconds(this.#options.timing.intervalMs)}.`,
      );
      this.#nextDiscovery = this.#clock.mono();
      await this.#loop();
    } finally {
      signals?.off("SIGHUP", onHup);
      ctx.stop.signal.removeEventListener("abort", onStop);
      if (this.#gen) await disposeGeneration(this.#gen);
      this.#writeState(true);
      lock.release();
    }
    ctx.out.info("Daemon stopped.");
    return 0;
  }

  async #loop(): Promise<void> {
    const ctx = this.#ctx;
    const timing = this.#options.timing;
    const heartbeat = Math.min(this.#options.heartbeatMs ?? HEARTBEAT_MS, timing.intervalMs);
    let lastMono = this.#clock.mono();
    let lastWall = this.#clock.wall();
    while (!ctx.stop.signal.aborted) {
      const mono = this.#clock.mono();
      const wall = this.#clock.wall();
      const gen = this.#gen as Generation;
      if (wallClockJumped(mono - lastMono, wall - lastWall, Math.max(JUMP_SLACK_MS, 2 * heartbeat))) {
        ctx.out.info(
          `The clock jumped ${seconds(wall - lastWall - (mono - lastMono))} (suspend or resume): checking every collection.`,
        );
        for (const t of gen.tasks.values()) {
          t.due = mono;
          t.failures = 0;
        }
        this.#nextDiscovery = mono;
      }
      lastMono = mono;
      lastWall = wall;
      if (this.#reload || this.#cachesChanged(gen)) {
        this.#reload = false;
        await this.#replace();
        continue;
      }
      if (timing.discoverMs > 0 && mono >= this.#nextDiscovery) {
        this.#nextDiscovery = mono + timing.discoverMs;
        await discoverCollections(this.#gen as Generation, (g, text) => this.#notice(g, text));
      }
      const due = [...(this.#gen as Generation).tasks.values()].filter((t) => t.due <= this.#clock.mono());
      if (due.length > 0) {
        await this.#round(this.#gen as Generation, due);
        this.#writeState(false);
        continue;
      }
      this.#writeState(false);
      const next = Math.min(
        ...[...(this.#gen as Generation).tasks.values()].map((t) => t.due),
        this.#clock.mono() + heartbeat,
        timing.discoverMs > 0 ? this.#nextDiscovery : Number.POSITIVE_INFINITY,
      );
      await this.#sleep(next - this.#clock.mono());
    }
  }

  /** Waits `ms`, or less when woken (a local change, SIGHUP, a stop). */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#ctx.stop.signal.aborted || this.#reload) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  #cachesChanged(gen: Generation): boolean {
    for (const [pair, stamp] of gen.stamps) {
      if (cacheStamp(this.#root, pair) !== stamp) {
        this.#ctx.out.info(`The collections of pair ${pair} changed (\`vdirsyncer discover\`): reloading.`);
        return true;
      }
    }
    return false;
  }

  /** Reads the config and caches again; on a broken config the old generation goes on. */
  async #replace(): Promise<void> {
    const old = this.#gen as Generation;
    const carried = new Map<string, Carried>();
    for (const [k, t] of old.tasks) carried.set(k, t);
    let next: Generation;
    const probe = childContext(this.#ctx);
    try {
      next = await this.#load(carried, probe);
    } catch (err) {
      await probe.storages.closeAll();
      probe.halt.abort();
      reportError(this.#ctx.out, err);
      this.#ctx.out.warn("The config could not be read again; the daemon goes on with the previous one.");
      // Do not try again until something changes.
      for (const p of old.stamps.keys()) old.stamps.set(p, cacheStamp(this.#root, p));
      return;
    }
    await disposeGeneration(old);
    this.#gen = next;
    this.#nextDiscovery = this.#clock.mono();
  }

  async #load(carried: Map<string, Carried> | undefined, given?: AppContext): Promise<Generation> {
    const ctx = given ?? childContext(this.#ctx);
    const config = await ctx.config();
    const wanted = this.#options.pairs.length > 0 ? this.#options.pairs : [...config.pairs.keys()];
    const gen: Generation = {
      ctx,
      tasks: new Map(),
      broken: new Map(),
      stamps: new Map(),
      watchers: new AbortController(),
    };
    const now = this.#clock.mono();
    for (const name of wanted) {
      gen.stamps.set(name, cacheStamp(this.#root, name));
      try {
        const pair = await ctx.pair(name);
        assertUnattended(config, pair, ctx.io.env.HOME);
        const resolved = await resolvePair(ctx, name);
        for (const c of await cachedCollections(ctx, resolved)) {
          const key = statusNameOf(name, c.name);
          const before = carried?.get(key);
          gen.tasks.set(key, {
            key,
            pair: name,
            resolved,
            c,
            due: before?.due ?? now,
            failures: before?.failures ?? 0,
            lastFailure: before?.lastFailure,
            lastError: before?.lastError ?? null,
            offline: before?.offline ?? false,
            lastRun: before?.lastRun,
            changedSince: before?.changedSince,
            running: false,
            watching: new Set(),
          });
        }
      } catch (err) {
        gen.broken.set(name, err);
        ctx.out.error(`Pair ${name} is left out of the daemon:`);
        reportError(ctx.out, err, name);
      }
    }
    for (const t of gen.tasks.values()) await this.#watch(gen, t);
    return gen;
  }

  /** Arms the watchers of `t`'s local sides that can watch; a missing collection is armed after its first sync. */
  async #watch(gen: Generation, t: Task): Promise<void> {
    for (const side of ["a", "b"] as const) {
      if (t.watching.has(side)) continue;
      try {
        const storage = await gen.ctx.storages.section(t.resolved[side]);
        if (!storage.definition.capabilities.watch) continue;
        const opened = await openCollection(gen.ctx, storage, t.c[side], {
          create: false,
          signal: gen.ctx.halt.signal,
        });
        opened.collection.watch?.(() => this.#changed(t), gen.watchers.signal);
        t.watching.add(side);
        gen.ctx.out.debug(`${t.key}: watching ${opened.instance} for changes.`);
      } catch (err) {
        gen.ctx.out.debug(`${t.key}: cannot watch side ${side} yet: ${messageOf(err)}`);
      }
    }
  }

  /** A watched side changed: sync after the debounce. */
  #changed(t: Task): void {
    const now = this.#clock.mono();
    t.changedSince ??= now;
    if (!t.running) t.due = Math.min(t.due, debouncedDue(this.#options.timing, t.changedSince, now));
    this.#wake?.();
  }

  /** Syncs the due collections: each pair locked without waiting, at most {@link SYNC_CONCURRENCY} at once. */
  async #round(gen: Generation, due: Task[]): Promise<void> {
    const out = gen.ctx.out;
    const byPair = new Map<string, Task[]>();
    for (const t of due) byPair.set(t.pair, [...(byPair.get(t.pair) ?? []), t]);
    const locks: PairLock[] = [];
    const runnable: Task[] = [];
    for (const [pair, tasks] of byPair) {
      try {
        locks.push(await lockPair(this.#root, pair, { waitMs: 0, log: out }));
        runnable.push(...tasks);
      } catch (err) {
        if (!isVdirsyncerError(err, STATUS_LOCKED)) throw err;
        const wait = Math.min(LOCKED_RETRY_MS, this.#options.timing.intervalMs);
        out.debug(`${pair}: another sync holds the pair; trying again in ${seconds(wait)}.`);
        for (const t of tasks) t.due = this.#clock.mono() + wait;
      }
    }
    const synced: string[] = [];
    let wrote = false;
    try {
      await runPool(
        runnable.map((t) => async () => {
          if (gen.ctx.stop.signal.aborted) return;
          synced.push(t.key);
          if (await this.#syncTask(gen, t)) wrote = true;
        }),
        SYNC_CONCURRENCY,
      );
    } finally {
      for (const lock of locks) lock.release();
    }
    const mono = this.#clock.mono();
    if (wrote && mono - this.#lastRetain >= RETAIN_EVERY_MS) {
      this.#lastRetain = mono;
      // The same retention as after every `vdirsyncer sync`, at most hourly here.
      try {
        applyRetention(this.#root, DEFAULT_RETENTION);
      } catch (err) {
        out.warn(`Pruning the trash failed: ${messageOf(err)}`);
      }
    }
    this.#rounds++;
    this.#options.onRound?.({ round: this.#rounds, synced });
  }

  /** Syncs one collection and schedules its next sync; returns whether it wrote anything. */
  async #syncTask(gen: Generation, t: Task): Promise<boolean> {
    const out = gen.ctx.out;
    const timing = this.#options.timing;
    t.running = true;
    t.changedSince = undefined;
    out.debug(`Syncing ${t.key}`);
    const stats = new Tally();
    const result = await syncOnce(gen.ctx, this.#root, t.resolved, t.c, stats);
    stats.end();
    t.running = false;
    out.debug(`${t.key}: ${stats.line()}`);
    const now = this.#clock.mono();
    t.lastRun = this.#clock.wall();
    const errors = result.errors.filter((e) => !(gen.ctx.stop.signal.aborted && isStop(e)));
    if (result.notStarted > 0)
      out.warn(`${t.key}: stopped; ${result.notStarted} changes are left for the next sync.`);
    if (errors.length === 0) {
      if (t.failures > 0) out.info(`${t.key}: synced again after ${t.failures} failed attempts.`);
      t.failures = 0;
      t.lastFailure = undefined;
      t.lastError = null;
      t.offline = false;
      t.due = now + pollDelay(timing, this.#random);
      await this.#watch(gen, t);
    } else {
      t.failures++;
      const first = errors[0];
      const key = `${failureKey(first)}#${errors.length}`;
      const delay = backoffDelay(timing, t.failures, retryAfterOf(first), this.#random);
      t.due = now + delay;
      t.offline = isOffline(first);
      t.lastError = messageOf(first);
      if (key !== t.lastFailure) {
        if (t.offline) {
          out.warn(
            `${t.key}: the server cannot be reached (${messageOf(first)}); trying again quietly, next in ${seconds(delay)}.`,
          );
        } else {
          for (const err of errors) reportError(out, err, t.key);
          out.info(`${t.key}: trying again in ${seconds(delay)}.`);
        }
      } else {
        out.debug(`${t.key}: failed again (${messageOf(first)}); next attempt in ${seconds(delay)}.`);
        out.debug(`hint: ${hintFor(first)}`);
      }
      t.lastFailure = key;
    }
    // A change seen while the sync ran (its own writes included) is synced after the debounce.
    if (t.changedSince !== undefined) t.due = Math.min(t.due, debouncedDue(timing, t.changedSince, now));
    return result.done > 0;
  }

  #notice(gen: Generation, text: string): void {
    if (this.#notices.has(text)) return;
    this.#notices.add(text);
    gen.ctx.out.warn(text);
  }

  #writeState(stopped: boolean): void {
    const gen = this.#gen;
    const mono = this.#clock.mono();
    const wall = this.#clock.wall();
    const collections = collectionStates(gen, stopped, mono, wall);
    const state: DaemonState = {
      format: DAEMON_STATE_FORMAT,
      pid: process.pid,
      started: this.#started,
      updated: new Date(wall).toISOString(),
      stopped: stopped ? new Date(wall).toISOString() : null,
      collections,
      notices: [...this.#notices],
    };
    try {
      writeDaemonState(this.#root, state);
    } catch (err) {
      this.#ctx.out.debug(`The daemon's state file could not be written: ${messageOf(err)}`);
    }
  }
}
