#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs
# ruff, mypy and pytest.  Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use: tcpdump and tshark read synack's pcaps, curl and ping talk
# to synack over TUN from the kernel side, ip makes the namespaces.  Tests that need
# them skip when they are missing.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  need=""
  for tool in tcpdump tshark curl ping ip; do
    command -v "$tool" >/dev/null 2>&1 || need=1
  done
  if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        tcpdump tshark curl iputils-ping iproute2) \
      >/dev/null 2>&1 || echo "note: could not install the test tools; those checks will skip"
  fi
fi

python -m pip install -q --disable-pip-version-check -e '.[test]'

echo "== ruff =="
python -m ruff check src tests
echo "== mypy =="
python -m mypy
echo "== pytest =="
python -m pytest "$@"
