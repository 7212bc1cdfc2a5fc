#!/usr/bin/env bash
# Runs the whole suite against real PostgreSQL and Redis; never falls back to anything else.
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/python scripts/check_services.py || exit 1

# Debian packages some tests need: chromium (browser tests) and pgbouncer (tests/faults/test_scale_out.py).
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/sbin/pgbouncer ] || missing="$missing pgbouncer"
if [ -n "$missing" ]; then
  echo "Installing Debian's$missing for the tests (once per machine)..."
  if [ "$(id -u)" = "0" ]; then
    # shellcheck disable=SC2086
    (apt-get update -qq && apt-get install -y -qq $missing >/dev/null) || echo "$missing could not be installed; the tests that need it will fail"
  else
    echo "missing:$missing; run 'sudo apt-get install$missing'" >&2
  fi
fi

export SECRET_KEY="${SECRET_KEY:-test-only-secret}"
export STATIC_MANIFEST="${STATIC_MANIFEST:-false}"
# --create-db: a checkout never inherits a test database migrated by another checkout's code.
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest --create-db "$@"
fi

# The whole suite: the quick benchmarks (tests/bench, mostly waiting on the servers and workers
# they start, in databases of their own) run beside the rest, with Redis database 10 for their
# cache so the rest's database is never flushed under it. Their output follows the rest's.
mkdir -p var
bench_log="var/test-bench.log"
aside() { .venv/bin/python -c "import os, bench.environment as e; print(e.$1)"; }
DATABASE_URL="$(aside 'with_database(os.environ["DATABASE_URL"], "cxplatform_bench_tests")')" \
  REDIS_URL="$(aside 'with_redis_db(os.environ["REDIS_URL"], 10)')" \
  .venv/bin/python -m pytest tests/bench > "$bench_log" 2>&1 &
bench_pid=$!
status=0
.venv/bin/python -m pytest --create-db --ignore=tests/bench || status=$?
bench_status=0
wait "$bench_pid" || bench_status=$?
echo
echo "=== tests/bench (run beside the rest) ==="
cat "$bench_log"
[ "$status" -ne 0 ] && exit "$status"
exit "$bench_status"
