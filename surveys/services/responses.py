"""Personal links and responses: what respondents, integrations and imports write.

Submitting is two steps. `response_prepare` validates one response against its survey's
current version, whose questions are read once per process (a published version never
changes). `responses_save` writes any number of prepared responses in one SQL statement:
the responses, their answers, the surveys' counters, answered personal links and an API
Idempotency-Key row. A personal link answers once and an idempotency key makes one response:
the unique indexes settle both (ON CONFLICT DO NOTHING), so nothing is looked up first and a
race ends where a retry does. `response_submit` does both steps for one response.
"""

import json
import logging
import re
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.idempotency import IdempotencyClaim
from core.ids import new_public_id
from core.models import IdempotencyKey
from core.tasks import enqueue_on_commit
from surveys import definitions
from surveys.enums import Channel, QuestionType, SurveyStatus, VersionStatus
from surveys.exceptions import AnswerErrors
from surveys.instruments import SCALE_TYPES, Cleaned, evaluate, is_blank
from surveys.models import Answer, PersonalLink, Question, Response, Survey, SurveyVersion
from surveys.services.building import _check_touchpoint
from surveys.signals import response_submitted
from tenancy.models import Organization
from webhooks.enums import EventType
from webhooks.services import event_emit, subscribed_types

HIDDEN_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MAX_HIDDEN_FIELDS = 30
MAX_HIDDEN_VALUE = 500
FUTURE_SKEW = timedelta(minutes=5)  # clocks of kiosks and call-centre systems drift a little
MAX_IDEMPOTENCY_KEY = Response._meta.get_field("idempotency_key").max_length
CHANNELS = frozenset(Channel.values)  # `Channel.values` builds a new list on every read

RESPONSE_TABLE = Response._meta.db_table
ANSWER_TABLE = Answer._meta.db_table
SURVEY_TABLE = Survey._meta.db_table
LINK_TABLE = PersonalLink._meta.db_table
KEY_TABLE = IdempotencyKey._meta.db_table

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
    link = PersonalLink.objects.select_for_update().get(
        organization_id=link.organization_id, pk=link.pk
    )
    link.partial_answers = {
        str(key)[:50]: value
        for key, value in answers.items()
        if isinstance(value, str | list) and len(str(value)) <= definitions.MAX_TEXT * 3
    }
    link.opened_at = link.opened_at or timezone.now()
    link.save(update_fields=["partial_answers", "opened_at", "updated_at"])
    return link


# --- responses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """What answering a version needs: its questions in order, found by key or by public id."""

    version: SurveyVersion
    questions: tuple[Question, ...]
    by_key: dict[str, Question]
    keys_by_public_id: dict[str, str]


DEFINITIONS_KEPT = 500
_definitions: dict[str, Definition] = {}
_definitions_lock = threading.Lock()


def version_definition(version: SurveyVersion) -> Definition:
    """The version's questions. A published version never changes, so its definition is read
    once per process (keyed by its random public id, the oldest of `DEFINITIONS_KEPT` forgotten
    first); a draft's is read every time."""
    found = _definitions.get(version.public_id)
    if found is not None:
        return found
    questions = tuple(
        Question.objects.filter(organization_id=version.organization_id, version=version).order_by(
            "position", "id"
        )
    )
    definition = Definition(
        version=version,
        questions=questions,
        by_key={question.key: question for question in questions},
        keys_by_public_id={question.public_id: question.key for question in questions},
    )
    if version.status == VersionStatus.PUBLISHED:
        with _definitions_lock:
            _definitions[version.public_id] = definition
            while len(_definitions) > DEFINITIONS_KEPT:
                del _definitions[next(iter(_definitions))]
    return definition


@dataclass
class PreparedResponse:
    """A validated response that `responses_save` writes (its public id is made here, so an
    answer can name it before the row exists)."""

    organization: Organization
    survey: Survey
    definition: Definition
    touchpoint: Any
    channel: str
    language: str
    submitted_at: datetime
    hidden_fields: dict[str, str]
    answers: dict[str, Cleaned]  # by question key, in question order
    idempotency_key: str | None
    personal_link: PersonalLink | None
    ip: str | None
    user_agent: str
    public_id: str = field(default_factory=lambda: new_public_id("rsp"))

    def saved(self, pk: int) -> Response:
        """The saved row as a model instance, without reading it back."""
        now = timezone.now()
        response = Response(
            pk=pk,
            public_id=self.public_id,
            organization=self.organization,
            survey=self.survey,
            version=self.survey.current_version,
            touchpoint=self.touchpoint,
            channel=self.channel,
            language=self.language,
            submitted_at=self.submitted_at,
            hidden_fields=self.hidden_fields,
            idempotency_key=self.idempotency_key,
            personal_link=self.personal_link,
            ip_address=self.ip,
            user_agent=self.user_agent,
            created_at=now,
            updated_at=now,
        )
        response._state.adding = False
        response._state.db = connection.alias
        response.replayed = False
        return response


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


