"""Aggregate rules: a real burst fires once; one bad answer among many good ones never fires."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.enums import AlertStatus, ConditionMetric, ReferenceMode, RuleKind
from alerts.evaluation import Scope
from alerts.models import Alert, Case
from alerts.services.alerting import aggregate_check, aggregate_rules_sweep
from alerts.statistics import negative_share_test, volume_drop_test
from metrics.services import response_process
from surveys.models import Response
from surveys.services.responses import response_submit
from tests.alerts.support import (
    csat_survey,
    negative_share_rule,
    owned_touchpoint,
    submit_csat,
)
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def touchpoint(scoped, personas):
    return owned_touchpoint(scoped, personas.cx_manager)


@pytest.fixture
def survey(scoped, touchpoint):
    return csat_survey(scoped, touchpoint)


def _submit_many(organization, survey, scores, *, start, step=timedelta(minutes=1)):
    for i, score in enumerate(scores):
        submit_csat(organization, survey, score, when=start + i * step)


def test_one_bad_answer_among_199_good_never_fires(
    scoped, survey, django_capture_on_commit_callbacks
):
    negative_share_rule(scoped)
    start = timezone.now() - timedelta(hours=4)
    with django_capture_on_commit_callbacks(execute=True):
        _submit_many(scoped, survey, [5] * 199 + [1], start=start)
    assert not Alert.objects.exists()


def test_twenty_bad_answers_in_a_row_fire_once(scoped, survey, django_capture_on_commit_callbacks):
    negative_share_rule(scoped)
    start = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        _submit_many(scoped, survey, [1] * 20, start=start, step=timedelta(seconds=30))
    alert = Alert.objects.get()
    assert alert.kind == RuleKind.NEGATIVE_SHARE
    assert alert.status == AlertStatus.OPEN
    assert alert.evidence["n"] >= 10
    assert alert.evidence["p_value"] <= 0.001
    assert 0 <= alert.evidence["ci_low"] <= alert.evidence["ci_high"] <= 1
    assert Case.objects.count() == 1


def test_nine_bad_answers_are_below_the_minimum_n(
    scoped, survey, django_capture_on_commit_callbacks
):
    negative_share_rule(scoped)
    with django_capture_on_commit_callbacks(execute=True):
        _submit_many(scoped, survey, [1] * 9, start=timezone.now() - timedelta(minutes=30))
    assert not Alert.objects.exists()


def test_baseline_mode_without_200_answers_says_baseline_insufficient(scoped, survey, touchpoint):
    rule = negative_share_rule(scoped, reference_mode=ReferenceMode.BASELINE)
    _submit_many(scoped, survey, [1] * 30, start=timezone.now() - timedelta(hours=2))
    from alerts.evaluation import evaluate_aggregate

    result = evaluate_aggregate(rule, Scope(touchpoint.pk, None), tz=scoped.zone)
    assert not result.fires
    assert result.insufficient == "baseline_insufficient"


def test_baseline_mode_fires_when_the_window_is_far_above_the_28_days_before(
    scoped, survey, touchpoint
):
    rule = negative_share_rule(
        scoped, reference_mode=ReferenceMode.BASELINE, baseline_margin="0.05"
    )
    now = timezone.now()
    # 28 days before the window: 300 answers, 5 % negative.
    base_start = now - timedelta(days=20)
    _submit_many(
        scoped, survey, ([1] + [5] * 19) * 15, start=base_start, step=timedelta(minutes=30)
    )
    for response in Response.objects.all():
        response_process(organization=scoped, response_id=response.pk)  # the rollups
    # The window: 40 answers, half negative.
    _submit_many(
        scoped, survey, [1, 5] * 20, start=now - timedelta(hours=3), step=timedelta(minutes=2)
    )
    alert = aggregate_check(rule=rule, scope=Scope(touchpoint.pk, None), now=now)
    assert alert is not None
    assert alert.evidence["baseline_n"] == 300
    assert alert.evidence["reference"] == pytest.approx(15 / 300 + 0.05)


def test_alert_resolves_itself_after_a_window_without_rejection_then_cools_down(
    scoped, survey, touchpoint
):
    rule = negative_share_rule(scoped, window_minutes=60, cooldown_minutes=120, open_case=False)
    now = timezone.now() - timedelta(hours=5)  # the whole story lies in the past
    _submit_many(scoped, survey, [1] * 15, start=now - timedelta(minutes=30))
    scope = Scope(touchpoint.pk, None)
    alert = aggregate_check(rule=rule, scope=scope, now=now)
    assert alert is not None
    # Still firing within the window: nothing new.
    assert aggregate_check(rule=rule, scope=scope, now=now + timedelta(minutes=10)) is None
    # Two hours later the window holds only good answers: the alert resolves.
    later = now + timedelta(hours=2)
    _submit_many(scoped, survey, [5] * 15, start=later - timedelta(minutes=20))
    assert aggregate_check(rule=rule, scope=scope, now=later) is None
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    # A new burst during the cooldown raises nothing; after it, a new alert.
    _submit_many(scoped, survey, [1] * 15, start=later + timedelta(minutes=1))
    assert aggregate_check(rule=rule, scope=scope, now=later + timedelta(minutes=20)) is None
    assert aggregate_check(rule=rule, scope=scope, now=later + timedelta(minutes=130)) is None
    _submit_many(scoped, survey, [1] * 15, start=later + timedelta(minutes=140))
    assert aggregate_check(rule=rule, scope=scope, now=later + timedelta(minutes=160)) is not None
    assert Alert.objects.count() == 2


def test_nps_drop_against_the_28_day_baseline(scoped, touchpoint):
    survey = make_survey(scoped, touchpoint=touchpoint)
    rule = negative_share_rule(
        scoped,
        name="NPS falling",
        kind=RuleKind.NPS_DROP,
        metric=ConditionMetric.NPS,
        threshold=6,
        drop_points="20",
    )
    now = timezone.now()
    for i in range(240):  # NPS +50 over the weeks before
        response_submit(
            organization=scoped,
            survey=survey,
            answers={"score": 10 if i % 4 < 3 else 3},
            channel="web",
            language="fi",
            submitted_at=now - timedelta(days=10, minutes=i * 30),
        )
    for i in range(30):  # NPS -60 today
        response_submit(
            organization=scoped,
            survey=survey,
            answers={"score": 2 if i % 5 < 4 else 9},
            channel="web",
            language="fi",
            submitted_at=now - timedelta(minutes=i * 20),
        )
    alert = aggregate_check(
        rule=rule, scope=Scope(touchpoint.pk, None), now=now + timedelta(seconds=1)
    )
    assert alert is not None
    assert alert.evidence["drop"] == pytest.approx(50 - (-60))


def test_response_volume_far_below_the_same_hours_of_four_weeks_fires_in_the_sweep(
    scoped, survey, touchpoint
):
    negative_share_rule(
        scoped, name="Link broken?", kind=RuleKind.VOLUME_DROP, window_minutes=120, open_case=False
    )
    now = timezone.now()
    for week in range(1, 5):
        _submit_many(
            scoped,
            survey,
            [5] * 15,
            start=now - timedelta(weeks=week, minutes=110),
            step=timedelta(minutes=7),
        )
    assert aggregate_rules_sweep(organization=scoped, now=now) == 1
    alert = Alert.objects.get()
    assert alert.evidence["observed"] == 0
    assert alert.evidence["expected"] == 15
    # The sweep again: the open alert is not raised twice.
    assert aggregate_rules_sweep(organization=scoped, now=now + timedelta(minutes=15)) == 0


def test_binomial_test_figures():
    quiet = negative_share_test(negatives=1, n=200, reference=0.05, alpha=0.001, min_n=10)
    assert not quiet.fires and quiet.p_value > 0.9
    burst = negative_share_test(negatives=20, n=20, reference=0.05, alpha=0.001, min_n=10)
    assert burst.fires and burst.p_value == pytest.approx(0.05**20)
    small = negative_share_test(negatives=5, n=5, reference=0.05, alpha=0.001, min_n=10)
    assert not small.fires  # significant, but n < 10


def test_volume_test_ignores_quiet_touchpoints():
    assert not volume_drop_test(observed=0, history=[2, 3, 1, 2], ratio=0.2, alpha=0.001).fires
    assert volume_drop_test(observed=0, history=[40, 38, 45, 41], ratio=0.2, alpha=0.001).fires
    assert not volume_drop_test(observed=30, history=[40, 38, 45, 41], ratio=0.2, alpha=0.001).fires
