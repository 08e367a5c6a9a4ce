import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // Global setup runs in vitest's own `__vitest__` environment, which does not inherit the `source` condition,
    // so without this it would look for test-servers' unbuilt dist/. Real servers: a missing binary fails the run.
    environments: { __vitest__: { resolve: { conditions: ["source"] } } },
    test: { globalSetup: ["./test/global-setup.ts"] },
  }),
);
