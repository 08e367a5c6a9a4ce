import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Radicale and Xandikos start once for the whole project; each test makes its own collections.
export default mergeConfig(
  shared,
  defineConfig({ test: { globalSetup: ["@vdirsyncer/test-servers/global-setup"] } }),
);
