#!/usr/bin/env bash
# Sets up a fresh clone: npm dependencies from the lockfile, then everything the real brokers need
# (Debian packages for RabbitMQ 3.10, the debootstrap root for RabbitMQ 4.0). Idempotent and quick
# when nothing is missing, so every entry command calls it first.
#   --npm-only  stop after npm
#   --tests     also the Debian packages only the tests use (Chromium, for the HTML reports)
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.warren-lock-sha256
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi

[[ ${1:-} == --npm-only ]] && exit 0

if [[ ${1:-} == --tests && ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: the report tests need Chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "setup: installing chromium (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi

npx tsx scripts/broker.ts install --version all
