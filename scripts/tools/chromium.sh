#!/usr/bin/env bash
# Chromium for the browser tests (tests/e2e/browser.py drives it with Playwright): Debian's `chromium` package,
# installed with apt when /usr/bin/chromium is missing; prints the binary's path. Playwright never downloads a
# browser of its own: this machine reaches the package registries only.
#
#   scripts/tools/chromium.sh        # -> /usr/bin/chromium
set -euo pipefail

CHROMIUM=/usr/bin/chromium

log() { echo "chromium.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [ ! -x "$CHROMIUM" ]; then
  [ "$(id -u)" -eq 0 ] || die "no Chromium at $CHROMIUM; install Debian's package: sudo apt-get install -y chromium"
  # Serialised with postgres.sh and kafka.sh, which may be installing their packages at the same moment; a second
  # caller waiting here finds Chromium installed. No recommends (printing, notifications, GPU drivers): headless
  # needs none of them, only a font to render text with.
  exec 9>/tmp/ecomops-apt.lock
  flock 9
  if [ ! -x "$CHROMIUM" ]; then
    started=$(date +%s)
    log "installing Debian's chromium with apt"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation >&2
    log "installed in $(($(date +%s) - started)) s"
  fi
  exec 9>&-
  [ -x "$CHROMIUM" ] || die "apt installed no $CHROMIUM"
fi
echo "$CHROMIUM"
