"""Helpers of the dashboard tests: journeys with planned touchpoints, NPS answers, rollups."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from metrics.rollups import rollups_rebuild
from surveys.services import response_submit
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_survey

HELSINKI = ZoneInfo("Europe/Helsinki")
# A fixed quarter in the past, so the pages are asked for it with a custom range.
FIRST = date(2025, 1, 1)
LAST = date(2025, 3, 31)
RANGE = "range=custom&from=2025-01-01&to=2025-03-31"


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HELSINKI)


def make_journey(organization, name: str = "Web shop", stages=("Buy", "Get")) -> Journey:
    journey = Journey.all_objects.create(organization=organization, name=name)
    for position, stage_name in enumerate(stages):
        Stage.all_objects.create(
            organization=organization, journey=journey, name=stage_name, position=position
        )
    return journey


def add_touchpoint(
    journey: Journey,
    *,
    stage: int = 0,
    name: str = "Checkout",
    is_key: bool = True,
    metric: str | None = "nps",
    target: str | None = "30",
) -> Touchpoint:
    stage_row = Stage.all_objects.filter(journey=journey).order_by("position")[stage]
    touchpoint = Touchpoint.all_objects.create(
        organization=journey.organization,
        journey=journey,
        stage=stage_row,
        name=name,
        is_key=is_key,
        position=Touchpoint.all_objects.filter(stage=stage_row).count(),
    )
    if metric:
        MeasurementPlan.all_objects.create(
            organization=journey.organization,
            touchpoint=touchpoint,
            metric=metric,
            target_value=Decimal(target) if target is not None else None,
        )
    return touchpoint


def nps_survey(touchpoint: Touchpoint, name: str = "Feedback"):
    return make_survey(touchpoint.organization, name=name, touchpoint=touchpoint)


def answer(survey, score: int, when: datetime, *, comment: str = "", **options):
    """One NPS response; a comment goes to the follow-up the score shows (improve / liked)."""
    answers = {"score": score}
    if comment:
        answers["improve" if score <= 6 else "liked"] = comment
    options.setdefault("channel", "web")
    options.setdefault("language", "fi")
    with tenant_scope(survey.organization):
        return response_submit(
            organization=survey.organization,
            survey=survey,
            answers=answers,
            submitted_at=when,
            **options,
        )


def answer_many(survey, scores: list[int], when: datetime, **options) -> None:
    for score in scores:
        answer(survey, score, when, **options)


def rebuild(organization) -> None:
    """Rollups as the metrics task leaves them (the tests do not run Celery)."""
    with tenant_scope(organization):
        rollups_rebuild(organization=organization)
