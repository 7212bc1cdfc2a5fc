"""Historical responses from a CSV file, imported by a task with a report of what failed.

The upload is checked at once (size, encoding, columns) and stored as a `ResponseImport`; the
`surveys.tasks.import_responses` task reads it in batches of `BATCH_SIZE` rows. Per row, not
all-or-nothing: every valid row is saved (validated by `response_prepare`, as any response;
a batch written by `responses_save` in one statement) and every invalid one is reported with
its row number, field and message. Each batch's responses, error rows and progress commit
together, so a task run again (a retry, a dead worker's job taken over) goes on after the last
committed batch. Each row's idempotency key is the hash of its content (and how many identical
rows came before it in the file), so the same file uploaded again saves nothing twice.

Columns: submitted_at (required; ISO 8601, a date alone means midnight in the organization's
time zone), channel (default "import"), language (default the survey's), touchpoint (a tp_ id),
one column per question key (WOMI: `<key>` recommend and `<key>__discourage`; multiple choice:
values separated by "|"), and `hidden_<name>` for hidden fields.
"""

import csv
import hashlib
import io
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from core.tasks import enqueue_on_commit
from journeys.models import Touchpoint
from surveys.enums import Channel, ImportStatus, QuestionType
from surveys.exceptions import AnswerErrors
from surveys.models import ResponseImport, ResponseImportError, Survey
from surveys.respond import HIDDEN_PREFIX, SECONDARY_SUFFIX
from surveys.services import response_prepare, responses_save
from tenancy.actors import Actor
from tenancy.models import Organization

logger = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_BYTES = 10 * 1024 * 1024
BATCH_SIZE = 1000
# A running import whose progress has not moved for this long belongs to a dead worker.
STALE_AFTER = timedelta(minutes=10)
META_COLUMNS = ("submitted_at", "channel", "language", "touchpoint")
CHOICE_SEPARATOR = "|"


def _refuse(message: str, code: str, **extra) -> ApplicationError:
    return ApplicationError(message, code=code, extra={"field": "file", **extra})


def _decode(raw: bytes) -> tuple[str, str]:
    """The text and its delimiter (comma, semicolon or tab, as the file's first lines show)."""
    if len(raw) > MAX_BYTES:
        raise _refuse(_("The file is larger than 10 MB."), "file_too_large")
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise _refuse(_("Save the file as UTF-8."), "invalid_encoding") from None
    text = text.replace("\x00", "")  # no database text may hold NUL
    try:
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return text, delimiter


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def expected_columns(survey: Survey) -> set[str]:
    questions = list(survey.current_version.questions.all())
    return (
        set(META_COLUMNS)
        | {q.key for q in questions}
        | {q.key + SECONDARY_SUFFIX for q in questions if q.type == QuestionType.WOMI}
    )


@transaction.atomic
def response_import_start(
    *, actor: Actor, organization: Organization, survey: Survey, filename: str, raw: bytes
) -> ResponseImport:
    """Check the file's columns and size, store it and queue the import (after commit).

    Raises ApplicationError (field "file") for a file that cannot be imported at all: too
    large, not UTF-8, not CSV, no `submitted_at` column, unknown columns or too many rows; and
    when the survey has not been published.
    """
    if survey.organization_id != organization.pk:
        raise ApplicationError(
            _("No such survey."), code="invalid_survey", extra={"field": "survey"}
        )
    if survey.current_version_id is None:
        raise ApplicationError(
            _("This survey has not been published."),
            code="survey_not_published",
            extra={"field": "survey"},
        )
    text, delimiter = _decode(raw)
    records = _records(text, delimiter)
    try:
        header = [column.strip() for column in next(records, [])]
        total = sum(1 for record in records if "".join(record).strip())
    except csv.Error as error:
        raise _refuse(
            _("The file is not valid CSV: %(error)s") % {"error": error}, "invalid_csv"
        ) from None
    if not any(header):
        raise _refuse(_("The file is empty."), "empty_file")
    known = expected_columns(survey)
    unknown = [c for c in header if c not in known and not c.startswith(HIDDEN_PREFIX)]
    if "submitted_at" not in header or unknown:
        raise _refuse(
            _("Fix the columns: submitted_at is required; unknown columns: %(unknown)s.")
            % {"unknown": ", ".join(unknown) or "-"},
            "invalid_columns",
            unknown_columns=unknown,
        )
    if total > MAX_ROWS:
        raise _refuse(
            _("Split the file: at most %(n)s rows at a time.") % {"n": f"{MAX_ROWS:,}"},
            "too_many_rows",
        )
    job = ResponseImport.objects.create(
        organization=organization,
        survey=survey,
        created_by=actor.user,
        filename=(filename or "responses.csv")[:200],
        content=text,
        delimiter=delimiter,
        language=translation.get_language() or "",
        total_rows=total,
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="surveys.responses.import_started",
        target=survey,
        data={"import": job.public_id, "rows": total},
    )
    from surveys.tasks import import_responses  # tasks import this module

    enqueue_on_commit(import_responses, organization_id=organization.pk, import_id=job.pk)
    return job


