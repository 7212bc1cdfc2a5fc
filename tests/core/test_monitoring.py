"""Operators' view: Prometheus metrics behind a token, and readiness part by part."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.test import Client

from core import monitoring
from cxplatform.celery import app as celery_app
from surveys.services.responses import response_submit
from tenancy.scoping import tenant_scope
from tests.plugins.production import ROOT, production_env
from tests.plugins.worker import wait_for
from tests.surveys.factories import make_survey

QUEUE = f"tests-monitoring-{uuid.uuid4().hex[:8]}"
BIN = Path(sys.executable).parent
TOKEN = "scrape-token-for-tests"


@celery_app.task(name="tests.core.always_fails", queue=QUEUE)
def always_fails() -> None:
    raise ValueError("this task always fails")


@pytest.fixture(autouse=True)
def _fresh_counters():
    client = monitoring.redis_client()
    client.delete(*(f"monitoring:{name}" for name in monitoring.COUNTERS))
    client.delete(monitoring.WORKER_HEARTBEAT_KEY, "redbeat::lock")


def _scrape(token: str = TOKEN):
    return Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def _sample(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name))
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.django_db
def test_metrics_do_not_exist_without_the_token(settings):
    settings.METRICS_TOKEN = ""
    assert _scrape().status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert _scrape("guess").status_code == 404
    assert Client().get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_show_the_backlog_an_operator_watches(settings, org):
    settings.METRICS_TOKEN = TOKEN
    with tenant_scope(org):
        response_submit(
            organization=org,
            survey=make_survey(org),
            answers={"score": 9},
            channel="web",
            language="fi",
        )

    page = _scrape()

    assert page.status_code == 200
    text = page.content.decode()
    assert 'cxp_queue_depth{queue="default"}' in text
    assert _sample(text, "cxp_oldest_unprocessed_response_age_seconds") >= 0
    assert "cxp_outbox_messages" in text
    assert _sample(text, "cxp_worker_heartbeat_age_seconds") == -1  # no worker has reported


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_counted_by_name(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[QUEUE]):
        always_fails.delay()
        assert wait_for(
            lambda: monitoring.redis_client().hget("monitoring:task_failures", always_fails.name)
        )

    text = _scrape().content.decode()
    assert _sample(text, 'cxp_task_failures_total{task="tests.core.always_fails"}') == 1


def _start(*command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "cxplatform", *command, "--loglevel=warning"],
        cwd=ROOT,
        env=production_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.django_db
def test_readiness_reports_the_worker_and_the_scheduler_separately(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    before = Client().get("/readyz").json()
    assert before["database"] == "ok" and before["redis"] == "ok"
    assert before["worker"].startswith("error") and before["scheduler"].startswith("error")
    assert before["status"] == "degraded"

    worker = _start("worker", "-Q", QUEUE, "--pool", "solo", "-n", f"ready-{os.getpid()}@%h")
    beat = _start("beat")
    try:
        assert wait_for(lambda: Client().get("/readyz").json()["status"] == "ready", seconds=60)
    finally:
        for process in (worker, beat):
            process.terminate()
            process.wait(30)
    assert redis.Redis.from_url(os.environ["REDIS_URL"]).get(monitoring.WORKER_HEARTBEAT_KEY)
