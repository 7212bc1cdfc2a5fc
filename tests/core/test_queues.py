"""One queue per class of work, and a worker pool for each (core/queues.py)."""

import re
from pathlib import Path

import pytest

from core import queues
from core.monitoring import QUEUES as MONITORED
from cxplatform.celery import app
from cxplatform.schedule import BEAT_SCHEDULE

ROOT = Path(__file__).resolve().parents[2]
# The response path's safety nets must not wait behind purges.
ON_DEFAULT = {"surveys.tasks.drain_response_spool", "core.tasks.relay_outbox"}


def queue_of(task: str) -> str:
    route = app.amqp.router.route({}, task)
    return route["queue"].name


@pytest.mark.parametrize("entry", sorted(BEAT_SCHEDULE))
def test_every_periodic_job_runs_on_the_maintenance_pool_but_the_safety_nets(entry):
    task = BEAT_SCHEDULE[entry]["task"]
    assert queue_of(task) == ("default" if task in ON_DEFAULT else "maintenance")


def test_the_work_a_sweep_finds_goes_to_the_pool_of_its_kind():
    assert queue_of("metrics.tasks.sweep_organization") == "metrics"
    assert queue_of("metrics.tasks.process_responses") == "metrics"
    assert queue_of("alerts.tasks.sweep_organization_responses") == "alerts"
    assert queue_of("alerts.tasks.evaluate_response") == "alerts"
    assert queue_of("webhooks.tasks.deliver") == "notifications"
    assert queue_of("distribution.tasks.send_invitation") == "notifications"
    assert queue_of("reports.tasks.send_digest") == "notifications"
    assert queue_of("distribution.tasks.import_contacts") == "default"


def test_each_queue_has_one_worker_service_in_docker_compose_and_is_monitored():
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    consumed = [
        queue
        for listed in re.findall(r"celery -A cxplatform worker -Q (\S+)", compose)
        for queue in listed.split(",")
    ]
    assert sorted(consumed) == sorted(queues.ALL)
    assert set(MONITORED) == set(queues.ALL)
    assert "celery -A cxplatform beat" in compose


def test_make_run_consumes_every_queue():
    script = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    consumed = {
        queue
        for listed in re.findall(r"worker (?:-B )?-Q (\S+)", script)
        for queue in listed.split(",")
    }
    assert consumed == set(queues.ALL)