def _text_for_a_number(questions, answers: dict[str, Any]) -> dict[str, list[str]]:
    """JSON clients send numbers as numbers: "9" for a scale is refused, never read as 9
    (docs/METRICS.md). Forms, SMS and CSV files only have text, so only the API asks this."""
    errors = {}
    for question in questions:
        raw = answers.get(question.key)
        if question.type not in SCALE_TYPES or is_blank(raw):
            continue
        parts = [raw]
        if question.type == QuestionType.WOMI and isinstance(raw, dict | list | tuple):
            parts = list(raw.values()) if isinstance(raw, dict) else list(raw)
        if any(isinstance(part, str) for part in parts):
            errors[question.key] = [_("Enter a whole number.")]
    return errors


def response_prepare(
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
    json_answers: bool = False,
) -> PreparedResponse:
    """Validate one response against the survey's current version; nothing is written.

    Answers to questions hidden by their condition are dropped. Raises AnswerErrors
    (`invalid_answers`, field messages per question key) or ApplicationError for a closed,
    unpublished or expired survey or link. With `json_answers` (the API), a scale answered
    with text is refused. IP address and user agent are kept only when the organization
    stores respondent metadata.
    """
    version = _answerable_version(survey, channel, personal_link)
    definition = version_definition(version)
    if not isinstance(answers, dict):
        raise AnswerErrors({"answers": [_("Give the answers as an object keyed by question.")]})
    result = evaluate(definition.questions, answers)
    errors = dict(result.errors)
    if json_answers:
        for key, messages in _text_for_a_number(definition.questions, answers).items():
            errors.setdefault(key, messages)
    if channel not in CHANNELS:
        errors["channel"] = [_("Unknown channel.")]
    if language not in version.languages:
        errors["language"] = [
            _("The survey is offered in %(languages)s.")
            % {"languages": ", ".join(version.languages)}
        ]
    now = timezone.now()
    if submitted_at is not None and submitted_at > now + FUTURE_SKEW:
        errors["submitted_at"] = [_("The time of the response is in the future.")]
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        errors["idempotency_key"] = [_("Use 1 to %(n)s characters.") % {"n": MAX_IDEMPOTENCY_KEY}]
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
    return PreparedResponse(
        organization=organization,
        survey=survey,
        definition=definition,
        touchpoint=touchpoint,
        channel=channel,
        language=language,
        submitted_at=submitted_at or now,
        hidden_fields=hidden,
        answers=result.cleaned,
        idempotency_key=idempotency_key or None,
        personal_link=personal_link,
        ip=(ip or None) if keep_metadata else None,
        user_agent=(user_agent or "")[:500] if keep_metadata else "",
    )


# The columns `responses_save` writes, with their types for json_to_recordset().
RESPONSE_COLUMNS = {
    "public_id": "varchar",
    "survey_id": "bigint",
    "version_id": "bigint",
    "touchpoint_id": "bigint",
    "channel": "varchar",
    "language": "varchar",
    "submitted_at": "timestamptz",
    "hidden_fields": "jsonb",
    "idempotency_key": "varchar",
    "personal_link_id": "bigint",
    "ip_address": "inet",
    "user_agent": "varchar",
}
ANSWER_COLUMNS = {
    "question_id": "bigint",
    "value_int": "integer",
    "value_int_2": "integer",
    "value_text": "text",
    "value_choices": "jsonb",
}


def _record_types(columns: dict[str, str]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in columns.items())


