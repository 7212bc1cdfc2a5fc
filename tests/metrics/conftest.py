from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.queueing import redis_client
from surveys.services.responses import response_submit
from tests.surveys.factories import make_survey, make_touchpoint

HELSINKI = ZoneInfo("Europe/Helsinki")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment in Helsinki time (the organizations' time zone)."""
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


@pytest.fixture
def touchpoint(scoped):
    return make_touchpoint(scoped, name="Checkout")


@pytest.fixture
def nps_survey(scoped, touchpoint):
    return make_survey(scoped, touchpoint=touchpoint)


@pytest.fixture
def submit(scoped, nps_survey):
    """Submit an NPS answer; the response's task runs when the test's commit callbacks do."""

    def submit_score(
        score: int, when: datetime, *, channel: str = "web", language: str = "fi", survey=None
    ):
        return response_submit(
            organization=scoped,
            survey=survey or nps_survey,
            answers={"score": score},
            channel=channel,
            language=language,
            submitted_at=when,
        )

    return submit_score


@pytest.fixture(autouse=True)
def _forget_queued_responses():
    """Response ids queued for the rollups (metrics.queueing) live in Redis, outside the test's
    database: drop them, so no later test inherits a list or a drain flag."""
    yield
    client = redis_client()
    for key in client.scan_iter("metrics:*"):
        client.delete(key)
