#!/usr/bin/env bash
# README command 1: install, set up a fresh demo election on SQLite, print logins, serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/ssbvote demo "$@"
