#!/usr/bin/env bash
# Shared by demo.sh and test.sh: a project virtualenv with SSB Vote installed (editable),
# plus the front-end bundle. Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.ssbvote-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ -n "${SSBVOTE_REINSTALL:-}" ]; then
  echo "==> installing Python packages (pip install -e .[test])"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test]"
  touch "$stamp"
fi
if [ -f frontend/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is required to build the in-browser ballot encryption (apt-get install nodejs npm)" >&2
    exit 1
  fi
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules ]; then
    echo "==> installing front-end packages (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "==> building front-end bundle"
  (cd frontend && npm run --silent build)
fi
