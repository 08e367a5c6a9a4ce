import { defineConfig } from "tsup";
import base from "../../tsup.base.ts";

// Three entries: the library, the vitest helpers and the globalSetup file.
export default defineConfig({
  ...(base as object),
  entry: ["src/index.ts", "src/vitest.ts", "src/global-setup.ts"],
  external: ["vitest"],
});
