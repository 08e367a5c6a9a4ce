#!/usr/bin/env bash
# The README's first command: on a fresh machine (Debian, system Node 20), install our own Node 24 and pnpm
# under ~/.cache/vdirsyncer-ts, install the workspace, build it, and sync the bundled sample calendar into a vdir
# under ./demo (run it again: the second sync has nothing to do).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
pnpm install --frozen-lockfile
pnpm run build
node examples/demo/sync-sample.mjs "${1:-demo}"
