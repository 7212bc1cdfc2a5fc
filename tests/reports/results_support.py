"""Helpers of the result pages' tests: surveys with every kind of question, and responses."""

from django.utils import timezone

from metrics.rollups import rollups_rebuild
from surveys.services import response_submit
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_survey, make_touchpoint, nps_questions, texts

CHOICES = [
    {"value": "price", "texts": texts("Price")},
    {"value": "service", "texts": texts("Service")},
    {"value": "range", "texts": texts("Range")},
]


def mixed_questions() -> list[dict]:
    """NPS with its two follow-ups, then a single choice, a multiple choice and a yes/no."""
    return [
        *nps_questions(),
        {"key": "reason", "type": "single_choice", "texts": texts("Reason"), "choices": CHOICES},
        {
            "key": "liked_most",
            "type": "multiple_choice",
            "texts": texts("Liked"),
            "choices": CHOICES,
        },
        {"key": "useful", "type": "yes_no", "texts": texts("Useful"), "metric": "yes_no"},
    ]


def mixed_survey(organization, name: str = "Store visit"):
    touchpoint = make_touchpoint(organization, "Store")
    return make_survey(organization, name=name, touchpoint=touchpoint, questions=mixed_questions())


def submit(organization, survey, answers: dict, **options):
    options.setdefault("channel", "web")
    options.setdefault("language", "fi")
    with tenant_scope(organization):
        return response_submit(organization=organization, survey=survey, answers=answers, **options)


def rebuild(organization) -> None:
    """Rollups as the metrics task leaves them (tests do not run the Celery task)."""
    with tenant_scope(organization):
        rollups_rebuild(organization=organization)


def now():
    return timezone.now()
