"""Reads behind the result pages: a survey's results per question, its responses, one response,
and a campaign's funnel.

Scores come from `metrics.selectors.metric_series` (rollups: the cost grows with the days shown,
not with the responses stored). Choice counts and open-answer counts have no rollup; they are
counted from the range's raw answers in two grouped queries, whatever the number of questions.
Lists are keyset-paginated (no COUNT over the responses), so a page costs the same few queries
at ten responses or a million.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from distribution.enums import InvitationStatus
from distribution.models import Campaign, Invitation
from distribution.selectors import segment_contacts
from metrics import registry
from metrics.rollups import day_bounds
from metrics.selectors import MetricFilters, metric_series
from reports.filters import ReportFilters
from surveys.enums import QuestionType, VersionStatus
from surveys.instruments import CHOICE_TYPES
from surveys.models import Answer, Question, Response, Survey
from surveys.selectors import response_list
from surveys.wording import text_in

PAGE_SIZE = 50

# --- survey results ---------------------------------------------------------------------------


@dataclass
class QuestionResult:
    """One question key of a survey over the chosen range.

    `question` is the newest published version's question with that key (its text, type and
    choices speak for the key); `versions` the version numbers that asked it. Scored questions
    carry `series` (metric_series' answer: `total` with n, score, interval and counts, and
    `change` against the range before); choice questions `choices` [(label, n)] and `answered`.
    Open questions only link to their written answers: counting them would grow with the
    responses stored, and the page must not.
    """

    key: str
    question: Question
    text: str
    versions: list[int]
    metric: str = ""
    series: dict | None = None
    choices: list[tuple[str, int]] = field(default_factory=list)
    answered: int = 0

    @property
    def is_scored(self) -> bool:
        return self.series is not None

    @property
    def is_choice(self) -> bool:
        return self.question.type in CHOICE_TYPES

    @property
    def is_open(self) -> bool:
        return self.question.type == QuestionType.TEXT


def survey_questions(*, organization, survey: Survey) -> list[tuple[Question, list[int]]]:
    """Every question key the survey's published versions asked, in the newest version's order
    (keys only older versions had come after), each as (newest question, version numbers).
    One query."""
    rows = (
        Question.objects.filter(
            organization=organization,
            version__survey=survey,
            version__status=VersionStatus.PUBLISHED,
        )
        .select_related("version")
        .order_by("-version__number", "position", "id")
    )
    by_key: dict[str, tuple[Question, list[int]]] = {}
    for question in rows:
        if question.key in by_key:
            by_key[question.key][1].append(question.version.number)
        else:
            by_key[question.key] = (question, [question.version.number])
    return list(by_key.values())


def _raw_answers(organization, survey: Survey, filters: ReportFilters) -> QuerySet[Answer]:
    """The survey's answers in the range and dimensions of `filters` (the raw-row narrowing of
    metrics, so a segment means the same here as in the scores)."""
    start, _ = day_bounds(filters.start, organization.time_zone)
    _, end = day_bounds(filters.end, organization.time_zone)
    narrowing = _metric_filters(survey, filters).as_raw_q()
    return Answer.objects.filter(
        organization=organization,
        response__organization=organization,
        response__survey=survey,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    ).filter(narrowing)


def _metric_filters(survey: Survey, filters: ReportFilters, **narrowing) -> MetricFilters:
    return dataclasses.replace(filters, survey=survey).metric_filters(**narrowing)


def survey_results(
    *,
    organization,
    survey: Survey,
    filters: ReportFilters,
    languages: tuple[str, ...] = (),
) -> list[QuestionResult]:
    """Every question of the survey with its figures over `filters`' range.

    Queries: one for the questions, one per scored question (rollups), one for choice counts
    and one for open-answer counts: the number grows with the survey's scored questions, never
    with its responses' number beyond the two raw counts of the range. Texts are worded in the
    first of `languages` they have, then the survey's default language.
    """
    languages = (*languages, survey.default_language)
    results = []
    for question, versions in survey_questions(organization=organization, survey=survey):
        results.append(
            QuestionResult(
                key=question.key,
                question=question,
                text=text_in(question.texts, languages) or question.key,
                versions=sorted(versions),
                metric=question.metric,
            )
        )
    for result in results:
        if result.metric and registry.is_scorable(result.metric):
            result.series = metric_series(
                organization=organization,
                metric=result.metric,
                start=filters.start,
                end=filters.end,
                interval=filters.interval,
                filters=_metric_filters(survey, filters, question_key=result.key),
            )
    choices = [result for result in results if result.is_choice]
    _count_choices(organization, survey, filters, choices, languages)
    return results


def _count_choices(
    organization, survey, filters, results: list[QuestionResult], languages: tuple[str, ...]
) -> None:
    if not results:
        return
    by_key = {result.key: result for result in results}
    counts: dict[str, dict[str, int]] = {key: {} for key in by_key}
    answered: dict[str, int] = dict.fromkeys(by_key, 0)
    rows = (
        _raw_answers(organization, survey, filters)
        .filter(question__key__in=list(by_key), question__type__in=list(CHOICE_TYPES))
        .values_list("question__key", "value_text", "value_choices")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Rows are distinct (key, choice or chosen set): bounded by the choices, not the answers.
    for key, single, chosen, n in rows:
        values = list(chosen or []) or ([single] if single else [])
        if not values:
            continue
        answered[key] += n
        for value in values:
            counts[key][value] = counts[key].get(value, 0) + n
    for key, result in by_key.items():
        labelled = []
        known = set()
        for choice in result.question.choices:
            value = choice.get("value")
            known.add(value)
            label = text_in(choice.get("texts", {}), languages) or value
            labelled.append((label, counts[key].get(value, 0)))
        # Values of older versions' choices that the newest version no longer offers.
        labelled += [(value, n) for value, n in sorted(counts[key].items()) if value not in known]
        result.choices = labelled
        result.answered = answered[key]


# --- responses ---------------------------------------------------------------------------------


@dataclass
class ResponsePage:
    """One page of responses, newest first; `next_cursor` is the public id to continue after
    (None on the last page)."""

    responses: list[Response]
    next_cursor: str | None
    cursor: str | None


def survey_responses(
    *,
    organization,
    survey: Survey,
    filters: ReportFilters,
    search: str = "",
    comment_key: str = "",
) -> QuerySet[Response]:
    """The survey's responses in the filters' range and dimensions, newest first, with version,
    touchpoint and answers (with their questions) loaded.

    `search` keeps responses with an open answer containing it, ignoring case (icontains: ILIKE-
    like on PostgreSQL, LIKE on SQLite); `comment_key` those with a non-empty open answer to
    that question key.
    """
    start, _ = day_bounds(filters.start, organization.time_zone)
    _, end = day_bounds(filters.end, organization.time_zone)
    responses = response_list(
        organization=organization,
        survey=survey,
        channel=filters.channel or None,
        submitted_after=start,
        submitted_before=end,
    )
    if filters.language:
        responses = responses.filter(language=filters.language)
    if filters.segment is not None:
        responses = responses.filter(
            personal_link__invitation__contact__in=segment_contacts(filters.segment)
        )
    open_answers = Answer.objects.filter(
        organization=organization,
        response=OuterRef("pk"),
        question__type=QuestionType.TEXT,
    ).exclude(value_text="")
    if search:
        responses = responses.filter(Exists(open_answers.filter(value_text__icontains=search)))
    if comment_key:
        responses = responses.filter(Exists(open_answers.filter(question__key=comment_key)))
    return responses.order_by("-submitted_at", "-id")


def response_page(
    responses: QuerySet[Response], *, organization, after: str = "", size: int | None = None
) -> ResponsePage:
    """Keyset pagination: the `size` responses after the one whose public id is `after` (an
    unknown id starts from the newest). No COUNT, so a page costs the same at any volume."""
    size = size or PAGE_SIZE
    cursor = None
    if after:
        anchor = (
            Response.objects.filter(organization=organization, public_id=after)
            .values("submitted_at", "id")
            .first()
        )
        if anchor is not None:
            cursor = after
            responses = responses.filter(
                Q(submitted_at__lt=anchor["submitted_at"])
                | Q(submitted_at=anchor["submitted_at"], id__lt=anchor["id"])
            )
    rows = list(responses[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return ResponsePage(
        responses=rows,
        next_cursor=rows[-1].public_id if more and rows else None,
        cursor=cursor,
    )


@dataclass
class ResponseDetail:
    response: Response
    invitation: Invitation | None


def response_detail(*, organization, public_id: str) -> ResponseDetail:
    """One response with survey, version, touchpoint and answers, and the invitation (with its
    contact) whose personal link it came through. 404 when missing or not this organization's.
    Three queries."""
    response = response_list(organization=organization).filter(public_id=public_id).first()
    if response is None:
        raise Http404
    invitation = None
    if response.personal_link_id is not None:
        invitation = (
            Invitation.objects.filter(
                organization=organization, personal_link_id=response.personal_link_id
            )
            .select_related("contact", "campaign")
            .first()
        )
    return ResponseDetail(response=response, invitation=invitation)


# --- campaign results --------------------------------------------------------------------------

DELIVERED = (InvitationStatus.DELIVERED, InvitationStatus.OPENED, InvitationStatus.ANSWERED)
OPENED = (InvitationStatus.OPENED, InvitationStatus.ANSWERED)
WAITING = (InvitationStatus.QUEUED, InvitationStatus.SENDING)


@dataclass
class Funnel:
    """sent -> delivered -> opened -> answered for one channel (or all: `channel` "")."""

    channel: str
    invitations: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    answered: int = 0
    waiting: int = 0
    skipped: int = 0
    failed: int = 0
    bounced: int = 0

    COUNTED = (
        "invitations",
        "sent",
        "delivered",
        "opened",
        "answered",
        "waiting",
        "skipped",
        "failed",
        "bounced",
    )

    @property
    def response_rate(self) -> float | None:
        """answered / sent, in percent; None before anything was sent."""
        return 100 * self.answered / self.sent if self.sent else None

    def add(self, other: Funnel) -> None:
        for name in self.COUNTED:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def access_campaign(*, organization, public_id: str) -> Campaign:
    campaign = (
        Campaign.objects.filter(organization=organization, public_id=public_id)
        .select_related("survey")
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def campaign_funnel(*, organization, campaign: Campaign) -> tuple[Funnel, list[Funnel]]:
    """(all channels, per channel) funnels of a campaign's invitations, in one aggregate query.

    Each step counts invitations that were sent (have a send time) and got at least that far by
    their status, which only moves forward (distribution.services.invitations.PROGRESS):
    delivered = the provider confirmed delivery, or the person opened or answered; opened = the
    person opened the personal link and began answering (marked by the invitation sweep), or
    answered; answered = a response came through the link. A bounce after delivery counts as not
    delivered.
    """
    sent = Q(sent_at__isnull=False)
    rows = (
        Invitation.objects.filter(organization=organization, campaign=campaign)
        .values("channel")
        .annotate(
            invitations=Count("id"),
            sent=Count("id", filter=sent),
            delivered=Count("id", filter=sent & Q(status__in=DELIVERED)),
            opened=Count("id", filter=sent & Q(status__in=OPENED)),
            answered=Count("id", filter=sent & Q(status=InvitationStatus.ANSWERED)),
            waiting=Count("id", filter=Q(status__in=WAITING)),
            skipped=Count("id", filter=Q(status=InvitationStatus.SKIPPED)),
            failed=Count("id", filter=Q(status=InvitationStatus.FAILED)),
            bounced=Count("id", filter=Q(status=InvitationStatus.BOUNCED)),
        )
        .order_by("channel")
    )
    total = Funnel(channel="")
    per_channel = []
    for row in rows:
        funnel = Funnel(**row)
        per_channel.append(funnel)
        total.add(funnel)
    return total, per_channel
