#!/usr/bin/env bash
# Sets up a fresh clone: npm dependencies from the lockfile, then everything the real brokers need
# (Debian packages for RabbitMQ 3.10, the debootstrap root for RabbitMQ 4.0). Idempotent and quick
# when nothing is missing, so every entry command can call it first. `--npm-only` stops after npm.
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

if [[ -f scripts/broker.ts ]]; then
  npx tsx scripts/broker.ts install --version all
fi
