/**
 * What a collection's sync cost: the counters plugins report (requests, bytes, retries) and the ones the hosted
 * storage keeps (items read, written, deleted), plus wall time. One tally per collection, printed at `-v debug`
 * and added to `sync --json`.
 */
import type { StatCounter, StatsSink } from "@vdirsyncer/core";

/** The counters, in the order they are printed. */
export const COUNTERS: readonly StatCounter[] = [
  "requests",
  "bytesSent",
  "bytesReceived",
  "retries",
  "itemsRead",
  "itemsWritten",
  "itemsDeleted",
];

/** The counters of one tally, plus `wallMs`. */
export type TallyJson = Record<StatCounter, number> & { wallMs: number };

/** A stats sink that adds up what it is told; cheap, never throws. */
export class Tally implements StatsSink {
  readonly counts: Record<StatCounter, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<
    StatCounter,
    number
  >;
  readonly #started = performance.now();
  #ended: number | undefined;

  add(counter: StatCounter, amount = 1): void {
    if (counter in this.counts && Number.isFinite(amount)) this.counts[counter] += amount;
  }

  /** Stops the clock (the first call counts). */
  end(): void {
    this.#ended ??= performance.now();
  }

  /** Milliseconds from creation to {@link end} (or now). */
  get wallMs(): number {
    return Math.round((this.#ended ?? performance.now()) - this.#started);
  }

  /** Adds another tally's counters (not its time). */
  merge(other: Tally): void {
    for (const c of COUNTERS) this.counts[c] += other.counts[c];
  }

  toJSON(): TallyJson {
    return { ...this.counts, wallMs: this.wallMs };
  }

  /** `12 requests, 3.4 kB sent, 120.5 kB received, 0 retries, 40 read, 2 written, 1 deleted, 0.8 s`. */
  line(): string {
    const c = this.counts;
    return [
      `${c.requests} requests`,
      `${bytes(c.bytesSent)} sent`,
      `${bytes(c.bytesReceived)} received`,
      `${c.retries} retries`,
      `${c.itemsRead} read`,
      `${c.itemsWritten} written`,
      `${c.itemsDeleted} deleted`,
      `${(this.wallMs / 1000).toFixed(1)} s`,
    ].join(", ");
  }
}

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}
