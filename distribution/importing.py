"""CSV import of contacts: upload, column mapping, and the batch engine the task runs.

The engine reads the stored CSV as a stream of records and works in batches of `BATCH_SIZE`:
one query finds every existing contact the batch's external ids, emails and phones name, then
one `bulk_create`, one `bulk_update`, one insert of error rows and one progress update, all in
one transaction per batch. The cost is a handful of queries per thousand rows, and progress is
committed with the rows it counts, so a worker that dies mid-import resumes exactly after the
last committed batch when the task runs again.
"""

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from core.tasks import enqueue_on_commit
from distribution.enums import ConsentSource, ImportStatus, ImportTarget
from distribution.models import Contact, ContactImport, ContactImportError
from distribution.normalize import (
    MAX_ATTRIBUTE_VALUE,
    check_attribute_name,
    normalize_email,
    normalize_language,
    normalize_phone,
    parse_flag,
)
from tenancy.actors import Actor

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_COLUMNS = 100
PREVIEW_ROWS = 5
BATCH_SIZE = 1000
# A running import whose progress has not moved for this long belongs to a dead worker.
STALE_AFTER = timedelta(minutes=10)
ATTRIBUTE_TARGET = "attr:"
KEY_TARGETS = (ImportTarget.EXTERNAL_ID, ImportTarget.EMAIL, ImportTarget.PHONE)
UPDATE_FIELDS = [
    "external_id",
    "name",
    "email",
    "phone",
    "preferred_language",
    "attributes",
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "sms_consent",
    "sms_consent_at",
    "sms_consent_source",
    "email_opted_out_at",
    "email_opt_out_reason",
    "sms_opted_out_at",
    "sms_opt_out_reason",
    "updated_at",
]

_ALIASES = {
    ImportTarget.EXTERNAL_ID: {
        "external_id", "external id", "id", "crm_id", "crm id", "customer_id", "customer id",
        "asiakasnumero", "asiakas_id", "kundnummer",
    },
    ImportTarget.NAME: {"name", "full name", "full_name", "nimi", "namn"},
    ImportTarget.EMAIL: {"email", "e-mail", "email address", "sähköposti", "sahkoposti", "e-post"},
    ImportTarget.PHONE: {
        "phone", "mobile", "phone number", "puhelin", "matkapuhelin", "gsm", "telefon", "mobil",
    },
    ImportTarget.LANGUAGE: {"language", "preferred_language", "lang", "kieli", "språk"},
    ImportTarget.EMAIL_CONSENT: {"email_consent", "email consent", "sähköpostilupa"},
    ImportTarget.SMS_CONSENT: {"sms_consent", "sms consent", "tekstiviestilupa"},
    ImportTarget.EMAIL_OPT_OUT: {"email_opted_out", "email opt-out", "email_opt_out"},
    ImportTarget.SMS_OPT_OUT: {"sms_opted_out", "sms opt-out", "sms_opt_out"},
}  # fmt: skip


def _refuse(message: str, field: str = "file") -> ApplicationError:
    return ApplicationError(message, code="invalid_import", extra={"field": field})


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else Windows-1252 (older Excel exports)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (Finnish Excel) or tab: whichever the header line has most of."""
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def attribute_name_for(column: str) -> str:
    """The attribute a column becomes: `Customer since` -> `customer_since`."""
    name = re.sub(r"[^a-z0-9_-]+", "_", column.strip().lower()).strip("_-")
    return re.sub(r"_{2,}", "_", name)[:50]


def suggest_target(column: str) -> str:
    lowered = column.strip().lower()
    for target, aliases in _ALIASES.items():
        if lowered in aliases:
            return target
    return ImportTarget.ATTRIBUTE


def _import_actor(contact_import: ContactImport) -> Actor | None:
    user = contact_import.created_by
    if user is None:
        return None
    return Actor(
        organization=contact_import.organization,
        label=user.email,
        permissions=frozenset(),
        user=user,
    )


@transaction.atomic
def contact_import_upload(
    *, actor: Actor, organization, filename: str, raw: bytes
) -> ContactImport:
    """Store an uploaded CSV as a draft import waiting for its column mapping.

    Raises ApplicationError(field="file") for an empty, oversized or headerless file.
    """
    if len(raw) > MAX_IMPORT_BYTES:
        raise _refuse(_("The file is larger than 50 MB; split it into parts."))
    text = decode_csv(raw)
    if not text.strip():
        raise _refuse(_("The file is empty."))
    delimiter = sniff_delimiter(text)
    records = _records(text, delimiter)
    try:
        header = [column.strip() for column in next(records)]
        total = sum(1 for record in records if any(cell.strip() for cell in record))
    except csv.Error as error:
        raise _refuse(_("The file is not valid CSV: %(error)s") % {"error": error}) from None
    if not any(header) or len(header) > MAX_COLUMNS:
        raise _refuse(_("The first row must name the columns (at most 100)."))
    contact_import = ContactImport.objects.create(
        organization=organization,
        created_by=actor.user,
        filename=(filename or "contacts.csv")[:200],
        content=text,
        delimiter=delimiter,
        header=header,
        total_rows=total,
        mapping={str(index): suggest_target(column) for index, column in enumerate(header)},
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.import.uploaded",
        target=contact_import,
        data={"rows": total, "columns": len(header)},
    )
    return contact_import


def import_preview(contact_import: ContactImport, rows: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first data rows, padded to the header's width (for the mapping page)."""
    records = _records(contact_import.content, contact_import.delimiter)
    next(records, None)
    width = len(contact_import.header)
    preview = []
    for record in records:
        if not any(cell.strip() for cell in record):
            continue
        preview.append((record + [""] * width)[:width])
        if len(preview) >= rows:
            break
    return preview


