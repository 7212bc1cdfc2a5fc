#!/usr/bin/env bash
# Runs the whole suite against real PostgreSQL and Redis; never falls back to anything else.
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/python scripts/check_services.py || exit 1

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests (once per machine)..."
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed; browser tests will fail"
  else
    echo "chromium is missing: run 'sudo apt-get install chromium'" >&2
  fi
fi

export SECRET_KEY="${SECRET_KEY:-test-only-secret}"
export STATIC_MANIFEST="${STATIC_MANIFEST:-false}"
# --create-db: a checkout never inherits a test database migrated by another checkout's code.
exec .venv/bin/python -m pytest --create-db "$@"
