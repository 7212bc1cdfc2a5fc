"""Historical responses from a CSV file, imported row by row with a report of what failed.

Per row, not all-or-nothing: every valid row is saved (each in its own transaction, through
`response_submit`, so the same validation applies) and every invalid one is reported with its
row number, field and message. Each row's idempotency key is a hash of its content, so
uploading the same file again saves nothing twice.

Columns: submitted_at (required; ISO 8601, a date alone means midnight in the organization's
time zone), channel (default "import"), language (default the survey's), touchpoint (a tp_ id),
one column per question key (WOMI: `<key>` recommend and `<key>__discourage`; multiple choice:
values separated by "|"), and `hidden_<name>` for hidden fields.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from journeys.models import Touchpoint
from surveys.enums import Channel, QuestionType
from surveys.exceptions import AnswerErrors
from surveys.models import Survey
from surveys.respond import HIDDEN_PREFIX, SECONDARY_SUFFIX
from surveys.services import response_submit
from tenancy.actors import Actor
from tenancy.models import Organization

MAX_ROWS = 10_000
MAX_BYTES = 10 * 1024 * 1024
MAX_REPORTED_ERRORS = 1000
META_COLUMNS = ("submitted_at", "channel", "language", "touchpoint")
CHOICE_SEPARATOR = "|"


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "field": column, "message": message})


def _read(file) -> list[list[str]]:
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ApplicationError(_("The file is larger than 10 MB."), code="file_too_large")
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ApplicationError(_("Save the file as UTF-8."), code="invalid_encoding") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


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


def responses_import_csv(
    *, actor: Actor, organization: Organization, survey: Survey, file
) -> ImportReport:
    """Import the file's valid rows into the survey's current version; report the others.

    Raises ApplicationError for a file that cannot be read at all (size, encoding, columns).
    """
    if survey.current_version_id is None:
        raise ApplicationError(
            _("This survey has not been published."), code="survey_not_published"
        )
    rows = _read(file)
    if not rows:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    header = [column.strip() for column in rows[0]]
    questions = list(survey.current_version.questions.order_by("position", "id"))
    known = (
        set(META_COLUMNS)
        | {q.key for q in questions}
        | {q.key + SECONDARY_SUFFIX for q in questions if q.type == QuestionType.WOMI}
    )
    unknown = [c for c in header if c not in known and not c.startswith(HIDDEN_PREFIX)]
    if "submitted_at" not in header or unknown:
        raise ApplicationError(
            _("Fix the columns: submitted_at is required; unknown columns: %(unknown)s.")
            % {"unknown": ", ".join(unknown) or "-"},
            code="invalid_columns",
            extra={"unknown_columns": unknown},
        )
    if len(rows) - 1 > MAX_ROWS:
        raise ApplicationError(
            _("Split the file: at most %(n)s rows at a time.") % {"n": MAX_ROWS},
            code="too_many_rows",
        )
    touchpoints = {
        tp.public_id: tp
        for tp in Touchpoint.objects.filter(
            organization=organization,
            public_id__in={r[header.index("touchpoint")] for r in rows[1:] if len(r) == len(header)}
            if "touchpoint" in header
            else [],
        )
    }
    report = ImportReport()
    for number, values in enumerate(rows[1:], start=2):  # row 1 is the header, as in a spreadsheet
        if not any(value.strip() for value in values):
            continue
        report.rows += 1
        if len(values) != len(header):
            report.failed += 1
            report.error(
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
            report.failed += 1
            report.error(number, "submitted_at", str(invalid))
            continue
        reference = row.get("touchpoint", "").strip()
        if reference and reference not in touchpoints:
            report.failed += 1
            report.error(number, "touchpoint", _("No such touchpoint."))
            continue
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:40]
        try:
            with transaction.atomic():
                response = response_submit(
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
                    idempotency_key=f"import:{survey.public_id}:{digest}",
                )
        except AnswerErrors as invalid:
            report.failed += 1
            for column, messages in invalid.fields.items():
                for message in messages:
                    report.error(number, column, message)
            continue
        except ApplicationError as refused:
            report.failed += 1
            report.error(number, "", refused.message)
            continue
        if response.replayed:
            report.duplicates += 1
        else:
            report.created += 1
    activity_record(
        organization=organization,
        actor=actor,
        action="surveys.responses.imported",
        target=survey,
        data={"rows": report.rows, "created": report.created, "failed": report.failed},
    )
    return report
