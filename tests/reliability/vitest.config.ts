import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Every test here runs the real command in child processes (from its sources, or its build when that is
// current) against real vdirs and a Radicale of its own: no global setup, each file starts what it needs.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      testTimeout: 120_000,
      hookTimeout: 60_000,
      // Child processes and a server per file: two files at once are plenty on a shared machine.
      maxWorkers: 2,
    },
  }),
);