# --- the task's work --------------------------------------------------------------------------


@dataclass
class _Batch:
    """A batch's rows: prepared responses (with their row numbers) and errors, counted."""

    prepared: list = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    rows: int = 0
    failed: int = 0

    def fail(self, number: int, column: str, message: str) -> None:
        self.errors.append((number, column, message))


def response_import_run(*, organization: Organization, import_id: int) -> ResponseImport | None:
    """Run an import to the end; return it, or None when another worker has it or it is over.

    Safe to run twice: a compare-and-swap claims a queued import (or one whose worker died, see
    STALE_AFTER), and the rows run again after a crash find their responses by idempotency key.
    """
    now = timezone.now()
    claimed = (
        ResponseImport.objects.filter(pk=import_id, organization=organization)
        .filter(
            Q(status=ImportStatus.QUEUED)
            | Q(status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
        )
        .update(status=ImportStatus.RUNNING, updated_at=now)
    )
    if not claimed:
        return None
    job = ResponseImport.objects.select_related("survey", "created_by").get(pk=import_id)
    if job.started_at is None:
        ResponseImport.objects.filter(pk=job.pk).update(started_at=now)
    job.survey.organization = organization
    try:
        with translation.override(job.language or None):
            _run(organization, job)
    except Exception as error:
        logger.exception("response import %s failed", job.public_id)
        _finish(organization, job, ImportStatus.FAILED, failure=type(error).__name__)
        raise
    return _finish(organization, job, ImportStatus.DONE)


def _run(organization: Organization, job: ResponseImport) -> None:
    records = _records(job.content, job.delimiter)
    header = [column.strip() for column in next(records, [])]
    questions = list(job.survey.current_version.questions.order_by("position", "id"))
    seen: Counter = Counter()
    batch: list[tuple[int, list[str], str]] = []
    data_index = 0
    for number, values in enumerate(records, start=2):  # row 1 is the header, as in a spreadsheet
        if not "".join(values).strip():
            continue  # blank lines are not counted in total_rows either
        data_index += 1
        # Identical rows are separate responses (two people can answer alike on one day): the
        # key counts the copies before this one, the first keeping the key of earlier versions.
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:40]
        copy = seen[digest]
        seen[digest] += 1
        if data_index <= job.processed_rows:
            continue
        key = f"import:{job.survey.public_id}:{digest}" + (f":{copy}" if copy else "")
        batch.append((number, values, key))
        if len(batch) >= BATCH_SIZE:
            _save(organization, job, _prepare(organization, job, header, questions, batch))
            batch = []
    if batch:
        _save(organization, job, _prepare(organization, job, header, questions, batch))


def _prepare(organization, job, header, questions, rows) -> _Batch:
    survey = job.survey
    result = _Batch(rows=len(rows))
    references = set()
    if "touchpoint" in header:
        position = header.index("touchpoint")
        references = {v[position].strip() for _n, v, _k in rows if len(v) == len(header)}
    touchpoints = {
        tp.public_id: tp
        for tp in Touchpoint.objects.filter(organization=organization, public_id__in=references)
    }
    for number, values, key in rows:
        if len(values) != len(header):
            result.failed += 1
            result.fail(
                number,
                "",
                _("The row has %(n)s values; the header has %(m)s.")
                % {"n": len(values), "m": len(header)},
            )
            continue
        row = dict(zip(header, values, strict=True))
        try:
            submitted_at = _when(row["submitted_at"], organization)
        except ValueError as invalid:
            result.failed += 1
            result.fail(number, "submitted_at", str(invalid))
            continue
        reference = row.get("touchpoint", "").strip()
        if reference and reference not in touchpoints:
            result.failed += 1
            result.fail(number, "touchpoint", _("No such touchpoint."))
            continue
        try:
            prepared = response_prepare(
                organization=organization,
                survey=survey,
                answers=_answers(questions, row),
                channel=row.get("channel", "").strip() or Channel.IMPORT,
                language=row.get("language", "").strip() or survey.default_language,
                touchpoint=touchpoints.get(reference),
                hidden_fields={
                    name[len(HIDDEN_PREFIX) :]: value.strip()
                    for name, value in row.items()
                    if name.startswith(HIDDEN_PREFIX) and value.strip()
                },
                submitted_at=submitted_at,
                idempotency_key=key,
            )
        except AnswerErrors as invalid:
            result.failed += 1
            for column, messages in invalid.fields.items():
                for message in messages:
                    result.fail(number, column, message)
            continue
        except ApplicationError as refused:
            result.failed += 1
            result.fail(number, "", refused.message)
            continue
        result.prepared.append(prepared)
        result.numbers.append(number)
    return result


