#!/usr/bin/env bash
# Make sure a Chromium exists for the browser tests. CHROMIUM_PATH wins; otherwise Debian's
# package `chromium` (/usr/bin/chromium) is installed when missing and we are root. Playwright's
# own browser download does not work on machines without general internet access.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] && exit 0
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2; exit 1
fi
if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "No Chromium found. Install your distribution's chromium, or set CHROMIUM_PATH." >&2
exit 1
