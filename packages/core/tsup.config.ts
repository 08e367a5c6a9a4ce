import { defineConfig } from "tsup";
import base from "../../tsup.base.ts";

// Several entries: `.` for plugin authors, `./engine` for hosts, `./compat` internal, `./memory` for tests.
export default defineConfig({
  ...base,
  entry: ["src/index.ts", "src/engine.ts", "src/memory.ts", "src/compat/index.ts"],
});
