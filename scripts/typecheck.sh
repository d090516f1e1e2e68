#!/usr/bin/env bash
# mypy --strict over every package (style rule: typed code). A CI step of its own, run by
# scripts/test.sh before pytest; run it alone with ./scripts/typecheck.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(app crypto election tally verifier tools ca)
echo "==> mypy --strict ${PACKAGES[*]}"
exec .venv/bin/python -m mypy --strict "${PACKAGES[@]}"
