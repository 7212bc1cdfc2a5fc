"""Liveness and readiness for load balancers and operators."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from cxplatform.celery import app as celery_app


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
