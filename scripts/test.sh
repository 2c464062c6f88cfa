#!/usr/bin/env bash
# `npm test`: everything the tests need on a fresh machine, then every test (unit, integration, browser).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "npm test: Debian chromium is missing; installing it with apt-get (browser tests need it)"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

npx tsc --noEmit -p .
npx vite build dashboard --logLevel warn
npx vitest run "$@"
