""" "Would have fired N times in the last 30 days": the rule editor's preview replays the rule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.enums import ConditionMetric, ReferenceMode, RuleKind
from alerts.models import AlertRule
from alerts.preview import rule_preview
from tests.alerts.support import csat_survey, owned_touchpoint, submit_csat

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(scoped, personas):
    return csat_survey(scoped, owned_touchpoint(scoped, personas.cx_manager))


def _rule(organization, **fields) -> AlertRule:
    defaults = {
        "name": "preview",
        "kind": RuleKind.RESPONSE,
        "metric": ConditionMetric.CSAT,
        "operator": "lte",
        "threshold": 2,
    }
    return AlertRule(organization=organization, **{**defaults, **fields})  # never saved


def test_response_rule_preview_counts_the_low_scores_of_the_last_30_days(scoped, survey):
    now = timezone.now()
    for days_ago, score in [(1, 1), (2, 2), (3, 5), (10, 1), (40, 1)]:
        submit_csat(scoped, survey, score, when=now - timedelta(days=days_ago))
    preview = rule_preview(rule=_rule(scoped), now=now)
    assert preview.fired == 3
    assert preview.evaluated == 4
    assert len(preview.examples) == 3


def test_response_rule_preview_respects_the_store_condition(scoped, survey):
    now = timezone.now()
    submit_csat(scoped, survey, 1, when=now - timedelta(days=1), hidden_fields={"store": "A"})
    submit_csat(scoped, survey, 1, when=now - timedelta(days=1), hidden_fields={"store": "B"})
    assert rule_preview(rule=_rule(scoped, hidden_fields={"store": "B"}), now=now).fired == 1


def test_aggregate_preview_counts_a_burst_once_not_per_bad_answer(scoped, survey):
    now = timezone.now()
    burst = now - timedelta(days=5)
    for i in range(25):
        submit_csat(scoped, survey, 1, when=burst + timedelta(minutes=i))
    for i in range(150):
        submit_csat(scoped, survey, 5, when=now - timedelta(days=20, hours=-i))
    rule = _rule(
        scoped,
        kind=RuleKind.NEGATIVE_SHARE,
        reference_mode=ReferenceMode.THRESHOLD,
        reference_rate="0.05",
        window_minutes=24 * 60,
    )
    preview = rule_preview(rule=rule, now=now)
    assert preview.fired == 1
    assert preview.evaluated > 0


def test_baseline_preview_says_insufficient_without_200_answers(scoped, survey):
    now = timezone.now()
    for i in range(30):
        submit_csat(scoped, survey, 1, when=now - timedelta(days=2, minutes=i))
    rule = _rule(scoped, kind=RuleKind.NEGATIVE_SHARE, reference_mode=ReferenceMode.BASELINE)
    preview = rule_preview(rule=rule, now=now)
    assert preview.fired == 0
    assert preview.insufficient == "baseline_insufficient"
