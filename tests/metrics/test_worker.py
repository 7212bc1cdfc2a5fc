"""The real path: a committed response reaches a Celery worker through Redis and lands in the rollups."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from core.scoping import tenant_scope
from cxplatform.celery import app
from metrics.models import DailyRollup
from surveys.services.responses import response_submit
from tests.factories import OrganizationFactory
from tests.metrics.conftest import at
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=["default", "metrics", "notifications"]
    ):
        yield


def wait_for(condition, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_turns_submitted_responses_into_rollups(worker):
    organization = OrganizationFactory(slug="worker-org")
    with tenant_scope(organization):
        survey = make_survey(organization, touchpoint=make_touchpoint(organization))
        for score in (10, 9, 4):
            response_submit(
                organization=organization,
                survey=survey,
                answers={"score": score},
                channel="sms",
                language="fi",
                submitted_at=at(2026, 4, 2),
            )

        def counted() -> bool:
            row = DailyRollup.objects.filter(organization=organization).first()
            return row is not None and row.n == 3

        assert wait_for(counted), "the worker did not process the responses"
        assert DailyRollup.objects.get(organization=organization).counts == {
            "10": 1,
            "9": 1,
            "4": 1,
        }
