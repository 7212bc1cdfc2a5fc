"""gunicorn's settings for the web process: `gunicorn -c cxplatform/gunicorn.conf.py
cxplatform.wsgi:application` (the Dockerfile's command). Each can be changed from the environment."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# gunicorn's default of 30 s killed slow requests (a large export, a big CSV upload) mid-response;
# long work belongs in Celery tasks, and this is the ceiling for what is left in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# A worker being stopped or recycled finishes the requests it holds first.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = "-"
