import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")

# Every task retries connection errors with backoff (core.tasks.ResilientTask).
app = Celery("cxplatform", task_cls="core.tasks:ResilientTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
