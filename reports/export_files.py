"""Building an export file: columns, rows read in keyset pages, and the CSV, XLSX and JSON Lines
writers.

Read-only: `export_write()` turns a queryset of responses into a file, with three queries for the
columns and three per page of `BATCH_SIZE` rows (responses, answers, contacts), whatever the
number of rows, and no server-side cursor. `reports.exports` decides where the file goes.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import pandas as pd
from django.db import connection, connections
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from distribution.models import Contact, Invitation
from reports.models import ExportFormat
from surveys.enums import QuestionType
from surveys.models import Answer, Question, Response

BATCH_SIZE = 1000
CHOICE_SEPARATOR = "; "
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSONL: "application/jsonl",
}
FIXED_COLUMNS = [
    "response_id",
    "submitted_at",
    "survey",
    "survey_id",
    "touchpoint",
    "touchpoint_id",
    "channel",
    "language",
]
INTEGER_TYPES = frozenset(
    {
        QuestionType.NPS,
        QuestionType.CSAT,
        QuestionType.CES,
        QuestionType.CES_LEGACY,
        QuestionType.SMILEY,
        QuestionType.RATING,
    }
)
JSON_OBJECT_COLUMNS = frozenset({"hidden_fields", "attributes"})
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .,]*$")


# Columns


@dataclass(frozen=True)
class QuestionColumn:
    name: str
    key: str
    part: str  # "value", or for WOMI "recommend" / "discourage"
    integer: bool


@dataclass
class ExportColumns:
    questions: list[QuestionColumn]
    hidden: list[str]
    attributes: list[str]
    contact_details: bool
    # question id -> (key, type), for turning answers into cells
    question_types: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        names = list(FIXED_COLUMNS)
        names += [column.name for column in self.questions]
        names += [f"hidden.{name}" for name in self.hidden]
        if self.contact_details:
            names += ["contact.email", "contact.phone"]
        names += [f"contact.{name}" for name in self.attributes]
        return names

    @property
    def integer_columns(self) -> list[str]:
        return [column.name for column in self.questions if column.integer]


def _question_columns(questions: list[tuple[int, str, str]]) -> list[QuestionColumn]:
    """Columns per question key in the order keys first appear; a key asked as WOMI in some
    version gets its two columns, and a plain column too if another version asked it plainly."""
    types_of: dict[str, set[str]] = {}
    for _id, key, question_type in questions:
        types_of.setdefault(key, set()).add(question_type)
    columns: list[QuestionColumn] = []
    for key, types in types_of.items():
        plain = types - {QuestionType.WOMI}
        if plain:
            integer = plain <= INTEGER_TYPES
            columns.append(QuestionColumn(key, key, "value", integer))
        if QuestionType.WOMI in types:
            columns.append(QuestionColumn(f"{key}.recommend", key, "recommend", True))
            columns.append(QuestionColumn(f"{key}.discourage", key, "discourage", True))
    return columns


def _json_keys(queryset: QuerySet, column: str) -> list[str]:
    """The distinct keys of a JSON object column over `queryset`, sorted; one query."""
    if column not in JSON_OBJECT_COLUMNS:
        raise ValueError(column)
    inner, params = queryset.values(column).query.get_compiler(queryset.db).as_sql()
    # A value that is not an object (never written, but JSON allows it) counts as no keys.
    if connection.vendor == "postgresql":
        each = f"jsonb_object_keys(CASE WHEN jsonb_typeof(r.{column}) = 'object' THEN r.{column} ELSE '{{}}'::jsonb END) k"
        key = "k"
    else:
        each = f"json_each(CASE WHEN json_type(r.{column}) = 'object' THEN r.{column} ELSE '{{}}' END) e"
        key = "e.key"
    # Only constant names and Django's compiled SQL are formatted in; values are parameters.
    sql = f"SELECT DISTINCT {key} FROM ({inner}) r, {each}"  # noqa: S608
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(str(row[0]) for row in cursor.fetchall())


def linked_contacts(*, organization, responses: QuerySet[Response]) -> QuerySet[Contact]:
    """Contacts the responses came from, through personal link -> invitation -> contact."""
    links = responses.filter(personal_link__isnull=False).order_by().values("personal_link_id")
    contact_ids = (
        Invitation.objects.using(responses.db)
        .filter(organization=organization, personal_link_id__in=links, contact__isnull=False)
        .values("contact_id")
    )
    return Contact.objects.using(responses.db).filter(organization=organization, pk__in=contact_ids)


def export_columns(
    *, organization, responses: QuerySet[Response], contact_details: bool
) -> ExportColumns:
    """The columns of an export of `responses`, in three queries whatever their number."""
    versions = responses.order_by().values("version_id")
    questions = list(
        Question.objects.using(responses.db)
        .filter(organization=organization, version_id__in=versions)
        .order_by("version__survey__name", "version__survey_id", "-version__number", "position")
        .values_list("id", "key", "type")
    )
    return ExportColumns(
        questions=_question_columns(questions),
        hidden=_json_keys(responses.order_by(), "hidden_fields"),
        attributes=_json_keys(
            linked_contacts(organization=organization, responses=responses), "attributes"
        ),
        contact_details=contact_details,
        question_types={pk: (key, question_type) for pk, key, question_type in questions},
    )


# Rows


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _answer_cells(question_type: str, key: str, answer: tuple) -> dict[str, Any]:
    value_int, value_int_2, value_text, value_choices = answer
    if question_type == QuestionType.WOMI:
        return {f"{key}.recommend": value_int, f"{key}.discourage": value_int_2}
    if question_type == QuestionType.YES_NO:
        return {key: None if value_int is None else ("yes" if value_int else "no")}
    if question_type in INTEGER_TYPES:
        return {key: value_int}
    if question_type == QuestionType.MULTIPLE_CHOICE:
        return {key: CHOICE_SEPARATOR.join(str(choice) for choice in value_choices or [])}
    return {key: value_text}


def _batches(responses: QuerySet[Response], batch_size: int) -> Iterator[list[Response]]:
    """Keyset pages over (submitted_at, id): each page is one indexed query, and nothing is
    held open between pages."""
    page = responses.select_related("survey", "touchpoint").only(
        "id",
        "public_id",
        "submitted_at",
        "channel",
        "language",
        "hidden_fields",
        "personal_link_id",
        "survey__name",
        "survey__public_id",
        "touchpoint__name",
        "touchpoint__public_id",
    )
    last = None
    while True:
        query = page
        if last is not None:
            query = page.filter(
                Q(submitted_at__gt=last.submitted_at)
                | Q(submitted_at=last.submitted_at, id__gt=last.id)
            )
        rows = list(query[:batch_size])
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1]


def _frame(*, organization, columns: ExportColumns, batch: list[Response]) -> pd.DataFrame:
    """One batch as a DataFrame with the export's columns: two queries (answers, contacts), on
    the database the batch was read from."""
    ids = [response.pk for response in batch]
    db = batch[0]._state.db
    answers: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    for response_id, question_id, *answer in (
        Answer.objects.using(db)
        .filter(organization=organization, response_id__in=ids)
        .values_list(
            "response_id", "question_id", "value_int", "value_int_2", "value_text", "value_choices"
        )
    ):
        known = columns.question_types.get(question_id)
        if known is not None:
            key, question_type = known
            answers[response_id].update(_answer_cells(question_type, key, tuple(answer)))
    contacts: dict[int, tuple] = {}
    link_ids = [r.personal_link_id for r in batch if r.personal_link_id is not None]
    if link_ids and (columns.attributes or columns.contact_details):
        contacts = {
            link_id: rest
            for link_id, *rest in Invitation.objects.using(db)
            .filter(
                organization=organization,
                personal_link_id__in=link_ids,
                contact__organization=organization,
            )
            .values_list(
                "personal_link_id", "contact__attributes", "contact__email", "contact__phone"
            )
        }
    zone = organization.zone
    records = []
    for response in batch:
        record: dict[str, Any] = {
            "response_id": response.public_id,
            "submitted_at": response.submitted_at.astimezone(zone).isoformat(timespec="seconds"),
            "survey": response.survey.name,
            "survey_id": response.survey.public_id,
            "touchpoint": response.touchpoint.name if response.touchpoint else "",
            "touchpoint_id": response.touchpoint.public_id if response.touchpoint else "",
            "channel": response.channel,
            "language": response.language,
        }
        record.update(answers[response.pk])
        hidden = response.hidden_fields if isinstance(response.hidden_fields, dict) else {}
        for name in columns.hidden:
            record[f"hidden.{name}"] = _cell(hidden.get(name))
        contact = contacts.get(response.personal_link_id)
        if contact is not None:
            attributes, email, phone = contact
            if columns.contact_details:
                record["contact.email"] = email
                record["contact.phone"] = phone
            attributes = attributes if isinstance(attributes, dict) else {}
            for name in columns.attributes:
                record[f"contact.{name}"] = _cell(attributes.get(name))
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=columns.names)
    for name in columns.integer_columns:
        frame[name] = frame[name].astype("Int64")
    return frame


# Writers: pandas frames into CSV or XLSX (openpyxl's write-only mode, so memory stays flat)


def _neutralise(value: Any) -> Any:
    # A plain number such as an E.164 phone number (+358...) runs nothing and is left alone.
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


class CsvWriter:
    """UTF-8 with a byte-order mark, so spreadsheet programs read ä and å right. Text that would
    start a formula is prefixed with an apostrophe (OWASP's advice against CSV injection)."""

    def __init__(self, out: IO[bytes], columns: list[str]):
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self.header = True
        self.columns = columns

    def write(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        for name in frame.columns:
            if not pd.api.types.is_integer_dtype(frame[name].dtype):
                frame[name] = frame[name].map(_neutralise)
        frame.to_csv(self.text, index=False, header=self.header, lineterminator="\r\n")
        self.header = False

    def close(self) -> None:
        if self.header:
            pd.DataFrame(columns=self.columns).to_csv(self.text, index=False, lineterminator="\r\n")
        self.text.flush()
        self.text.detach()


class XlsxWriter:
    """One sheet. Text goes in as text (never a formula), without the control characters the
    XLSX format cannot hold."""

    def __init__(self, out: IO[bytes], columns: list[str]):
        self.out = out
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(_("Responses"))
        self.sheet.append(columns)

    def _cell(self, value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, str):
            cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"
            return cell
        if hasattr(value, "item"):  # numpy scalars
            return value.item()
        return value

    def write(self, frame: pd.DataFrame) -> None:
        for row in frame.itertuples(index=False, name=None):
            self.sheet.append([self._cell(value) for value in row])

    def close(self) -> None:
        self.book.save(self.out)


class JsonLinesWriter:
    """One JSON object per line (https://jsonlines.org/), UTF-8, keys in the column order.
    Scores are JSON integers and a missing value is null; nothing is neutralised, since no
    spreadsheet runs these files."""

    def __init__(self, out: IO[bytes], columns: list[str]):
        self.out = out
        self.columns = columns

    @staticmethod
    def _value(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
            return None
        if hasattr(value, "item"):  # numpy scalars
            return value.item()
        return value

    def write(self, frame: pd.DataFrame) -> None:
        lines = []
        for row in frame.itertuples(index=False, name=None):
            record = dict(zip(self.columns, map(self._value, row), strict=True))
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.write("".join(lines).encode())

    def close(self) -> None:
        pass


WRITERS = {
    ExportFormat.CSV: CsvWriter,
    ExportFormat.XLSX: XlsxWriter,
    ExportFormat.JSONL: JsonLinesWriter,
}


def export_write(
    *,
    organization,
    responses: QuerySet[Response],
    export_format: str,
    contact_details: bool,
    out: IO[bytes],
    on_batch: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> int:
    """Write the export of `responses` to `out`; returns the number of rows. Read-only.

    Three queries for the columns and three per batch; `on_batch(rows_done)` after each batch.
    """
    columns = export_columns(
        organization=organization, responses=responses, contact_details=contact_details
    )
    writer = WRITERS[ExportFormat(export_format)](out, columns.names)
    done = 0
    for batch in _batches(responses, batch_size or BATCH_SIZE):
        writer.write(_frame(organization=organization, columns=columns, batch=batch))
        done += len(batch)
        if on_batch is not None:
            on_batch(done)
    writer.close()
    return done
