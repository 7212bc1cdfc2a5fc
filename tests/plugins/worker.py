"""An in-process Celery worker on every queue, for tests of the path production takes, and a
helper to wait for what the worker does."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from core import queues
from cxplatform.celery import app

QUEUES = list(queues.ALL)


@pytest.fixture
def worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES):
        yield


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
