"""Liveness and readiness for load balancers and operators."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from core import monitoring
from cxplatform.celery import app as celery_app

# A worker's heart beats every 2 s; one silent this long is gone (or stuck).
WORKER_SILENT_SECONDS = 30


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # any driver error means "down"; its text helps the operator
        return f"error: {type(error).__name__}"


def _cache() -> str:
    try:
        cache.set("healthz", "1", 5)
        return "ok" if cache.get("healthz") == "1" else "error: value not read back"
    except Exception as error:
        return f"error: {type(error).__name__}"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:
        return f"error: {type(error).__name__}"


@never_cache
def healthz(request) -> JsonResponse:
    """200 with each dependency's state; 503 when the database, without which nothing works, is down."""
    checks = {"database": _database(), "cache": _cache(), "broker": _broker()}
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "unavailable", **checks}, status=status
    )


@never_cache
def livez(request) -> HttpResponse:
    """The process answers; touches nothing else (also the bare baseline of the API benchmark)."""
    return HttpResponse("ok", content_type="text/plain")


def _worker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        age = monitoring.worker_heartbeat_age()
    except Exception as error:
        return f"error: {type(error).__name__}"
    if age is None:
        return "error: no heartbeat seen"
    return "ok" if age <= WORKER_SILENT_SECONDS else f"error: silent for {int(age)} s"


def _scheduler() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        return "ok" if monitoring.scheduler_lock_held() else "error: no beat holds the lock"
    except Exception as error:
        return f"error: {type(error).__name__}"


@never_cache
def readyz(request) -> JsonResponse:
    """Each part on its own: database, Redis, a worker's heartbeat, the scheduler's lock.

    The status is 503 only when the database is down (this process cannot serve); a missing
    worker or scheduler is reported for the operator, and the web keeps serving (work waits in
    the outbox and the queues).
    """
    checks = {
        "database": _database(),
        "redis": _cache(),
        "worker": _worker(),
        "scheduler": _scheduler(),
    }
    status = 200 if checks["database"] == "ok" else 503
    ready = all(value in ("ok", "eager") for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "degraded" if status == 200 else "unavailable", **checks},
        status=status,
    )