def _save(organization: Organization, job: ResponseImport, batch: _Batch) -> None:
    """The batch's responses, its error rows and the progress, in one transaction."""
    with transaction.atomic():
        ids = responses_save(organization=organization, prepared=batch.prepared)
        created = sum(1 for pk in ids if pk is not None)
        if batch.errors:
            ResponseImportError.objects.bulk_create(
                ResponseImportError(
                    organization=organization,
                    job=job,
                    row_number=number,
                    column=column[:200],
                    message=str(message)[:300],
                )
                for number, column, message in batch.errors
            )
        ResponseImport.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + batch.rows,
            created_count=F("created_count") + created,
            duplicate_count=F("duplicate_count") + len(ids) - created,
            error_count=F("error_count") + batch.failed,
            updated_at=timezone.now(),
        )


def _when(value: str, organization: Organization) -> datetime:
    value = value.strip()
    parsed = parse_datetime(value)
    if parsed is None and (day := parse_date(value)) is not None:
        parsed = datetime.combine(day, time.min)
    if parsed is None:
        raise ValueError(_("Use ISO 8601, e.g. 2025-03-31T14:05:00+03:00."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, organization.zone)
    return parsed


def _answers(questions, row: dict[str, str]) -> dict:
    answers = {}
    for question in questions:
        value = row.get(question.key, "").strip()
        if question.type == QuestionType.WOMI:
            secondary = row.get(question.key + SECONDARY_SUFFIX, "").strip()
            if value or secondary:
                answers[question.key] = {"recommend": value, "discourage": secondary}
        elif question.type == QuestionType.MULTIPLE_CHOICE:
            if value:
                answers[question.key] = [v.strip() for v in value.split(CHOICE_SEPARATOR)]
        elif value:
            answers[question.key] = value
    return answers


@transaction.atomic
def _finish(organization, job: ResponseImport, status: str, failure: str = "") -> ResponseImport:
    ResponseImport.objects.filter(pk=job.pk).update(
        status=status,
        finished_at=timezone.now(),
        failure=failure,
        content="",  # the rows live on as responses; the raw file need not
        updated_at=timezone.now(),
    )
    job.refresh_from_db()
    user = job.created_by
    actor = (
        Actor(organization=organization, label=user.email, permissions=frozenset(), user=user)
        if user is not None
        else None
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="surveys.responses.imported"
        if status == ImportStatus.DONE
        else "surveys.responses.import_failed",
        target=job.survey,
        data={
            "import": job.public_id,
            "rows": job.processed_rows,
            "created": job.created_count,
            "duplicates": job.duplicate_count,
            "failed": job.error_count,
        },
    )
    return job


def response_imports_due_q() -> Q:
    """Imports whose task was lost (queued for over a minute: the broker was down when it was
    sent) or whose worker died; the periodic sweep sends their task again."""
    now = timezone.now()
    return Q(status=ImportStatus.QUEUED, updated_at__lt=now - timedelta(minutes=1)) | Q(
        status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER
    )


# --- reads for the pages and the API ----------------------------------------------------------


def response_import_list(*, organization: Organization, survey: Survey | None = None):
    imports = ResponseImport.objects.filter(organization=organization).defer("content")
    if survey is not None:
        imports = imports.filter(survey=survey)
    return imports.select_related("survey")


def access_response_import(*, organization: Organization, public_id: str) -> ResponseImport:
    """The import, or Http404 when it is missing or another organization's."""
    from django.http import Http404

    job = response_import_list(organization=organization).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job


def response_import_errors(*, organization: Organization, job: ResponseImport):
    return ResponseImportError.objects.filter(organization=organization, job=job).order_by(
        "row_number", "id"
    )
