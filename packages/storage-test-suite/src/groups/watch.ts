/** The watch group, when `capabilities.watch` is declared: a write from elsewhere makes `onChange` fire. */
import { expect } from "vitest";
import { flush, within } from "../expect.ts";
import type { Suite } from "../harness.ts";
import { makeItem } from "../items.ts";

/** How long a watcher may take to notice a write before the test fails. Not a measurement: a bound. */
const WATCH_BOUND_MS = 10_000;

export function watchGroup<O>(suite: Suite<O>): void {
  const { firstType, test } = suite;
  suite.group("watch", () => {
    test("watch() calls onChange after a write through another instance", async () => {
      const fx = await suite.setup();
      const stop = new AbortController();
      let calls = 0;
      let notify: () => void = () => {};
      const fired = new Promise<void>((resolve) => {
        notify = resolve;
      });
      fx.col.watch!(() => {
        calls += 1;
        notify();
      }, stop.signal);
      try {
        // Another process, in real life: a second instance on the same options (the same one when not persistent).
        const other = await suite.reopen(fx);
        await other.upload!(makeItem(firstType));
        await flush(other);
        await within(
          fired,
          WATCH_BOUND_MS,
          `onChange was not called within ${WATCH_BOUND_MS / 1000} s of a write through another instance`,
        );
        expect(calls).toBeGreaterThan(0);
      } finally {
        stop.abort();
      }
    });
  });
}
