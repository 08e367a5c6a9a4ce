import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "plugins/*",
      "apps/*",
      "examples/storage-json",
      "examples/storage-template",
      "tests/reliability",
    ],
  },
});
