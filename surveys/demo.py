"""Demo data: a survey on each measured touchpoint and a year of realistic responses.

Responses are written in bulk (a year is tens of thousands of rows); whoever calls this rebuilds
the metric rollups afterwards, as `manage.py load_demo` does.
"""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from core.scoping import tenant_scope
from surveys.enums import Channel
from surveys.models import Answer, Question, Response, Survey
from surveys.services import (
    survey_create_from_template,
    survey_publish,
    survey_response_counts_refresh,
)

# The metric a touchpoint's plan names -> the ready-made survey that measures it.
TEMPLATE_FOR_METRIC = {
    "nps": "nps",
    "csat": "csat_service",
    "ces": "ces_support",
    "smiley": "kiosk_smiley",
}
# metric -> (score question key, scale, weights at the start of the year, weights at its end):
# the demo organization improves over the year, so trends and targets have something to show.
DISTRIBUTIONS = {
    "nps": (
        "score",
        range(0, 11),
        [2, 1, 1, 2, 2, 4, 6, 12, 18, 22, 20],
        [1, 1, 1, 1, 2, 3, 4, 9, 16, 26, 32],
    ),
    "csat": ("satisfaction", range(1, 6), [6, 8, 18, 38, 30], [3, 5, 12, 38, 42]),
    "ces": ("effort", range(1, 8), [5, 6, 9, 14, 22, 26, 18], [3, 4, 6, 11, 20, 30, 26]),
    "smiley": ("visit", range(1, 5), [4, 10, 40, 46], [3, 7, 35, 55]),
}
COMMENTS = {
    "low": {
        "fi": ["Jonotin kassalla pitkään.", "Toimitus myöhästyi kaksi päivää.", "Tuote oli loppu."],
        "sv": ["Leveransen var försenad.", "Lång kö i kassan.", "Svårt att hitta rätt storlek."],
        "en": [
            "The delivery was late.",
            "Long queue at the checkout.",
            "Nobody answered my email.",
        ],
    },
    "high": {
        "fi": [
            "Ystävällinen ja nopea palvelu!",
            "Helppo tilata ja nopea toimitus.",
            "Myyjä osasi asiansa.",
        ],
        "sv": ["Vänlig och snabb service!", "Enkelt att beställa.", "Kunnig personal."],
        "en": [
            "Friendly and quick service!",
            "Easy to order, fast delivery.",
            "Very helpful staff.",
        ],
    },
}
FOLLOW_UP_KEY = {
    "nps": ("improve", "liked"),
    "csat": ("went_wrong", "went_well"),
    "ces": ("difficult", None),
    "smiley": ("better", None),
}
LANGUAGES = (["fi"] * 14) + (["sv"] * 3) + (["en"] * 3)
CHANNELS = [Channel.EMAIL] * 5 + [Channel.SMS] * 3 + [Channel.WEB] * 2 + [Channel.QR]
# The smiley is asked on kiosk tablets at store exits (distribution.demo registers them).
KIOSK_LOCATIONS = ("Kamppi", "Itis", "Sello")


def _weights(start: list[int], end: list[int], progress: float) -> list[float]:
    return [a + (b - a) * progress for a, b in zip(start, end, strict=True)]


def _is_low(metric: str, value: int) -> bool:
    return value <= {"nps": 6, "csat": 3, "ces": 4, "smiley": 2}[metric]


def demo_surveys_create(
    *, organization, actor, touchpoints_with_metric: list[tuple]
) -> list[tuple]:
    """One published survey per (touchpoint, metric); returns (survey, metric) pairs."""
    made = []
    for touchpoint, metric in touchpoints_with_metric:
        survey = survey_create_from_template(
            actor=actor,
            organization=organization,
            template_key=TEMPLATE_FOR_METRIC[metric],
            name=f"{touchpoint.name}: {metric.upper()}",
            touchpoint=touchpoint,
        )
        survey_publish(actor=actor, survey=survey)
        made.append((Survey.objects.get(pk=survey.pk), metric))
    return made


def demo_responses_create(
    *, organization, surveys: list[tuple], days: int = 365, per_day: float = 6.0
) -> int:
    """A year of responses for each survey, in bulk. Deterministic (seeded). Returns the count."""
    rng = random.Random(2026)
    zone = organization.zone
    today = timezone.localdate(timezone=zone)
    responses, answer_rows = [], []
    for survey, metric in surveys:
        key, scale, start, end = DISTRIBUTIONS[metric]
        questions = {q.key: q for q in Question.objects.filter(version=survey.current_version)}
        low_key, high_key = FOLLOW_UP_KEY[metric]
        for offset in range(days, 0, -1):
            day = today - timedelta(days=offset)
            progress = 1 - offset / days
            weekend = 1.4 if day.weekday() >= 5 else 1.0
            for _ in range(rng.randint(0, int(per_day * 2 * weekend))):
                value = rng.choices(list(scale), weights=_weights(start, end, progress))[0]
                language = rng.choice(LANGUAGES)
                moment = datetime.combine(
                    day, time(rng.randint(8, 21), rng.randint(0, 59)), tzinfo=zone
                )
                channel, hidden = rng.choice(CHANNELS), {}
                if metric == "smiley":
                    channel, hidden = Channel.KIOSK, {"location": rng.choice(KIOSK_LOCATIONS)}
                response = Response(
                    organization=organization,
                    survey=survey,
                    version=survey.current_version,
                    touchpoint=survey.touchpoint,
                    channel=channel,
                    hidden_fields=hidden,
                    language=language,
                    submitted_at=moment,
                    processed_at=timezone.now(),
                )
                responses.append(response)
                follow_key = low_key if _is_low(metric, value) else high_key
                comment = ""
                if follow_key and rng.random() < 0.35:
                    comment = rng.choice(
                        COMMENTS["low" if _is_low(metric, value) else "high"][language]
                    )
                answer_rows.append(
                    (response, questions[key], value, questions.get(follow_key), comment)
                )
    with transaction.atomic():
        Response.objects.bulk_create(responses, batch_size=2000)
        answers = []
        for response, question, value, follow_question, comment in answer_rows:
            answers.append(
                Answer(
                    organization=organization, response=response, question=question, value_int=value
                )
            )
            if follow_question is not None and comment:
                answers.append(
                    Answer(
                        organization=organization,
                        response=response,
                        question=follow_question,
                        value_text=comment,
                    )
                )
        Answer.objects.bulk_create(answers, batch_size=2000)
        survey_response_counts_refresh(
            organization=organization, survey_ids=[survey.pk for survey, _metric in surveys]
        )
    return len(responses)


def load_demo_surveys(*, organization, actor, touchpoints_with_metric: list[tuple]) -> int:
    """Surveys and a year of responses, unless the organization has surveys already (then 0)."""
    with tenant_scope(organization):
        if Survey.objects.filter(organization=organization).exists():
            return 0
        surveys = demo_surveys_create(
            organization=organization, actor=actor, touchpoints_with_metric=touchpoints_with_metric
        )
        return demo_responses_create(organization=organization, surveys=surveys)
