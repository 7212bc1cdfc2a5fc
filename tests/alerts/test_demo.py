"""The demo shows the closed loop: rules, and cases in every state with root causes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.demo import load_demo_alerts
from alerts.enums import CaseStatus
from alerts.models import AlertRule, Case, ImprovementItem, RootCause
from tenancy.actors import Actor
from tests.alerts.support import csat_survey, owned_touchpoint, submit_csat

pytestmark = pytest.mark.django_db


def test_demo_alerts_cover_the_loop_and_loading_twice_adds_nothing(scoped, personas):
    survey = csat_survey(scoped, owned_touchpoint(scoped, personas.cx_manager))
    now = timezone.now()
    for day in range(1, 40):
        submit_csat(scoped, survey, 1 if day % 2 else 2, when=now - timedelta(days=day, hours=1))
    users = {"cx": personas.cx_manager, "owner": personas.owner}
    made = load_demo_alerts(organization=scoped, actor=Actor.system(scoped), users=users)
    assert made == {"rules": 5, "cases": 39}
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED} <= statuses
    resolved = Case.objects.filter(status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED])
    assert all(case.root_cause_id and case.action_taken for case in resolved)
    assert RootCause.objects.count() >= 10
    assert ImprovementItem.objects.count() == 2
    assert load_demo_alerts(organization=scoped, actor=Actor.system(scoped), users=users) == {}
    assert AlertRule.objects.count() == 5
