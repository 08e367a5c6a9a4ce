import { defineConfig } from "tsup";
import base from "../../tsup.base.ts";

/**
 * The command's own code and the workspace packages it is made of (config, status, core) go into this package's
 * dist as one module graph: Node then resolves and reads a few files instead of dozens per start. Storage plugins
 * stay separate packages, loaded by name only when a config uses them. yargs is bundled too (one file instead of
 * some thirty, checked to run without `require`; its help is then always English, as vdirsyncer's is, instead of
 * following LANG); cosmiconfig stays external, so it must be listed in this package's `dependencies`. Code shared
 * by commands is split into chunks that a command loads when it needs them.
 */
export default defineConfig({
  ...(base as object),
  // main.ts is an entry of its own so that the launcher (bin/vdirsyncer.js) loads the command without the
  // library's other exports (the plugin resolver and its part of core).
  entry: ["src/index.ts", "src/main.ts"],
  noExternal: [/^@vdirsyncer\/(?!storage-)/, "yargs"],
  splitting: true,
  // The workspace packages are bundled from their sources (their `source` export condition), not their dist.
  esbuildOptions(options) {
    options.conditions = ["source"];
  },
});
