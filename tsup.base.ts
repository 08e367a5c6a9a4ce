import { defineConfig } from "tsup";

/** The one build shape for every package: ESM, declarations, dependencies kept external. */
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node24",
  platform: "node",
  // Keep `node:` specifiers: `node:sqlite` exists only under that name, and stripping it breaks the import.
  removeNodeProtocol: false,
});