def _save_statement(
    organization: Organization,
    prepared: Sequence[PreparedResponse],
    claim: IdempotencyClaim | None,
) -> tuple[str, list]:
    """One INSERT with data-modifying CTEs: the responses (a row a unique index already holds,
    the same personal link or idempotency key, is skipped), their answers (joined to the rows
    actually inserted), the surveys' `response_count`, the answered personal links and the
    Idempotency-Key row. One statement is atomic on its own: no transaction round trips. The
    rows travel as one JSON document each for responses and answers: a thousand rows as
    separate parameters cost PostgreSQL more to parse than to insert."""
    now = timezone.now()
    rows = [
        {
            "public_id": item.public_id,
            "survey_id": item.survey.pk,
            "version_id": item.definition.version.pk,
            "touchpoint_id": item.touchpoint.pk if item.touchpoint is not None else None,
            "channel": item.channel,
            "language": item.language,
            "submitted_at": item.submitted_at.isoformat(),
            "hidden_fields": item.hidden_fields,
            "idempotency_key": item.idempotency_key,
            "personal_link_id": item.personal_link.pk if item.personal_link else None,
            "ip_address": item.ip,
            "user_agent": item.user_agent,
        }
        for item in prepared
    ]
    answers = [
        {
            "position": position,
            "response_public_id": item.public_id,
            "question_id": item.definition.by_key[key].pk,
            "value_int": cleaned.value_int,
            "value_int_2": cleaned.value_int_2,
            "value_text": cleaned.value_text,
            "value_choices": cleaned.value_choices,
        }
        for position, (item, key, cleaned) in enumerate(
            (item, key, cleaned) for item in prepared for key, cleaned in item.answers.items()
        )
    ]
    columns = ", ".join(RESPONSE_COLUMNS)
    answer_columns = ", ".join(ANSWER_COLUMNS)
    guard, guard_params = "", []
    if claim is not None:
        guard = (
            f'WHERE NOT EXISTS (SELECT FROM {KEY_TABLE} WHERE organization_id = %s AND "key" = %s)'
        )
        guard_params = [organization.pk, claim.key]
    sql = f"""
WITH new_response AS (
    INSERT INTO {RESPONSE_TABLE} (organization_id, created_at, updated_at, {columns})
    SELECT %s, %s, %s, {columns}
    FROM json_to_recordset(%s) AS incoming ({_record_types(RESPONSE_COLUMNS)})
    {guard}
    ON CONFLICT DO NOTHING
    RETURNING id, public_id, survey_id, personal_link_id
), new_answer AS (
    INSERT INTO {ANSWER_TABLE} (organization_id, response_id, {answer_columns})
    SELECT %s, new_response.id, {answer_columns}
    FROM json_to_recordset(%s) AS incoming
        (position integer, response_public_id varchar, {_record_types(ANSWER_COLUMNS)})
    JOIN new_response ON new_response.public_id = incoming.response_public_id
    ORDER BY incoming.position
), counted AS (
    UPDATE {SURVEY_TABLE} AS survey SET response_count = survey.response_count + added.n
    FROM (SELECT survey_id, count(*) AS n FROM new_response GROUP BY survey_id) AS added
    WHERE survey.organization_id = %s AND survey.id = added.survey_id
)"""  # noqa: S608 (names from the models, values as parameters)
    params = [organization.pk, now, now, json.dumps(rows)]
    params += guard_params
    params += [organization.pk, json.dumps(answers), organization.pk]
    if any(item.personal_link is not None for item in prepared):
        sql += f""", answered_link AS (
    UPDATE {LINK_TABLE} AS link
    SET partial_answers = '{{}}', opened_at = COALESCE(link.opened_at, %s), updated_at = %s
    WHERE link.organization_id = %s
        AND link.id IN (SELECT personal_link_id FROM new_response)
)"""  # noqa: S608
        params += [now, now, organization.pk]
    if claim is not None:
        sql += f""", claimed AS (
    INSERT INTO {KEY_TABLE}
        (organization_id, "key", fingerprint, response_status, response_body, created_at)
    SELECT %s, %s, %s, %s, %s::jsonb, %s FROM new_response
    ON CONFLICT DO NOTHING
)"""  # noqa: S608
        params += [
            organization.pk,
            claim.key,
            claim.fingerprint,
            claim.status,
            claim.body_json(),
            now,
        ]
    return sql + "\nSELECT id, public_id FROM new_response", params


