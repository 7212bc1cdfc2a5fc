"""Committed responses reach evaluation through a Redis list per organization, drained in
batches by one task; nothing is stranded between a push and a drain."""

import pytest

from alerts.models import Case, ResponseCheck
from alerts.queueing import QUEUE, redis_client, response_queue_for_evaluation
from alerts.tasks import evaluate_pending_responses
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(settings):
    """Real Redis for the pending list; tasks go to an in-memory broker and run by hand."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    yield
    client = redis_client()
    for key in client.scan_iter("alerts:*"):
        client.delete(key)


def test_pushed_responses_are_drained_in_one_task_and_the_flag_is_let_go(org, personas, queued):
    from core.scoping import tenant_scope

    with tenant_scope(org):
        survey = csat_survey(org, owned_touchpoint(org, personas.cx_manager))
        low_csat_rule(org)
        responses = [submit_csat(org, survey, score) for score in (5, 4, 1, 5)]
    pending, flag = QUEUE.keys(org.pk)
    client = redis_client()
    assert client.llen(pending) == 4  # queued on commit, not evaluated in the request
    assert client.get(flag) is not None  # the first push scheduled the drain
    assert not ResponseCheck.all_objects.exists()

    assert evaluate_pending_responses.apply(kwargs={"organization_id": org.pk}).get() == 4
    assert ResponseCheck.all_objects.count() == 4
    assert Case.all_objects.get().response == responses[2]
    assert client.llen(pending) == 0 and client.get(flag) is None
    # A response after the drain schedules a new one (the flag was let go).
    with tenant_scope(org):
        submit_csat(org, survey, 2)
    assert client.get(flag) is not None and client.llen(pending) == 1


def test_a_drain_finds_ids_pushed_while_it_was_finishing(org, personas, queued):
    from core.scoping import tenant_scope

    with tenant_scope(org):
        survey = csat_survey(org, owned_touchpoint(org, personas.cx_manager))
        first = submit_csat(org, survey, 5)
        late = submit_csat(org, survey, 5)
    pending, _flag = QUEUE.keys(org.pk)
    client = redis_client()
    client.delete(pending)
    client.rpush(pending, first.pk)
    # Another response arrives while the flag is still held: its pusher schedules nothing, so
    # the running drain must pick it up.
    response_queue_for_evaluation(organization_id=org.pk, response_id=late.pk)
    assert evaluate_pending_responses.apply(kwargs={"organization_id": org.pk}).get() == 2
    assert ResponseCheck.all_objects.count() == 2