def clean_mapping(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Validated mapping {column index: target}; attributes become `attr:<name>`."""
    cleaned: dict[str, str] = {}
    used: set[str] = set()
    for index, column in enumerate(header):
        target = mapping.get(str(index), ImportTarget.IGNORE) or ""
        if target == ImportTarget.IGNORE:
            continue
        if target == ImportTarget.ATTRIBUTE:
            name = attribute_name_for(column)
            try:
                check_attribute_name(name)
            except ApplicationError:
                raise _refuse(
                    _("Column %(column)s cannot name an attribute; ignore it or rename it.")
                    % {"column": column or index + 1},
                    field=f"col_{index}",
                ) from None
            target = ATTRIBUTE_TARGET + name
        elif target not in ImportTarget.values:
            raise _refuse(_("Unknown target."), field=f"col_{index}")
        if target in used:
            raise _refuse(_("Two columns are mapped to the same field."), field=f"col_{index}")
        used.add(target)
        cleaned[str(index)] = target
    if not used & set(KEY_TARGETS):
        raise _refuse(
            _("Map at least one of external id, email or phone: contacts are matched by them."),
            field="mapping",
        )
    return cleaned


@transaction.atomic
def contact_import_start(
    *,
    actor: Actor,
    organization,
    contact_import: ContactImport,
    mapping: dict[str, str],
    phone_region: str = "FI",
    enqueue: bool = True,
) -> ContactImport:
    """Save the column mapping and queue the import task (after commit); with `enqueue=False`
    the caller runs `contact_import_run` itself (the `import_contacts_csv` command does).

    Raises ApplicationError when the import was started already or the mapping is invalid.
    """
    claimed = ContactImport.objects.filter(
        pk=contact_import.pk, organization=organization, status=ImportStatus.DRAFT
    ).update(
        status=ImportStatus.PENDING,
        mapping=clean_mapping(contact_import.header, mapping),
        phone_region=phone_region.upper()[:2],
        updated_at=timezone.now(),
    )
    if not claimed:
        raise ApplicationError(_("This import has started already."), code="import_started")
    contact_import.refresh_from_db(fields=["status", "mapping", "phone_region"])
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.import.started",
        target=contact_import,
        data={"targets": sorted(contact_import.mapping.values())},
    )
    if enqueue:
        from distribution.tasks import import_contacts

        enqueue_on_commit(
            import_contacts, organization_id=organization.pk, import_id=contact_import.pk
        )
    return contact_import


@dataclass
class _Row:
    number: int
    profile: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    opt_out: dict[str, bool] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    blank: bool = False


@dataclass
class _Counts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0


def _parse(record: list[str], number: int, plan: list[tuple[int, str, str]], region: str) -> _Row:
    row = _Row(number=number)
    row.blank = not any(cell.strip() for cell in record)
    if row.blank:
        return row
    for index, column, target in plan:
        cell = record[index].strip() if index < len(record) else ""
        if not cell:
            continue
        try:
            if target.startswith(ATTRIBUTE_TARGET):
                row.attributes[target[len(ATTRIBUTE_TARGET) :]] = cell[:MAX_ATTRIBUTE_VALUE]
            elif target == ImportTarget.EMAIL:
                row.profile["email"] = normalize_email(cell)
            elif target == ImportTarget.PHONE:
                row.profile["phone"] = normalize_phone(cell, region)
            elif target == ImportTarget.LANGUAGE:
                row.profile["preferred_language"] = normalize_language(cell)
            elif target in (ImportTarget.EXTERNAL_ID, ImportTarget.NAME):
                limit = Contact._meta.get_field(target).max_length
                if len(cell) > limit:
                    raise ApplicationError(_("At most %(n)s characters.") % {"n": limit})
                row.profile[target] = cell
            else:
                channel, kind = target.split("_", 1)
                flag = parse_flag(cell, field=target)
                if flag is not None:
                    (row.consent if kind == "consent" else row.opt_out)[channel] = flag
        except ApplicationError as error:
            row.errors.append((column, error.message))
    if not row.errors and not any(row.profile.get(key) for key in KEY_TARGETS):
        row.errors.append(("", _("The row has no external id, email or phone to match on.")))
    return row


def _apply(contact: Contact, row: _Row, now) -> bool:
    """Copy the row's non-empty cells onto the contact; return whether anything changed."""
    changed = False
    for name, value in row.profile.items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed = True
    if row.attributes:
        merged = {**(contact.attributes or {}), **row.attributes}
        if merged != contact.attributes:
            contact.attributes = merged
            changed = True
    for channel, given in row.consent.items():
        if contact.consent_for(channel).given != given:
            setattr(contact, f"{channel}_consent", given)
            setattr(contact, f"{channel}_consent_at", now if given else None)
            setattr(contact, f"{channel}_consent_source", ConsentSource.IMPORT if given else "")
            changed = True
    for channel, opted_out in row.opt_out.items():
        if contact.consent_for(channel).opted_out != opted_out:
            setattr(contact, f"{channel}_opted_out_at", now if opted_out else None)
            setattr(contact, f"{channel}_opt_out_reason", _("import") if opted_out else "")
            changed = True
    if changed:
        contact.updated_at = now
    return changed


def _process_batch(organization, contact_import: ContactImport, rows: list[_Row]) -> _Counts:
    counts = _Counts(processed=len(rows))
    keys = {key: {row.profile[key] for row in rows if row.profile.get(key)} for key in KEY_TARGETS}
    condition = Q()
    for key, values in keys.items():
        if values:
            condition |= Q(**{f"{key}__in": values})
    index: dict[str, dict[str, Contact]] = {key: {} for key in KEY_TARGETS}

    def remember(contact: Contact) -> None:
        for key in KEY_TARGETS:
            value = getattr(contact, key)
            if value:
                index[key].setdefault(value, contact)

    if condition:
        for contact in (
            Contact.objects.filter(organization=organization).filter(condition).order_by("pk")
        ):
            remember(contact)

    now = timezone.now()
    to_create: list[Contact] = []
    to_update: dict[int, Contact] = {}
    errors: list[ContactImportError] = []
    for row in rows:
        if row.blank:
            counts.skipped += 1
            continue
        if not row.errors:
            match = None
            for key in KEY_TARGETS:
                value = row.profile.get(key)
                if value and match is None:
                    match = index[key].get(value)
            external_id = row.profile.get("external_id")
            if match is not None and external_id and match.external_id not in ("", external_id):
                row.errors.append(
                    (
                        _column_of(contact_import, ImportTarget.EXTERNAL_ID),
                        _("The email or phone belongs to a contact with another external id."),
                    )
                )
        if row.errors:
            counts.errors += 1
            errors.extend(
                ContactImportError(
                    organization=organization,
                    contact_import=contact_import,
                    row_number=row.number,
                    column=column[:200],
                    message=message[:300],
                )
                for column, message in row.errors
            )
            continue
        if match is None:
            contact = Contact(organization=organization, created_at=now, updated_at=now)
            _apply(contact, row, now)
            to_create.append(contact)
            remember(contact)
            counts.created += 1
        elif _apply(match, row, now):
            if match.pk is not None:
                to_update[match.pk] = match
            remember(match)
            counts.updated += 1
        else:
            counts.skipped += 1

    with transaction.atomic():
        if to_create:
            Contact.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            _bulk_update(organization, list(to_update.values()))
        if errors:
            ContactImportError.objects.bulk_create(errors, batch_size=BATCH_SIZE)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            processed_rows=F("processed_rows") + counts.processed,
            created_count=F("created_count") + counts.created,
            updated_count=F("updated_count") + counts.updated,
            skipped_count=F("skipped_count") + counts.skipped,
            error_count=F("error_count") + counts.errors,
            updated_at=timezone.now(),
        )
    return counts


