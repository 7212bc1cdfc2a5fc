#!/usr/bin/env bash
# `make run`: migrate, load the demo organization, serve on http://127.0.0.1:8000 with Celery work.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  export CXP_EMBEDDED=true
  echo "cxplatform: embedded default (SQLite in var/, Celery tasks run in-process, email printed here)."
  echo "            Set DATABASE_URL and REDIS_URL to use PostgreSQL, Redis and real Celery workers."
else
  echo "cxplatform: using DATABASE_URL and REDIS_URL, with a Celery worker and beat."
fi
export DEBUG="${DEBUG:-true}"

$PY manage.py migrate --no-input -v 0
$PY manage.py compilemessages --ignore=.venv -v 0 2>/dev/null || true
$PY manage.py load_demo

if [ "${CXP_EMBEDDED:-}" = "true" ]; then
  exec $PY manage.py runserver 127.0.0.1:8000
fi

# One command, one Ctrl-C: the worker and beat die with the web server.
trap 'kill 0' EXIT INT TERM
# Alerts have a worker of their own, so a rollup backlog never delays a low score's case.
.venv/bin/celery -A cxplatform worker -Q alerts,notifications -n alerts@%h --loglevel=info &
# On shared cores rollups yield the CPU to alerts (they may lag a little; a low score may not).
nice -n 10 .venv/bin/celery -A cxplatform worker -B -Q default,metrics -n work@%h --loglevel=info \
  --schedule var/celerybeat-schedule &
$PY manage.py runserver 127.0.0.1:8000
