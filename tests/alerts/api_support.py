"""Fixtures and helpers of the alerts API tests: a touchpoint with an owner, a CSAT survey,
cases opened by a real low score and by hand, and the same things in the other organization."""

import pytest

from alerts.models import Case, RootCause
from alerts.services.alerting import response_evaluate
from alerts.services.cases import case_create
from alerts.services.rules import improvement_create, root_cause_create
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat

API = "/api/v1/orgs/acme/"


@pytest.fixture(name="touchpoint")
def touchpoint_fixture(org, personas):
    with tenant_scope(org):
        return owned_touchpoint(org, personas.cx_manager)


@pytest.fixture(name="survey")
def survey_fixture(org, touchpoint):
    with tenant_scope(org):
        return csat_survey(org, touchpoint)


@pytest.fixture(name="rule")
def rule_fixture(org, touchpoint):
    with tenant_scope(org):
        return low_csat_rule(org, touchpoint=touchpoint, notify_email=False)


def low_score_case(organization, survey, score: int = 1) -> Case:
    """A real case: a low CSAT answer evaluated against the organization's rules."""
    with tenant_scope(organization):
        response = submit_csat(organization, survey, score, comment="Rude staff")
        response_evaluate(organization=organization, response_id=response.pk)
        return Case.objects.select_related("alert").get(response=response)


def hand_case(organization, title: str = "Complaint by phone", **fields) -> Case:
    with tenant_scope(organization):
        return case_create(
            actor=Actor.system(organization), organization=organization, title=title, **fields
        )


def root_cause(organization, name: str = "Long queue", controllable: bool = True) -> RootCause:
    with tenant_scope(organization):
        return root_cause_create(
            actor=Actor.system(organization),
            organization=organization,
            category="Staff",
            name=name,
            controllable=controllable,
        )


def improvement(organization, title: str = "Add a second checkout"):
    with tenant_scope(organization):
        return improvement_create(
            actor=Actor.system(organization), organization=organization, title=title
        )


@pytest.fixture(name="case")
def case_fixture(org, survey, rule) -> Case:
    return low_score_case(org, survey)


@pytest.fixture(name="foreign")
def foreign_fixture(other_org, personas):
    """One of everything in the other organization: `org`'s clients must get 404 for them."""
    with tenant_scope(other_org):
        touchpoint = owned_touchpoint(other_org, personas.outsider, name="Rival store")
        survey = csat_survey(other_org, touchpoint)
        rule = low_csat_rule(other_org, notify_email=False)
    case = low_score_case(other_org, survey)
    return {
        "touchpoint": touchpoint,
        "survey": survey,
        "rule": rule,
        "case": case,
        "alert": case.alert,
        "root_cause": root_cause(other_org),
        "improvement": improvement(other_org),
    }


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return [row["id"] for row in rows]