def _bulk_update(organization, contacts: list[Contact]) -> None:
    """One `UPDATE ... FROM (VALUES ...)` per batch on PostgreSQL.

    Django's bulk_update writes a CASE over every row for every column, which made updates of
    1,000 rows take seconds; elsewhere (the embedded SQLite) it is good enough.
    """
    if connection.vendor != "postgresql":
        Contact.objects.bulk_update(contacts, UPDATE_FIELDS, batch_size=200)
        return
    table = Contact._meta.db_table
    columns = [Contact._meta.get_field(name) for name in UPDATE_FIELDS]
    casts = ["bigint"] + [column.db_type(connection) for column in columns]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    names = ", ".join(connection.ops.quote_name(column.column) for column in columns)
    assignments = ", ".join(
        f"{connection.ops.quote_name(column.column)} = v.{connection.ops.quote_name(column.column)}"
        for column in columns
    )
    params: list[Any] = []
    for contact in contacts:
        params.append(contact.pk)
        for column in columns:
            params.append(column.get_db_prep_save(getattr(contact, column.attname), connection))
    sql = (
        f"UPDATE {connection.ops.quote_name(table)} AS c SET {assignments} "  # noqa: S608 (names from the model, values as parameters)
        f"FROM (VALUES {', '.join([row] * len(contacts))}) AS v(id, {names}) "
        "WHERE c.id = v.id AND c.organization_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, organization.pk])


def _column_of(contact_import: ContactImport, target: str) -> str:
    for index, mapped in contact_import.mapping.items():
        if mapped == target:
            return contact_import.header[int(index)]
    return ""


def contact_import_run(*, organization, import_id: int) -> ContactImport | None:
    """Run an import to the end; return it, or None when another worker has it or it is over.

    Safe to run twice: a compare-and-swap claims a queued import (or one whose worker died, see
    STALE_AFTER) and processing resumes after the rows already committed.
    """
    now = timezone.now()
    claimed = (
        ContactImport.objects.filter(pk=import_id, organization=organization)
        .filter(
            Q(status=ImportStatus.PENDING)
            | Q(status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
        )
        .update(status=ImportStatus.RUNNING, updated_at=now)
    )
    if not claimed:
        return None
    contact_import = ContactImport.objects.select_related("created_by", "organization").get(
        pk=import_id
    )
    if contact_import.started_at is None:
        ContactImport.objects.filter(pk=import_id).update(started_at=now)
    try:
        _run(organization, contact_import)
    except Exception as error:
        logger.exception("contact import %s failed", contact_import.public_id)
        _finish(contact_import, ImportStatus.FAILED, failure=f"{type(error).__name__}")
        raise
    return _finish(contact_import, ImportStatus.DONE)


def _run(organization, contact_import: ContactImport) -> None:
    plan = [
        (int(index), contact_import.header[int(index)], target)
        for index, target in contact_import.mapping.items()
    ]
    records = _records(contact_import.content, contact_import.delimiter)
    next(records, None)
    already = contact_import.processed_rows
    batch: list[_Row] = []
    data_index = 0
    for number, record in enumerate(records, start=2):  # row 1 is the header, as in a spreadsheet
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not counted in total_rows either
        data_index += 1
        if data_index <= already:
            continue
        batch.append(_parse(record, number, plan, contact_import.phone_region))
        if len(batch) >= BATCH_SIZE:
            _process_batch(organization, contact_import, batch)
            batch = []
    if batch:
        _process_batch(organization, contact_import, batch)


@transaction.atomic
def _finish(contact_import: ContactImport, status: str, failure: str = "") -> ContactImport:
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=status,
        finished_at=timezone.now(),
        failure=failure,
        content="",  # the rows live on as contacts; the raw file need not
        updated_at=timezone.now(),
    )
    contact_import.refresh_from_db()
    activity_record(
        organization=contact_import.organization,
        actor=_import_actor(contact_import),
        action=f"distribution.import.{'finished' if status == ImportStatus.DONE else 'failed'}",
        target=contact_import,
        data={
            "created": contact_import.created_count,
            "updated": contact_import.updated_count,
            "skipped": contact_import.skipped_count,
            "errors": contact_import.error_count,
        },
    )
    return contact_import
