#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests
# (iterable_sync_tests/ui/test_browser.py). Idempotent: silent and quick when it is already
# there. Installs with apt-get, so it needs root (CI runs as root); never downloads a browser
# build of its own.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure-chromium: $CHROMIUM is missing and installing it needs root" >&2
    exit 1
fi

echo "ensure-chromium: installing Debian's chromium (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null

if [[ ! -x "$CHROMIUM" ]]; then
    echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
