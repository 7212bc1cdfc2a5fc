"""Helpers of the alerts page tests: cases opened the real way (a low CSAT through the rules) or
by hand, and the query log of a request."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Case
from alerts.services.alerting import response_evaluate
from alerts.services.cases import case_create
from alerts.services.rules import root_cause_create
from tenancy.actors import Actor
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat


def low_score_case(organization, owner, *, score: int = 1, hidden_fields=None, **kwargs) -> Case:
    """A 1-star CSAT at a touchpoint `owner` owns, evaluated against a CSAT <= 2 rule: the case
    the rule opens (the notifications wait for a commit that tests never make)."""
    touchpoint = owned_touchpoint(organization, owner)
    survey = csat_survey(organization, touchpoint)
    low_csat_rule(organization)
    response = submit_csat(
        organization,
        survey,
        score,
        comment="Rude staff at the till",
        hidden_fields=hidden_fields or {"store": "Kamppi"},
        **kwargs,
    )
    response_evaluate(organization=organization, response_id=response.pk)
    return Case.objects.select_related("touchpoint", "alert").get(
        organization=organization, response=response
    )


def manual_cases(organization, count: int, *, assignee=None, touchpoint=None, title="Complaint"):
    actor = Actor.system(organization)
    return [
        case_create(
            actor=actor,
            organization=organization,
            title=f"{title} {n}",
            touchpoint=touchpoint,
            assignee=assignee,
        )
        for n in range(count)
    ]


def a_root_cause(organization, name: str = "Unfriendly staff"):
    return root_cause_create(
        actor=Actor.system(organization),
        organization=organization,
        category="Staff",
        name=name,
        controllable=True,
    )


def queries_of(client, url: str, **extra) -> tuple[int, object]:
    """(number of queries, response) of one GET."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    return len(captured.captured_queries), response
