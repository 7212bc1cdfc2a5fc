from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.models import DailyRollup, DailyTotal
from metrics.rollups import buckets_of_response, rollups_rebuild
from metrics.services import buckets_refresh, response_process, responses_process
from surveys.models import Response
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db


def rollup_rows(organization) -> dict:
    return {
        (r.survey_id, r.question_key, r.touchpoint_id, r.channel, r.language, r.day): (
            r.n,
            r.counts,
            r.metric,
        )
        for r in DailyRollup.objects.filter(organization=organization)
    }


def total_rows(organization) -> dict:
    return {
        (r.survey_id, r.question_key, r.touchpoint_id, r.day): (r.n, r.counts, r.metric)
        for r in DailyTotal.objects.filter(organization=organization)
    }


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_committed_response_lands_in_its_days_rollup(
    scoped, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(9, at(2026, 3, 14))
        submit(3, at(2026, 3, 14, 18))
    row = DailyRollup.objects.get(organization=scoped)
    assert (row.day, row.metric, row.n, row.counts) == (
        date(2026, 3, 14),
        "nps",
        2,
        {"9": 1, "3": 1},
    )
    response.refresh_from_db()
    assert response.processed_at is not None


def test_late_evening_answer_counts_on_the_local_day_and_month(
    scoped, submit, django_capture_on_commit_callbacks
):
    # 23:30 in Helsinki on 31 January is 21:30 UTC the same day, but 00:30 on 1 February would
    # be 22:30 UTC on 31 January: both must land on their Helsinki day.
    with django_capture_on_commit_callbacks(execute=True):
        submit(10, at(2026, 1, 31, 23, 30))
        submit(0, at(2026, 2, 1, 0, 30))
    days = dict(DailyRollup.objects.values_list("day", "counts"))
    assert days == {date(2026, 1, 31): {"10": 1}, date(2026, 2, 1): {"0": 1}}


def test_processing_twice_counts_once(scoped, submit):
    response = submit(7, at(2026, 5, 1))
    response_process(organization=scoped, response_id=response.pk)
    response_process(organization=scoped, response_id=response.pk)
    assert DailyRollup.objects.get().counts == {"7": 1}


def test_deleting_a_response_takes_it_out_of_the_rollups(
    scoped, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        keep = submit(9, at(2026, 5, 1))
        gone = submit(2, at(2026, 5, 1))
    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    assert DailyRollup.objects.get().counts == {"9": 1}
    assert DailyTotal.objects.get().counts == {"9": 1}
    with django_capture_on_commit_callbacks(execute=True):
        keep.delete()
    assert not DailyRollup.objects.exists()
    assert not DailyTotal.objects.exists()


def test_response_is_saved_even_when_the_broker_is_down(
    scoped, submit, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_CONNECTION_RETRY = False
    settings.CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
    settings.CELERY_TASK_PUBLISH_RETRY = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(8, at(2026, 6, 1))
    response.refresh_from_db()
    assert response.processed_at is None
    assert not DailyRollup.objects.exists()


def test_sweep_processes_responses_whose_task_never_ran(scoped, submit):
    from django.utils import timezone

    from metrics.tasks import sweep_unprocessed_responses

    response = submit(10, at(2026, 6, 1))
    Response.objects.filter(pk=response.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=10)
    )
    assert sweep_unprocessed_responses.apply().get() == 1
    assert DailyRollup.objects.get().counts == {"10": 1}
    assert sweep_unprocessed_responses.apply().get() == 0


def test_rebuild_command_recomputes_everything(scoped, submit, capsys):
    submit(9, at(2026, 4, 1))
    submit(6, at(2026, 4, 2), channel="email")
    call_command("rebuild_rollups", "--org", scoped.slug)
    assert "acme: 2 rollup rows" in capsys.readouterr().out
    assert DailyRollup.objects.count() == 2


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            st.integers(0, 10),
            st.integers(1, 4),  # day of month
            st.sampled_from([0, 12, 23]),  # hour, Helsinki time: 23 crosses the UTC day
            st.sampled_from(["web", "email"]),
        ),
        # A batch of responses ever submitted (deleted ones too), repeated and in any order.
        st.tuples(st.just("process"), st.lists(st.integers(0, 50), max_size=6)),
        st.tuples(st.just("refresh_again"), st.integers(0, 50)),
        st.tuples(st.just("delete"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=15,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS, last_batch_order=st.randoms(use_true_random=False))
def test_incremental_rollups_always_equal_a_full_rebuild(
    scoped, submit, operations, last_batch_order
):
    savepoint = transaction.savepoint()
    try:
        submitted: list[Response] = []
        alive: list[Response] = []
        for operation in operations:
            if operation[0] == "submit":
                _, score, day, hour, channel = operation
                response = submit(score, at(2026, 3, day, hour), channel=channel)
                submitted.append(response)
                alive.append(response)
            elif submitted and operation[0] == "process":
                batch = [submitted[index % len(submitted)].pk for index in operation[1]]
                responses_process(organization=scoped, response_ids=batch)
            elif alive and operation[0] == "refresh_again":
                response = alive[operation[1] % len(alive)]
                buckets_refresh(organization=scoped, buckets=buckets_of_response(response))
            elif alive and operation[0] == "delete":
                response = alive.pop(operation[1] % len(alive))
                buckets = buckets_of_response(response)
                response.delete()
                buckets_refresh(organization=scoped, buckets=list(buckets))
        # The responses no batch took yet come last, twice over, shuffled.
        last_batch = [response.pk for response in submitted] * 2
        last_batch_order.shuffle(last_batch)
        responses_process(organization=scoped, response_ids=last_batch)
        assert not Response.objects.filter(processed_at__isnull=True).exists()
        incremental = rollup_rows(scoped), total_rows(scoped)
        rollups_rebuild(organization=scoped)
        assert (rollup_rows(scoped), total_rows(scoped)) == incremental
    finally:
        transaction.savepoint_rollback(savepoint)


def test_a_batch_costs_the_same_queries_for_5_responses_as_for_60(scoped, submit):
    def batch(count: int, day: int) -> list[int]:
        channels, languages = ["web", "email", "sms"], ["fi", "sv"]
        return [
            submit(
                number % 11,
                at(2026, 3, day + number % 4, 9 + number % 12),
                channel=channels[number % 3],
                language=languages[number % 2],
            ).pk
            for number in range(count)
        ]

    small, large = batch(5, 1), batch(60, 10)
    with CaptureQueriesContext(connection) as small_queries:
        assert responses_process(organization=scoped, response_ids=small) == 5
    with CaptureQueriesContext(connection) as large_queries:
        assert responses_process(organization=scoped, response_ids=large) == 60
    assert len(large_queries) == len(small_queries)
    assert sum(DailyRollup.objects.values_list("n", flat=True)) == 65


def test_a_days_total_sums_every_channel_and_language(
    scoped, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(9, at(2026, 3, 14, 9), channel="web")
        submit(9, at(2026, 3, 14, 10), channel="email")
        submit(2, at(2026, 3, 14, 11), channel="email", language="sv")
    assert DailyRollup.objects.count() == 3
    total = DailyTotal.objects.get()
    assert (total.day, total.n, total.counts) == (date(2026, 3, 14), 3, {"9": 2, "2": 1})
