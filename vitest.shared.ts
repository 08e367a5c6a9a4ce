import { defineConfig } from "vitest/config";

/** Shared by every package: run sources, not dist, through the `source` export condition. */
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});
