"""The real path: a committed response reaches a Celery worker through Redis and lands in the rollups."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from core.queueing import redis_client
from core.scoping import tenant_scope, unscoped
from cxplatform.celery import app
from metrics.models import DailyRollup, DailyTotal
from metrics.tasks import sweep_unprocessed_responses
from surveys.models import Response
from surveys.services.responses import response_submit
from tests.factories import OrganizationFactory
from tests.metrics.conftest import at
from tests.plugins.worker import wait_for
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
QUEUES = ["default", "metrics", "notifications", "maintenance"]
BROKER = django_settings.CELERY_BROKER_URL


@pytest.fixture
def worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES):
        yield


def submit_scores(organization, scores, *, day=2, channel="sms"):
    with tenant_scope(organization):
        survey = make_survey(organization, touchpoint=make_touchpoint(organization))
        for score in scores:
            response_submit(
                organization=organization,
                survey=survey,
                answers={"score": score},
                channel=channel,
                language="fi",
                submitted_at=at(2026, 4, day),
            )


def test_worker_turns_submitted_responses_into_rollups(worker):
    organization = OrganizationFactory(slug="worker-org")
    submit_scores(organization, (10, 9, 4))

    def counted() -> bool:
        with tenant_scope(organization):
            row = DailyRollup.objects.first()
            return row is not None and row.n == 3

    assert wait_for(counted), "the worker did not process the responses"
    with tenant_scope(organization):
        assert DailyRollup.objects.get().counts == {"10": 1, "9": 1, "4": 1}


def test_a_burst_of_responses_is_counted_exactly_once(worker):
    organization = OrganizationFactory(slug="burst-org")
    scores = [number % 11 for number in range(120)]
    submit_scores(organization, scores)

    def all_processed() -> bool:
        with tenant_scope(organization):
            return not Response.objects.filter(processed_at__isnull=True).exists()

    assert wait_for(all_processed, seconds=30), "the worker left responses unprocessed"
    with tenant_scope(organization):
        total = DailyTotal.objects.get()
    assert total.n == 120
    assert total.counts == {str(value): scores.count(value) for value in set(scores)}


@pytest.fixture
def worker_process(settings, tmp_path):
    """A `celery worker` process on the test database, started as production starts it. The
    in-process test worker above lets a task wait for another task's result; a real worker
    refuses that, which is what a sweep calling `.get()` ran into."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    database = urlsplit(os.environ["DATABASE_URL"])._replace(
        path="/" + connection.settings_dict["NAME"]
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "cxplatform", "worker"),
                *("--pool", "solo", "-Q", ",".join(QUEUES), "--loglevel", "info"),
                *("--without-mingle", "--without-gossip", "--hostname", f"metrics-{os.getpid()}@%h"),
            ],
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "DATABASE_URL": urlunsplit(database), "CELERY_TASK_ALWAYS_EAGER": "false"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert wait_for(lambda: b" ready." in log_path.read_bytes(), seconds=60), (
            log_path.read_text(errors="replace")[-3000:]
        )
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_one_sweep_processes_the_lost_responses_of_every_organization(settings, worker_process):
    # Three organizations' responses are saved while their tasks are lost (the broker takes
    # them into memory and Redis forgets the queued ids); ten minutes later one sweep must
    # process all three organizations, not stop after the first.
    settings.CELERY_BROKER_URL = "memory://"
    organizations = [OrganizationFactory(slug=f"lost-{number}") for number in range(3)]
    for number, organization in enumerate(organizations):
        submit_scores(organization, (10, number), day=3)
    client = redis_client()
    for key in client.scan_iter("metrics:*"):
        client.delete(key)
    with unscoped():
        Response.all_objects.update(created_at=timezone.now() - timedelta(minutes=10))
    settings.CELERY_BROKER_URL = BROKER  # the broker is back

    def processed(organization) -> bool:
        with tenant_scope(organization):
            counted = DailyTotal.objects.filter(n=2).exists()
            return counted and not Response.objects.filter(processed_at__isnull=True).exists()

    sweep_unprocessed_responses.delay()
    assert wait_for(lambda: all(map(processed, organizations)), seconds=30), (
        [organization.slug for organization in organizations if not processed(organization)],
        worker_process.read_text(errors="replace")[-3000:],
    )
