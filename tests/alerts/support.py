"""Helpers the alerts tests share: a touchpoint with an owner, a CSAT survey, rules, submits."""

from datetime import datetime

from alerts.enums import ConditionMetric, Operator, ReferenceMode, RuleKind
from alerts.services.rules import rule_create
from surveys.services.responses import response_submit
from tenancy.actors import Actor
from tests.surveys.factories import make_survey, make_touchpoint, texts


def csat_questions() -> list[dict]:
    return [
        {
            "key": "csat",
            "type": "csat",
            "texts": texts("Satisfied"),
            "scale_min": 1,
            "scale_max": 5,
            "required": True,
            "metric": "csat",
        },
        {"key": "comment", "type": "text", "texts": texts("Tell us more")},
    ]


def owned_touchpoint(organization, owner, name: str = "Store visit"):
    touchpoint = make_touchpoint(organization, name=name)
    touchpoint.owner = owner
    touchpoint.save()
    return touchpoint


def csat_survey(organization, touchpoint, **kwargs):
    return make_survey(
        organization, touchpoint=touchpoint, questions=csat_questions(), name="CSAT", **kwargs
    )


def submit_csat(
    organization,
    survey,
    score: int,
    *,
    comment: str = "",
    when: datetime | None = None,
    hidden_fields: dict | None = None,
    personal_link=None,
    channel: str = "web",
    language: str = "fi",
):
    answers = {"csat": score}
    if comment:
        answers["comment"] = comment
    return response_submit(
        organization=organization,
        survey=survey,
        answers=answers,
        channel=channel,
        language=language,
        submitted_at=when,
        hidden_fields=hidden_fields,
        personal_link=personal_link,
    )


def low_csat_rule(organization, **fields):
    defaults = {
        "name": "CSAT 1-2",
        "kind": RuleKind.RESPONSE,
        "metric": ConditionMetric.CSAT,
        "operator": Operator.LTE,
        "threshold": 2,
    }
    return rule_create(
        actor=Actor.system(organization), organization=organization, **{**defaults, **fields}
    )


def negative_share_rule(organization, **fields):
    defaults = {
        "name": "Unhappy customers rising",
        "kind": RuleKind.NEGATIVE_SHARE,
        "metric": ConditionMetric.CSAT,
        "operator": Operator.LTE,
        "threshold": 2,
        "reference_mode": ReferenceMode.THRESHOLD,
        "reference_rate": "0.05",
        "open_case": True,
        "notify_email": False,
    }
    return rule_create(
        actor=Actor.system(organization), organization=organization, **{**defaults, **fields}
    )
