#!/usr/bin/env node
// The `vdirsyncer` command: runs the built CLI (dist/main.js, made by `pnpm build`) with the process's streams.
// The version check comes first, before anything that needs Node 24 (node:sqlite) is loaded.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 24 || (major === 24 && minor < 11)) {
  process.stderr.write(
    `critical: vdirsyncer needs Node.js 24.11 or newer; ${process.execPath} is ${process.version}.\n` +
      "hint: Put Node 24 first on your PATH (in this repository: . scripts/env.sh).\n",
  );
  process.exit(1);
}
// Cache compiled code on disk (Node's compile cache, in the OS temp dir): measured 10-15% off loading the CLI
// and its DAV plugins (about 250 ms) on every later run, which matters for frequent cron runs.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const { main } = await import("../dist/main.js");
process.exitCode = await main(process.argv.slice(2));
