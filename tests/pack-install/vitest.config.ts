import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Not one of the root config's projects: it needs the build (test.sh runs it after building) and the npm
// registry, so `pnpm exec vitest run` from the root stays a run of the sources alone.
export default mergeConfig(
  shared,
  defineConfig({
    environments: { __vitest__: { resolve: { conditions: ["source"] } } },
    test: {
      name: "pack-install",
      globalSetup: ["./src/global-setup.ts"],
      testTimeout: 300_000,
      hookTimeout: 300_000,
    },
  }),
);
