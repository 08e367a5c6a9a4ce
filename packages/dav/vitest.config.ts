import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Radicale and Xandikos start once for the whole project; each test makes its own collections. vitest loads
// globalSetup files without the `source` condition, so point at the source file through the package's folder.
const testServers = dirname(fileURLToPath(import.meta.resolve("@vdirsyncer/test-servers/package.json")));

export default mergeConfig(
  shared,
  defineConfig({ test: { globalSetup: [join(testServers, "src/global-setup.ts")] } }),
);
