import logging
import threading
import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import MemberInvitation
from core.models import ActivityLog, OutboxMessage
from core.services import activity_record
from core.tasks import TenantTask, enqueue_on_commit, relay_outbox
from cxplatform.celery import app as celery_app
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Membership
from tests.conftest import client_for

# A queue of this test run only, so the embedded worker takes nothing of anyone else's.
WORKER_QUEUE = f"tests-worker-{uuid.uuid4().hex[:8]}"
seen: list[dict] = []
worker_done = threading.Event()


@celery_app.task(base=TenantTask, name="tests.core.scope_probe")
def scope_probe(*, organization, note: str = "") -> dict:
    """What a tenant task sees: its organization and that organization's rows only."""
    result = {
        "slug": organization.slug,
        "members": sorted(Membership.objects.values_list("user__email", flat=True)),
        "note": note,
    }
    seen.append(result)
    return result


@celery_app.task(base=TenantTask, name="tests.core.worker_probe", queue=WORKER_QUEUE)
def worker_probe(*, organization, note: str) -> None:
    """Run by the embedded worker: leaves an audit row, then says so."""
    try:
        activity_record(
            organization=organization,
            actor=Actor.system(organization),
            action="tests.worker.ran",
            data={"note": note, "members": Membership.objects.count()},
        )
    finally:
        connection.close()  # the worker's thread has its own connection; leave none behind
        worker_done.set()


@pytest.fixture(autouse=True)
def _clear_probes():
    seen.clear()
    worker_done.clear()


