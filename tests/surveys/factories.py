"""Factories for surveys (and the journeys rows they hang on)."""

from django.utils import timezone

from journeys.models import Journey, Stage, Touchpoint
from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import PersonalLink, Question, Survey, SurveyVersion
from surveys.templates_library import LIKELY_LABELS, RECOMMEND


def make_touchpoint(organization, name: str = "Checkout") -> Touchpoint:
    journey = Journey.all_objects.create(organization=organization, name="Web shop")
    stage = Stage.all_objects.create(organization=organization, journey=journey, name="Buy")
    return Touchpoint.all_objects.create(
        organization=organization, journey=journey, stage=stage, name=name
    )


def texts(word: str, languages=("fi", "sv", "en")) -> dict[str, str]:
    return {language: f"{word} ({language})" for language in languages}


def make_survey(
    organization,
    *,
    name: str = "Feedback",
    touchpoint=None,
    questions=None,
    languages=("fi", "sv", "en"),
    published: bool = True,
) -> Survey:
    """A survey whose version 1 holds `questions` (dicts of Question fields); published unless told."""
    survey = Survey.all_objects.create(
        organization=organization,
        name=name,
        touchpoint=touchpoint,
        languages=list(languages),
        default_language=languages[0],
    )
    version = SurveyVersion.all_objects.create(
        organization=organization,
        survey=survey,
        number=1,
        thank_you=texts("Thanks", languages),
        status=VersionStatus.PUBLISHED if published else VersionStatus.DRAFT,
        published_at=timezone.now() if published else None,
        languages=list(languages) if published else [],
    )
    for position, fields in enumerate(questions if questions is not None else nps_questions()):
        Question.all_objects.create(
            organization=organization, version=version, position=position, **fields
        )
    if published:
        survey.current_version = version
        survey.status = SurveyStatus.PUBLISHED
        survey.save()
    return survey


def nps_questions() -> list[dict]:
    return [
        {
            "key": "score",
            "type": "nps",
            "texts": RECOMMEND,
            "labels": LIKELY_LABELS,
            "scale_min": 0,
            "scale_max": 10,
            "required": True,
            "metric": "nps",
        },
        {
            "key": "improve",
            "type": "text",
            "texts": texts("Improve"),
            "condition": {"question": "score", "op": "lte", "value": 6},
        },
        {
            "key": "liked",
            "type": "text",
            "texts": texts("Liked"),
            "condition": {"question": "score", "op": "gte", "value": 9},
        },
    ]


def make_link(
    survey, *, language: str = "fi", expires_at=None, hidden_fields=None, touchpoint=None
) -> PersonalLink:
    return PersonalLink.all_objects.create(
        organization=survey.organization,
        survey=survey,
        language=language,
        expires_at=expires_at,
        hidden_fields=hidden_fields or {},
        touchpoint=touchpoint,
    )
