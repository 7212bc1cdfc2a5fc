"""CSV import of contacts: upload, column mapping, and the run the task makes of it.

The run reads the stored CSV as a stream of records and hands them to
`distribution.services.import_batches` in batches of `BATCH_SIZE` (a thread parses the next batch
while this one is written, see `_read_ahead`): look-up queries per batch, not per row, the rows
written with COPY (PostgreSQL) or bulk queries (elsewhere), error rows and the progress, all in
one transaction per batch. Progress is committed with the rows it counts, so a worker that dies
mid-import resumes exactly after the last committed batch when the task runs again.
"""

import csv
import gc
import io
import logging
import queue
import re
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from core.tasks import enqueue_on_commit
from distribution.enums import ImportStatus, ImportTarget
from distribution.models import Contact, ContactImport
from distribution.normalize import (
    MAX_ATTRIBUTE_VALUE,
    check_attribute_name,
    normalize_email,
    normalize_language,
    normalize_phone,
    parse_flag,
)
from distribution.services.import_batches import (
    KEY_TARGETS,
    ImportRow,
    PostgresContacts,
    plan_batch,
    write_batch,
)
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_COLUMNS = 100
PREVIEW_ROWS = 5
BATCH_SIZE = 5000
# A running import whose progress has not moved for this long belongs to a dead worker.
STALE_AFTER = timedelta(minutes=10)
ATTRIBUTE_TARGET = "attr:"
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
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return text.replace("\x00", "")  # no database text may hold NUL


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (Finnish Excel) or tab: whichever the header line has most of."""
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _count_data_rows(text: str, delimiter: str, records: Iterator[list[str]]) -> int:
    """The rows after the header that are not blank (`records` is the reader past the header).

    Without a quote character in the file every line is one record, and its lines are counted
    at C speed (a tenth of the time csv takes to read 100,000 rows); a quoted value may hold a
    line break, so such a file, or one with a line longer than csv's field limit (which csv
    refuses), is read by csv."""
    if '"' not in text:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[1:]
        if not lines or max(map(len, lines)) <= csv.field_size_limit():
            return sum(1 for line in lines if line.replace(delimiter, "").strip())
    return sum(1 for record in records if "".join(record).strip())


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
        total = _count_data_rows(text, delimiter, records)
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
        if not "".join(record).strip():
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


# How each target's cell is read (a plain string per column: enum members are slow to compare).
_READERS = {
    ImportTarget.EMAIL: "email",
    ImportTarget.PHONE: "phone",
    ImportTarget.LANGUAGE: "language",
    ImportTarget.EXTERNAL_ID: "text",
    ImportTarget.NAME: "text",
    ImportTarget.EMAIL_CONSENT: "flag",
    ImportTarget.SMS_CONSENT: "flag",
    ImportTarget.EMAIL_OPT_OUT: "flag",
    ImportTarget.SMS_OPT_OUT: "flag",
}
_LIMITS = {
    target: Contact._meta.get_field(target).max_length
    for target in (ImportTarget.EXTERNAL_ID, ImportTarget.NAME)
}


def _reading_plan(contact_import: ContactImport) -> list[tuple[int, str, str, str]]:
    """(column index, column name, how to read it, the target's name) per mapped column."""
    plan = []
    for index, target in contact_import.mapping.items():
        column = contact_import.header[int(index)]
        if target.startswith(ATTRIBUTE_TARGET):
            plan.append((int(index), column, "attribute", target[len(ATTRIBUTE_TARGET) :]))
        else:
            plan.append((int(index), column, _READERS[target], str(target)))
    return plan


def _parse(record: list[str], number: int, plan, region: str) -> ImportRow:
    profile: dict[str, str] = {}
    attributes: dict[str, str] = {}
    flags: dict[str, bool] = {}
    errors: list[tuple[str, str]] = []
    width = len(record)
    for index, column, reader, name in plan:
        if index >= width:
            continue
        cell = record[index].strip()
        if not cell:
            continue
        try:
            if reader == "attribute":
                attributes[name] = cell[:MAX_ATTRIBUTE_VALUE]
            elif reader == "text":
                if len(cell) > _LIMITS[name]:
                    raise ApplicationError(_("At most %(n)s characters.") % {"n": _LIMITS[name]})
                profile[name] = cell
            elif reader == "email":
                profile["email"] = normalize_email(cell)
            elif reader == "phone":
                profile["phone"] = normalize_phone(cell, region)
            elif reader == "language":
                profile["preferred_language"] = normalize_language(cell)
            else:
                flag = parse_flag(cell, field=name)
                if flag is not None:
                    flags[name] = flag
        except ApplicationError as error:
            errors.append((column, error.message))
    if not (errors or profile.get("external_id") or profile.get("email") or profile.get("phone")):
        errors.append(("", _("The row has no external id, email or phone to match on.")))
    return ImportRow(number, profile, attributes, *_consent_and_opt_out(flags), errors)


def _consent_and_opt_out(flags: dict[str, bool]) -> tuple[dict[str, bool], dict[str, bool]]:
    """`{"sms_consent": True, "email_opted_out": False}` -> `{"sms": True}`, `{"email": False}`."""
    if not flags:
        return {}, {}
    consent: dict[str, bool] = {}
    opt_out: dict[str, bool] = {}
    for name, flag in flags.items():
        channel, kind = name.split("_", 1)
        (consent if kind == "consent" else opt_out)[channel] = flag
    return consent, opt_out


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
    """Plan and write batch after batch, with the process's older objects out of the garbage
    collector's sight and quicker thread switches (see the two context managers)."""
    external_id_column = _column_of(contact_import, ImportTarget.EXTERNAL_ID)
    with (
        _older_objects_frozen(),
        _quicker_thread_switches(),
        _read_ahead(_parsed_batches(contact_import)) as batches,
    ):
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            _plan_while_writing(organization, contact_import, batches, external_id_column)
            return
        for batch in batches:
            write_batch(
                organization, contact_import, plan_batch(organization, batch, external_id_column)
            )


def _plan_while_writing(organization, contact_import, batches, external_id_column: str) -> None:
    """Each batch is written by a thread of its own, on its own connection, while the next one
    is planned here: the look-ups and matching of a batch (half of an import's time) overlap
    the COPY of the one before (the other half, mostly PostgreSQL's).

    Batches still commit one at a time and in order: the next is handed over only when the one
    before is committed, and an error of the writer stops the import there (the task, run
    again, resumes after the last batch committed). Planning a batch while the one before is
    written, its look-ups may read that batch's contacts as they were before it, or not at all
    when they are new: `plan_batch` is given them as they will be (new ones with the ids
    reserved for them), in place of what it reads.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="contact-import-writer") as writer:
        try:
            writing = None
            written: list[dict] = []
            for batch in batches:
                plan = plan_batch(organization, batch, external_id_column, written)
                PostgresContacts.reserve_ids(plan.creates)
                if writing is not None:
                    writing.result()  # the error of the batch before, if it failed
                writing = writer.submit(_write_in_thread, organization, contact_import, plan)
                written = plan.written
            if writing is not None:
                writing.result()
        finally:
            writer.submit(_close_connection)


def _write_in_thread(organization, contact_import: ContactImport, plan) -> None:
    with tenant_scope(organization):
        write_batch(organization, contact_import, plan)


def _close_connection() -> None:
    """Close the calling thread's connection (`connection.close` names the caller's when it is
    looked up, not when it runs)."""
    connection.close()


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """An import makes a few objects per row, and as they pile up Python's cycle collector
    now and then walks every object of the process (Django's, the phone number metadata's,
    the batches'): a quarter of a 100,000-row import went to those walks. The objects made
    before the import are frozen (`gc.freeze`) while it runs, so the collector walks only the
    import's own; any of the older ones that become garbage meanwhile are collected after.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# How often the running thread hands over the interpreter lock to a waiting one, during an import.
THREAD_SWITCH_SECONDS = 0.001


@contextmanager
def _quicker_thread_switches() -> Iterator[None]:
    """An import runs three threads: one parses, one plans and one writes, and the last two
    wait on PostgreSQL most of the time. Back from the database, a thread waits for the
    interpreter lock until the thread holding it has run for the switch interval (5 ms by
    default), so the database side of the import kept stalling behind the Python side: a
    100,000-row import took a quarter longer than with 1 ms, and spent more processor time on
    the hand-overs. The interval goes back to what it was after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(THREAD_SWITCH_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


_DONE = object()


@contextmanager
def _read_ahead(batches: Iterator[list[ImportRow]]) -> Iterator[Iterator[list[ImportRow]]]:
    """The batches, each parsed in a thread while the one before it is written.

    psycopg2 lets go of the GIL while it waits for the database, so the parsing of the next
    batch (half of the import's Python) overlaps the writing of this one on two cores. The thread
    only parses (no queries), one batch ahead, and stops when the import does; it lets go of the
    GIL every few rows, so the importing thread, back from the database, need not wait for the
    interpreter's switch interval (5 ms) to go on.
    """
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    language = translation.get_language()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def parse() -> None:
        try:
            with translation.override(language):  # the error messages' language
                for batch in batches:
                    if not hand_over(batch):
                        return
        except BaseException as error:  # raised again in the importing thread
            hand_over(error)
            return
        hand_over(_DONE)

    def handed_over() -> Iterator[list[ImportRow]]:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    parser = threading.Thread(target=parse, name="contact-import-parser", daemon=True)
    parser.start()
    try:
        yield handed_over()
    finally:
        stop.set()
        parser.join()


def _parsed_batches(contact_import: ContactImport) -> Iterator[list[ImportRow]]:
    """The rows not imported yet, parsed, `BATCH_SIZE` at a time."""
    plan = _reading_plan(contact_import)
    region = contact_import.phone_region
    records = _records(contact_import.content, contact_import.delimiter)
    next(records, None)
    already = contact_import.processed_rows
    batch: list[ImportRow] = []
    data_index = 0
    for number, record in enumerate(records, start=2):  # row 1 is the header, as in a spreadsheet
        if not "".join(record).strip():
            continue  # blank lines are not counted in total_rows either
        data_index += 1
        if data_index <= already:
            continue
        batch.append(_parse(record, number, plan, region))
        if not len(batch) % 64:
            time.sleep(0)  # the GIL to the importing thread, if it waits (see `_read_ahead`)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


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


def contact_imports_due_q() -> Q:
    """Started imports whose task was lost (pending for over a minute: the broker was down when
    it was sent) or whose worker died; the periodic sweep sends their task again."""
    now = timezone.now()
    return Q(status=ImportStatus.PENDING, updated_at__lt=now - timedelta(minutes=1)) | Q(
        status=ImportStatus.RUNNING, updated_at__lt=now - STALE_AFTER
    )
