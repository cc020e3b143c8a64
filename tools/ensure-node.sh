#!/usr/bin/env bash
# Node.js and npm install the pinned runtime from the npm registry; install Debian's when missing.
set -euo pipefail
command -v npm >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  exit 0
fi
echo "npm is missing: install Node.js 20 or newer." >&2
exit 1
