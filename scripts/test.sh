#!/usr/bin/env bash
# README command 2: install everything the tests need, then run every test.
# As root with apt-get (CI, a fresh machine) it installs PostgreSQL, Chromium and Thai fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  need=()
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  compgen -G "/usr/share/fonts/truetype/tlwg/*" >/dev/null || need+=(fonts-thai-tlwg)
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
  if [ ${#need[@]} -gt 0 ]; then
    echo "==> apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
./scripts/setup.sh
# Step 1: the type check (mypy --strict over every package), a step of its own, not a test.
# SSBVOTE_SKIP_TYPECHECK=1 skips it for a quick local run of a few tests; CI never sets it.
if [ "${SSBVOTE_SKIP_TYPECHECK:-0}" != 1 ] || [ "${CI:-}" = true ]; then
  ./scripts/typecheck.sh
fi
# Step 2: every test.
exec .venv/bin/python -m pytest "$@"
