#!/usr/bin/env node
// The `vdirsyncer` command of @vdirsyncer/all: runs @vdirsyncer/cli's own launcher, unchanged. Every official
// storage package is installed next to the cli (this package depends on them), which is where the command
// looks for the plugin of a storage `type`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const manifestPath = createRequire(import.meta.url).resolve("@vdirsyncer/cli/package.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin.vdirsyncer;
await import(pathToFileURL(join(dirname(manifestPath), bin)).href);
