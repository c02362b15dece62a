#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs
# ruff, mypy and pytest.  Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Optional system tools the tests use as independent oracles (tcpdump and tshark read
# synack's pcaps).  Tests that need them skip when they are missing.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if ! command -v tcpdump >/dev/null 2>&1 || ! command -v tshark >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends tcpdump tshark) \
      >/dev/null 2>&1 || echo "note: could not install tcpdump/tshark; those checks will skip"
  fi
fi

python -m pip install -q --disable-pip-version-check -e '.[test]'

echo "== ruff =="
python -m ruff check src tests
echo "== mypy =="
python -m mypy
echo "== pytest =="
python -m pytest "$@"
