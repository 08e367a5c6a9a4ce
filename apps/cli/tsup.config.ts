import { defineConfig } from "tsup";
import base from "../../tsup.base.ts";

/**
 * The command's own code and the workspace packages it is made of (config, status, core) go into this package's
 * dist as one module graph: Node then resolves and reads a few files instead of dozens per start. Storage plugins
 * stay separate packages, loaded by name only when a config uses them. Third-party libraries (yargs, cosmiconfig)
 * stay external, so the `dependencies` in package.json are still what runs; code shared by commands is split
 * into chunks that a command loads when it needs them.
 */
export default defineConfig({
  ...(base as object),
  noExternal: [/^@vdirsyncer\/(?!storage-)/],
  splitting: true,
  // The workspace packages are bundled from their sources (their `source` export condition), not their dist.
  esbuildOptions(options) {
    options.conditions = ["source"];
  },
});