# enqueue_on_commit


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_rolls_back(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(scope_probe, "apply_async", lambda **kw: sent.append(kw))

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_on_commit(scope_probe, organization_id=org.pk)
        raise RuntimeError("the service failed after enqueueing")

    assert callbacks == []
    assert sent == []


@pytest.mark.django_db
def test_the_task_is_sent_once_the_transaction_commits(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(scope_probe, "apply_async", lambda **kw: sent.append(kw))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            enqueue_on_commit(scope_probe, organization_id=org.pk, note="hello")
        assert sent == []  # not before the commit
    for callback in callbacks:
        callback()

    assert sent == [{"kwargs": {"organization_id": org.pk, "note": "hello"}}]


@pytest.mark.django_db
def test_an_eager_task_runs_in_the_organizations_scope(
    org, personas, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(scope_probe, organization_id=org.pk, note="eager")

    assert len(seen) == 1
    assert seen[0]["slug"] == "acme"
    assert personas.outsider.email not in seen[0]["members"]
    assert len(seen[0]["members"]) == 5


@pytest.mark.django_db
def test_wrong_task_arguments_are_refused_when_sent_not_when_run(org, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with pytest.raises(TypeError):
        scope_probe.apply_async(kwargs={"organization_id": org.pk, "nott": "typo"})
    with pytest.raises(TypeError):
        scope_probe.apply_async(kwargs={"note": "no organization"})
    assert seen == []


_UNSET = object()


@pytest.fixture
def celery_conf():
    """Override Celery settings for one test, then let Django's settings show through again."""
    changes = celery_app.conf.changes
    overridden: dict = {}

    def override(**values) -> None:
        for key, value in values.items():
            overridden.setdefault(key, changes.get(key, _UNSET))
            changes[key] = value

    yield override
    for key, previous in overridden.items():
        if previous is _UNSET:
            changes.pop(key, None)
        else:
            changes[key] = previous


@pytest.fixture
def broker_down(settings, celery_conf, monkeypatch):
    """A broker URL to a closed port, without retries, and fresh connection pools to use it."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_conf(
        broker_url="redis://127.0.0.1:1/0",
        broker_connection_timeout=1,
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        task_publish_retry=False,
    )
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


@pytest.mark.django_db
def test_with_the_broker_down_the_request_succeeds_and_the_task_waits_in_the_outbox(
    org, personas, broker_down, caplog, django_capture_on_commit_callbacks
):
    owner = client_for(personas.owner)
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="core.outbox"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = owner.post("/o/acme/members/", {"email": "new@example.com", "role": Role.VIEWER})

    assert time.monotonic() - started < 10
    assert response.status_code == 302
    assert MemberInvitation.all_objects.filter(organization=org, email="new@example.com").exists()
    failures = [r for r in caplog.records if "could not publish" in r.getMessage()]
    assert len(failures) == 1
    assert "accounts.tasks.send_member_invitation" in failures[0].getMessage()
    [waiting] = OutboxMessage.all_objects.filter(organization=org)
    assert waiting.task_name == "accounts.tasks.send_member_invitation"


@pytest.mark.django_db
def test_a_task_whose_publish_was_lost_after_the_commit_is_sent_by_the_relay(
    org, personas, settings, smtp_outbox, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # The commit happens, the publish after it never does: the process died in between.
    with django_capture_on_commit_callbacks(execute=False):
        client_for(personas.owner).post(
            "/o/acme/members/", {"email": "new@example.com", "role": Role.VIEWER}
        )
    assert OutboxMessage.all_objects.filter(organization=org).count() == 1
    assert relay_outbox.apply().get() == 0  # too young: its own process may still publish it

    OutboxMessage.all_objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert relay_outbox.apply().get() == 1

    [message] = smtp_outbox.wait_for(1)
    assert message.to == ["new@example.com"]
    assert not OutboxMessage.all_objects.exists()
    assert relay_outbox.apply().get() == 0
    assert len(smtp_outbox.settle()) == 1


# TenantTask


@pytest.mark.django_db
def test_a_tenant_task_sees_only_its_organizations_rows(org, other_org, personas):
    assert scope_probe(organization_id=other_org.pk) == {
        "slug": "rival",
        "members": [personas.outsider.email],
        "note": "",
    }


@pytest.mark.django_db
def test_a_tenant_task_returns_quietly_when_the_organization_is_gone(org, caplog):
    gone = org.pk
    org.delete()
    with caplog.at_level(logging.INFO, logger="core.tasks"):
        assert scope_probe(organization_id=gone) is None
    assert seen == []
    assert "is gone" in caplog.text


@pytest.mark.django_db
def test_a_tenant_task_leaves_no_scope_open_afterwards(org):
    from tenancy.scoping import ScopeError

    scope_probe(organization_id=org.pk)
    with pytest.raises(ScopeError):
        list(Membership.objects.all())


# A real worker on the real broker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_on_commit_is_run_by_a_worker(org, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=[WORKER_QUEUE],
        shutdown_timeout=15,
    ):
        with transaction.atomic():
            enqueue_on_commit(worker_probe, organization_id=org.pk, note="from the worker")
            time.sleep(0.5)
            assert not worker_done.is_set()  # nothing runs before the commit

        assert worker_done.wait(timeout=15), "the worker did not run the task within 15 s"

    row = ActivityLog.all_objects.get(organization=org, action="tests.worker.ran")
    assert row.data == {"note": "from the worker", "members": 0}
    assert row.actor_label == "system"


attempts: list[int] = []
retried_done = threading.Event()


@celery_app.task(
    base=TenantTask,
    name="tests.core.flaky_probe",
    queue=WORKER_QUEUE,
    autoretry_for=(ConnectionError,),
    retry_backoff=False,
    default_retry_delay=0,
    max_retries=3,
)
def flaky_probe(*, organization) -> None:
    """Fails on its first run, as a task does when a provider or the database blinks."""
    attempts.append(organization.pk)
    if len(attempts) == 1:
        raise ConnectionError("first attempt fails")
    retried_done.set()


@pytest.mark.django_db(transaction=True)
def test_a_tenant_task_that_fails_is_retried_by_the_worker(org):
    # The running task holds the Organization object; its retry must send the id again, or the
    # message cannot be serialised and the retry is silently lost.
    attempts.clear()
    retried_done.clear()
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=[WORKER_QUEUE],
        shutdown_timeout=15,
    ):
        flaky_probe.apply_async(kwargs={"organization_id": org.pk})
        assert retried_done.wait(timeout=20), f"no successful retry; attempts: {attempts}"
    assert attempts == [org.pk, org.pk]


# connection errors


@celery_app.task(base=TenantTask, name="tests.core.outage_probe", queue=WORKER_QUEUE)
def outage_probe(*, organization, note: str) -> None:
    try:
        activity_record(
            organization=organization,
            actor=Actor.system(organization),
            action="tests.worker.after_outage",
            data={"note": note},
        )
    finally:
        connection.close()
        worker_done.set()


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_organization_cannot_be_looked_up_is_retried_until_the_database_is_back(
    org, settings
):
    """The organization look-up runs before the task's body; with the database unreachable it
    fails, and the task must come back rather than be dropped."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    database = connections.settings["default"]  # the worker thread connects with these
    real_port = database["PORT"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[WORKER_QUEUE]):
        database["PORT"] = "1"  # nothing listens there: every new connection is refused
        try:
            outage_probe.apply_async(kwargs={"organization_id": org.pk, "note": "outage"})
            assert not worker_done.wait(2)  # the worker tried and could not reach the database
        finally:
            database["PORT"] = real_port
        assert worker_done.wait(30), "the task was not retried after the database came back"

    assert ActivityLog.all_objects.filter(
        organization=org, action="tests.worker.after_outage"
    ).exists()
