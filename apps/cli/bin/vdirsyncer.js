#!/usr/bin/env node
// The `vdirsyncer` command: runs the built CLI (dist/, made by `pnpm build`) with the process's streams.
import { main } from "../dist/index.js";

process.exitCode = await main(process.argv.slice(2));
