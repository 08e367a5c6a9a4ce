#!/usr/bin/env bash
# Installs the Debian packages the tests run against, when missing: the real Python vdirsyncer (the reference
# the compatibility tests compare with), Radicale and Xandikos (DAV servers), khal and khard (vdir readers for the
# interop tests), sqlite3.
set -euo pipefail
needed=()
command -v vdirsyncer >/dev/null || needed+=(vdirsyncer)
command -v radicale >/dev/null || needed+=(radicale)
command -v xandikos >/dev/null || needed+=(xandikos)
command -v sqlite3 >/dev/null || needed+=(sqlite3)
command -v khal >/dev/null || needed+=(khal)
command -v khard >/dev/null || needed+=(khard)
command -v python3 >/dev/null || needed+=(python3)
[ ${#needed[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${needed[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: run as root or install: ${needed[*]}" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
