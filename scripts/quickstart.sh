#!/usr/bin/env bash
# The README's first command: on a fresh machine (Debian, system Node 20), install our own Node 24 and pnpm
# under ~/.cache/vdirsyncer-ts, install the workspace, build it, and run the `vdirsyncer` command on a bundled
# example: the sample calendar examples/demo/sample.ics synced into the vdir ./demo/calendars/sample.
# Run it again: the second sync has nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
pnpm install --frozen-lockfile
pnpm run build
out="${1:-demo}"
mkdir -p "$out"
cp examples/demo/config examples/demo/sample.ics "$out/"
cd "$out"
vdirsyncer="$OLDPWD/bin/vdirsyncer"
"$vdirsyncer" --version
"$vdirsyncer" -c config discover
"$vdirsyncer" -c config sync
echo
echo "The vdir $(pwd)/calendars/sample now holds:"
ls calendars/sample
echo
echo "Next: put $OLDPWD/bin on your PATH and try 'vdirsyncer -c $(pwd)/config sync' again."
