/**
 * The crash harness's CI version: one SIGKILL per kind on vdir ↔ vdir (every operation) and one on vdir ↔
 * Radicale (a mixed sync), each followed by a normal run; nothing may be lost, duplicated or left different,
 * and no run may need a human. VDIRSYNCER_RELIABILITY_FULL=1 runs every kind on both backends, 2 kills each
 * (VDIRSYNCER_RELIABILITY_CI_KILLS changes the count); bench/crash-harness.mjs --kills 100 is the full run.
 * The kill moments come from a fixed seed (VDIRSYNCER_RELIABILITY_SEED to change it).
 */
import type { TestServer } from "@vdirsyncer/test-servers";
import { afterAll, beforeAll, expect, test } from "vitest";
import { addKill, CrashKind, emptySummary, KINDS, type KindSummary } from "../src/crash.ts";
import { FULL } from "../src/full.ts";
import { seededRandom } from "../src/harness.ts";
import { startServer } from "../src/radicale.ts";
import { record } from "../src/record.ts";

const KILLS = Number(process.env.VDIRSYNCER_RELIABILITY_CI_KILLS ?? (FULL ? 2 : 1));
/** Every operation on vdir ↔ vdir, and the mixed sync (uploads, downloads and deletes at once) on Radicale. */
const RUN_KINDS = FULL
  ? KINDS
  : KINDS.filter((k) => k.backend === "vdir" || (k.op === "mixed" && k.backend === "radicale"));
const SEED = Number(process.env.VDIRSYNCER_RELIABILITY_SEED ?? 10);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

test.each(RUN_KINDS.map((k) => [`${k.op} vdir ↔ ${k.backend}`, k] as const))(
  `${KILLS} SIGKILL${KILLS === 1 ? "" : "s"} during %s, each then a normal run: nothing lost, doubled or different, no human needed`,
  async (_name, k) => {
    const kind = new CrashKind(k.op, k.backend, server, {
      items: k.backend === "vdir" ? 60 : 20,
      random: seededRandom(SEED + KINDS.indexOf(k)),
    });
    let summary: KindSummary | undefined;
    try {
      await kind.setup();
      await kind.calibrate();
      summary = emptySummary(kind);
      for (let i = 0; i < KILLS; i++) addKill(summary, await kind.kill());
    } finally {
      kind.dispose();
    }
    record("crash-ci", summary.kind, { ...summary });
    expect(summary, summary.examples.join("\n")).toMatchObject({
      lost: 0,
      duplicated: 0,
      different: 0,
      resurrected: 0,
      needHuman: 0,
    });
  },
  180_000,
);
