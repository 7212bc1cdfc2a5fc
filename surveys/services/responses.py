"""Personal links and responses: what respondents, integrations and imports write."""

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from surveys import definitions
from surveys.enums import Channel, SurveyStatus
from surveys.exceptions import AnswerErrors
from surveys.instruments import evaluate
from surveys.models import Answer, PersonalLink, Response, Survey
from surveys.services.building import _check_touchpoint
from surveys.signals import response_submitted
from tenancy.models import Organization

HIDDEN_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MAX_HIDDEN_FIELDS = 30
MAX_HIDDEN_VALUE = 500
FUTURE_SKEW = timedelta(minutes=5)  # clocks of kiosks and call-centre systems drift a little

logger = logging.getLogger(__name__)


# --- personal links --------------------------------------------------------------------------


def _clean_hidden_fields(hidden_fields: Any) -> dict[str, str]:
    if hidden_fields in (None, ""):
        return {}
    if not isinstance(hidden_fields, dict) or len(hidden_fields) > MAX_HIDDEN_FIELDS:
        raise ApplicationError(
            _("Hidden fields are at most %(n)s names with text values.") % {"n": MAX_HIDDEN_FIELDS},
            code="invalid_hidden_fields",
            extra={"field": "hidden_fields"},
        )
    clean = {}
    for name, value in hidden_fields.items():
        if value is None:
            continue
        if (
            not isinstance(name, str)
            or not HIDDEN_FIELD_NAME.match(name)
            or isinstance(value, dict | list)
            or len(str(value)) > MAX_HIDDEN_VALUE
        ):
            raise ApplicationError(
                _("Hidden field %(name)s: names use letters, digits, _ . or -; values are text.")
                % {"name": str(name)[:50]},
                code="invalid_hidden_fields",
                extra={"field": "hidden_fields"},
            )
        clean[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return clean


@transaction.atomic
def personal_link_create(
    *,
    organization: Organization,
    survey: Survey,
    language: str,
    hidden_fields: dict | None = None,
    touchpoint=None,
    expires_at: datetime | None = None,
    channel: str = Channel.EMAIL,
) -> PersonalLink:
    """A personal `/r/<token>/` link (distribution makes one per invitation). The language
    falls back to the survey's default when the survey does not offer it. No audit row:
    links are made in bulk by sends, which record themselves."""
    if survey.organization_id != organization.pk:
        raise ApplicationError(
            _("No such survey."), code="invalid_survey", extra={"field": "survey"}
        )
    _check_touchpoint(organization, touchpoint)
    if channel not in Channel.values:
        raise ApplicationError(_("Unknown channel."), code="invalid", extra={"field": "channel"})
    return PersonalLink.objects.create(
        channel=channel,
        organization=organization,
        survey=survey,
        language=language if language in survey.languages else survey.default_language,
        hidden_fields=_clean_hidden_fields(hidden_fields),
        touchpoint=touchpoint,
        expires_at=expires_at,
    )


@transaction.atomic
def personal_link_save_partial(*, link: PersonalLink, answers: dict[str, Any]) -> PersonalLink:
    """Keep unfinished answers on the link ("save and continue later"); they are shown again
    when the respondent returns and cleared when the response is submitted. Only a POST calls
    this, so it is also where `opened_at` is first recorded."""
    link = PersonalLink.objects.select_for_update().get(pk=link.pk)
    link.partial_answers = {
        str(key)[:50]: value
        for key, value in answers.items()
        if isinstance(value, str | list) and len(str(value)) <= definitions.MAX_TEXT * 3
    }
    link.opened_at = link.opened_at or timezone.now()
    link.save(update_fields=["partial_answers", "opened_at", "updated_at"])
    return link


# --- responses -------------------------------------------------------------------------------


def _existing_response(
    organization: Organization, personal_link: PersonalLink | None, idempotency_key: str | None
) -> Response | None:
    if personal_link is not None:
        found = Response.objects.filter(organization=organization, personal_link=personal_link)
        if (response := found.first()) is not None:
            return response
    if idempotency_key:
        found = Response.objects.filter(organization=organization, idempotency_key=idempotency_key)
        return found.first()
    return None


def _answerable_version(survey: Survey, channel: str, personal_link: PersonalLink | None):
    if survey.current_version_id is None:
        raise ApplicationError(
            _("This survey has not been published."), code="survey_not_published"
        )
    # Historical imports may land on a closed survey; live channels may not.
    if survey.status == SurveyStatus.CLOSED and channel != Channel.IMPORT:
        raise ApplicationError(_("This survey is closed."), code="survey_closed")
    if personal_link is not None:
        if personal_link.survey_id != survey.pk:
            raise ApplicationError(_("This link belongs to another survey."), code="invalid_link")
        if personal_link.expires_at is not None and personal_link.expires_at <= timezone.now():
            raise ApplicationError(_("This link has expired."), code="link_expired")
    return survey.current_version


def response_submit(
    *,
    organization: Organization,
    survey: Survey,
    answers: dict[str, Any],
    channel: str,
    language: str,
    touchpoint=None,
    personal_link: PersonalLink | None = None,
    hidden_fields: dict | None = None,
    submitted_at: datetime | None = None,
    idempotency_key: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Response:
    """Validate every answer against the survey's current version and save the response and
    its answers in one transaction; send `response_submitted` after commit.

    Idempotent: a second submit through the same personal link or with the same idempotency
    key returns the first response (with `replayed = True`) and saves nothing, also when two
    arrive at once (the unique constraints decide; the loser returns the winner's row).
    Answers to questions hidden by their condition are dropped. Raises AnswerErrors
    (`invalid_answers`, field messages per question key) or ApplicationError for a closed,
    unpublished or expired survey or link. IP address and user agent are kept only when the
    organization stores respondent metadata. No audit row: a response is data, not an action.
    """
    existing = _existing_response(organization, personal_link, idempotency_key)
    if existing is not None:
        existing.replayed = True
        return existing
    version = _answerable_version(survey, channel, personal_link)
    questions = list(version.questions.order_by("position", "id"))
    if not isinstance(answers, dict):
        raise AnswerErrors({"answers": [_("Give the answers as an object keyed by question.")]})
    result = evaluate(questions, answers)
    errors = dict(result.errors)
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    if language not in version.languages:
        errors["language"] = [
            _("The survey is offered in %(languages)s.")
            % {"languages": ", ".join(version.languages)}
        ]
    now = timezone.now()
    if submitted_at is not None and submitted_at > now + FUTURE_SKEW:
        errors["submitted_at"] = [_("The time of the response is in the future.")]
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        errors["idempotency_key"] = [_("Use 1 to 255 characters.")]
    try:
        hidden = {**_clean_hidden_fields(hidden_fields)}
    except ApplicationError as invalid:
        errors["hidden_fields"] = [invalid.message]
        hidden = {}
    if errors:
        raise AnswerErrors(errors)
    if personal_link is not None:
        hidden.update(personal_link.hidden_fields)  # the invitation's values are authoritative
        touchpoint = touchpoint or personal_link.touchpoint
    touchpoint = touchpoint or survey.touchpoint
    _check_touchpoint(organization, touchpoint)
    keep_metadata = organization.store_respondent_metadata
    by_key = {question.key: question for question in questions}

    with transaction.atomic():
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    organization=organization,
                    survey=survey,
                    version=version,
                    touchpoint=touchpoint,
                    channel=channel,
                    language=language,
                    submitted_at=submitted_at or now,
                    hidden_fields=hidden,
                    idempotency_key=idempotency_key or None,
                    personal_link=personal_link,
                    ip_address=(ip or None) if keep_metadata else None,
                    user_agent=(user_agent or "")[:500] if keep_metadata else "",
                )
        except IntegrityError:
            # Lost a race with an identical submit: the unique constraint kept one response.
            existing = _existing_response(organization, personal_link, idempotency_key)
            if existing is None:
                raise
            existing.replayed = True
            return existing
        Answer.objects.bulk_create(
            [
                Answer(
                    organization=organization,
                    response=response,
                    question=by_key[key],
                    value_int=cleaned.value_int,
                    value_int_2=cleaned.value_int_2,
                    value_text=cleaned.value_text,
                    value_choices=cleaned.value_choices,
                )
                for key, cleaned in result.cleaned.items()
            ]
        )
        if personal_link is not None:
            personal_link.partial_answers = {}
            personal_link.opened_at = personal_link.opened_at or now
            personal_link.save(update_fields=["partial_answers", "opened_at", "updated_at"])
        # Last before commit: the survey row stays locked (no key columns change, so inserts
        # referencing it are not blocked) for as short a time as possible.
        Survey.objects.filter(organization=organization, pk=survey.pk).update(
            response_count=F("response_count") + 1
        )
        organization_id, response_id = organization.pk, response.pk
        transaction.on_commit(
            lambda: announce_response_submitted(
                organization_id=organization_id, response_id=response_id
            )
        )
    response.replayed = False
    return response


def announce_response_submitted(*, organization_id: int, response_id: int) -> None:
    """Tell the listeners (metrics, alerts, distribution) after commit. They only enqueue work;
    one that fails is logged and its sweep picks the response up, so a saved response never
    becomes an error page."""
    results = response_submitted.send_robust(
        sender=Response, organization_id=organization_id, response_id=response_id
    )
    for receiver, outcome in results:
        if isinstance(outcome, Exception):
            logger.error(
                "response_submitted receiver %r failed for response %s",
                receiver,
                response_id,
                exc_info=outcome,
            )


def survey_response_counts_refresh(*, organization: Organization, survey_ids=None) -> int:
    """Recount `Survey.response_count` from the responses (all the organization's surveys, or
    those of `survey_ids`) in one UPDATE; returns the number of surveys updated.

    For writers that insert responses in bulk, bypassing `response_submit` (the demo data, the
    benchmark seed), and for repairs. Idempotent. Its cost grows with the responses counted, so
    it is never on a request path; a submission committed while it runs may be missed, so run it
    when the surveys are quiet (or run it again).
    """
    counted = (
        Response.objects.filter(organization=organization, survey=OuterRef("pk"))
        .order_by()
        .values("survey")
        .annotate(n=Count("id"))
        .values("n")
    )
    surveys = Survey.objects.filter(organization=organization)
    if survey_ids is not None:
        surveys = surveys.filter(pk__in=list(survey_ids))
    return surveys.update(response_count=Coalesce(Subquery(counted), Value(0)))
