#!/usr/bin/env bash
# Installs the Debian packages the tests run against, when missing: the real Python vdirsyncer (the reference
# the compatibility tests compare with), the DAV servers Radicale, Xandikos, Cyrus IMAP (CalDAV/CardDAV) and
# DAViCal (PHP + PostgreSQL), khal and khard (vdir readers for the interop tests), sqlite3.
# Each package is detected by the file the tests use from it. The tests start private server instances; the
# system services some of these packages bring (cyrus-imapd, postgresql, exim4) are neither started nor enabled.
set -euo pipefail
needed=()
has() { command -v "$1" >/dev/null; }
has_file() { compgen -G "$1" >/dev/null; }
has vdirsyncer || needed+=(vdirsyncer)
has radicale || needed+=(radicale)
has xandikos || needed+=(xandikos)
has sqlite3 || needed+=(sqlite3)
has khal || needed+=(khal)
has khard || needed+=(khard)
has python3 || needed+=(python3)
[ -x /usr/lib/cyrus/bin/master ] || needed+=(cyrus-imapd)
[ -x /usr/lib/cyrus/bin/httpd ] || needed+=(cyrus-caldav)
[ -x /usr/sbin/saslpasswd2 ] || needed+=(sasl2-bin)
[ -x /usr/share/davical/dba/create-database.sh ] || needed+=(davical)
[ -x /usr/bin/php ] || needed+=(php-cli)
has_file '/etc/php/*/cli/conf.d/*pgsql.ini' || needed+=(php-pgsql)
has_file '/usr/lib/postgresql/*/bin/initdb' || needed+=(postgresql)
[ ${#needed[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${needed[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: run as root or install: ${needed[*]}" >&2; exit 1; }
  sudo=sudo
fi
# No service of a package installed here may start (a system Cyrus or PostgreSQL would only take ports and
# memory): a policy-rc.d that denies every start, for the time of the install, unless one exists already.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
# Nor at the next boot: disable the services of what was just installed.
if [ -d /run/systemd/system ]; then
  for unit in cyrus-imapd postgresql exim4; do
    for pkg in "${needed[@]}"; do
      case "$unit:$pkg" in
        cyrus-imapd:cyrus-imapd | postgresql:postgresql | exim4:cyrus-imapd)
          $sudo systemctl disable --now "$unit" >/dev/null 2>&1 || true ;;
      esac
    done
  done
fi
