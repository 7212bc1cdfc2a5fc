#!/usr/bin/env bash
# `make run`: migrate, load the demo organization, serve on http://127.0.0.1:8000 (PORT) with Celery
# work. DEBUG stays off, as in production: a mistyped address gets the 404 page, not Django's
# debug page listing every URL; static files come from whitenoise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var

ADDRESS="127.0.0.1:${PORT:-8000}"

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  export CXP_EMBEDDED=true
  echo "cxplatform: embedded default (SQLite in var/, Celery tasks run in-process, emails as files in var/mail/)."
  echo "            Set DATABASE_URL and REDIS_URL to use PostgreSQL, Redis and real Celery workers."
else
  echo "cxplatform: using DATABASE_URL and REDIS_URL, with a Celery worker and beat."
  # Outside the embedded default a secret key is required: keep one for this checkout in var/.
  if [ -z "${SECRET_KEY:-}" ]; then
    [ -s var/secret_key ] || $PY -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
    SECRET_KEY="$(cat var/secret_key)"
    export SECRET_KEY
  fi
  # Plain http on this machine: cookies without the Secure flag, static files from the sources.
  export SECURE_COOKIES="${SECURE_COOKIES:-false}" STATIC_MANIFEST="${STATIC_MANIFEST:-false}"
  # Without EMAIL_URL, emails become files in var/mail/ as in the embedded default.
  if [ -z "${EMAIL_URL:-}" ] && [ -z "${EMAIL_BACKEND:-}" ]; then
    export EMAIL_BACKEND=core.mail.EmlFileBackend
  fi
fi
export DEBUG="${DEBUG:-false}"

$PY manage.py migrate --no-input -v 0
$PY manage.py compilemessages --ignore=.venv -v 0 2>/dev/null || true
$PY manage.py load_demo

if [ "${CXP_EMBEDDED:-}" = "true" ]; then
  exec $PY manage.py runserver "$ADDRESS"
fi

# One command, one Ctrl-C: the worker and beat die with the web server.
trap 'kill 0' EXIT INT TERM
# Alerts have a worker of their own, so a rollup backlog never delays a low score's case.
.venv/bin/celery -A cxplatform worker -Q alerts,notifications -n alerts@%h --loglevel=info &
# On shared cores rollups yield the CPU to alerts (they may lag a little; a low score may not).
nice -n 10 .venv/bin/celery -A cxplatform worker -B -Q default,metrics,maintenance -n work@%h --loglevel=info &
$PY manage.py runserver "$ADDRESS"