def responses_save(
    *,
    organization: Organization,
    prepared: Sequence[PreparedResponse],
    claim: IdempotencyClaim | None = None,
) -> list[int | None]:
    """Write prepared responses in one statement; return each one's new row id, or None where
    a response through the same personal link or with the same idempotency key exists (also one
    saved by a concurrent request: the unique indexes decide). `claim` (one response only)
    records an API Idempotency-Key in the same statement; when its key is already stored,
    nothing is written.

    After commit a single response is announced at once (`response_submitted`); several are
    announced by one task, which sends the signal per response, so every listener still sees
    every id without the request paying for each one."""
    if not prepared:
        return []
    if claim is not None and len(prepared) != 1:
        raise ValueError("An idempotency claim covers exactly one response.")
    sql, params = _save_statement(organization, prepared, claim)
    # Without an endpoint for it this is one cache read: the statement stays alone, atomic.
    announced = EventType.RESPONSE_SUBMITTED in subscribed_types(organization.pk)
    with transaction.atomic() if announced else nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted = {public_id: pk for pk, public_id in cursor.fetchall()}
        ids = [inserted.get(item.public_id) for item in prepared]
        if announced:
            for item, pk in zip(prepared, ids, strict=True):
                if pk is not None and item.channel != Channel.IMPORT:
                    event_emit(
                        organization=organization,
                        type=EventType.RESPONSE_SUBMITTED,
                        data=_webhook_data(item),
                    )
    for item, pk in zip(prepared, ids, strict=True):
        if pk is not None and item.personal_link is not None:
            item.personal_link.partial_answers = {}
            item.personal_link.opened_at = item.personal_link.opened_at or timezone.now()
    new_ids = [pk for pk in ids if pk is not None]
    organization_id = organization.pk
    if len(prepared) == 1 and new_ids:
        through_link = prepared[0].personal_link is not None
        transaction.on_commit(
            lambda: announce_response_submitted(
                organization_id=organization_id,
                response_id=new_ids[0],
                through_personal_link=through_link,
            )
        )
    elif new_ids:
        from surveys.tasks import announce_responses  # tasks import this module

        enqueue_on_commit(announce_responses, organization_id=organization_id, response_ids=new_ids)
    return ids


def _answer_json(question_type: str, cleaned: Cleaned) -> Any:
    """An answer's value in the shape the responses API shows."""
    if question_type == QuestionType.WOMI:
        return {"recommend": cleaned.value_int, "discourage": cleaned.value_int_2}
    if question_type == QuestionType.MULTIPLE_CHOICE:
        return cleaned.value_choices
    if question_type in (QuestionType.TEXT, QuestionType.SINGLE_CHOICE):
        return cleaned.value_text
    return cleaned.value_int


def _webhook_data(item: PreparedResponse) -> dict[str, Any]:
    """The `data` of a `response.submitted` webhook event (docs/webhooks.md). Historical
    imports are not announced: they were not submitted now."""
    return {
        "id": item.public_id,
        "survey": item.survey.public_id,
        "survey_version": item.definition.version.public_id,
        "touchpoint": item.touchpoint.public_id if item.touchpoint is not None else None,
        "channel": item.channel,
        "language": item.language,
        "submitted_at": item.submitted_at.isoformat(),
        "hidden_fields": item.hidden_fields,
        "answers": {
            key: _answer_json(item.definition.by_key[key].type, cleaned)
            for key, cleaned in item.answers.items()
        },
    }


def _replayed(response: Response) -> Response:
    response.replayed = True
    return response


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
    its answers (`response_prepare`, `responses_save`); `response_submitted` is sent after
    commit.

    Idempotent: a second submit through the same personal link or with the same idempotency
    key returns the first response (with `replayed = True`) and saves nothing, also when two
    arrive at once, and also when the second would now be refused (the link expired, the
    survey closed). Raises what `response_prepare` raises. No audit row: a response is data,
    not an action.
    """
    try:
        prepared = response_prepare(
            organization=organization,
            survey=survey,
            answers=answers,
            channel=channel,
            language=language,
            touchpoint=touchpoint,
            personal_link=personal_link,
            hidden_fields=hidden_fields,
            submitted_at=submitted_at,
            idempotency_key=idempotency_key,
            ip=ip,
            user_agent=user_agent,
        )
    except ApplicationError:
        existing = _existing_response(organization, personal_link, idempotency_key)
        if existing is None:
            raise
        return _replayed(existing)
    (pk,) = responses_save(organization=organization, prepared=[prepared])
    if pk is not None:
        return prepared.saved(pk)
    # The link or key already has a response (another request saved it first).
    existing = _existing_response(organization, personal_link, idempotency_key)
    if existing is None:
        raise ApplicationError(_("The response could not be saved; send it again."), code="retry")
    return _replayed(existing)


def announce_response_submitted(
    *, organization_id: int, response_id: int, through_personal_link: bool | None = None
) -> None:
    """Tell the listeners (metrics, alerts, distribution) after commit. They only enqueue work;
    one that fails is logged and its sweep picks the response up, so a saved response never
    becomes an error page. `through_personal_link` is None when the caller does not know."""
    results = response_submitted.send_robust(
        sender=Response,
        organization_id=organization_id,
        response_id=response_id,
        through_personal_link=through_personal_link,
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
