"""One batch of a contact import: match its rows to contacts, then write them in one transaction.

Matching happens in Python on plain dictionaries (look-up queries per batch, not per row, for
every external id, email and phone the batch names; no model instances, which cost more than the
row's insert). Writing is `PostgresContacts` on PostgreSQL: new contacts are COPYed into the contacts
table, changed ones are COPYed into a temporary table (dropped at commit) and merged with one
`UPDATE ... FROM` that sets only the columns the batch changed (a re-import that changes an
attribute sends the attributes and `updated_at`, not every column). Any other database (the
embedded SQLite) gets `OrmContacts`, the same rows through `bulk_create` and `bulk_update`. Both
are given the same rows, so both keep the same rules; the tests run each.
"""

import csv
import io
import itertools
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.ids import new_public_ids
from distribution.enums import ConsentSource, ImportTarget
from distribution.models import Contact, ContactImport, ContactImportError

KEY_TARGETS = (ImportTarget.EXTERNAL_ID, ImportTarget.EMAIL, ImportTarget.PHONE)
CHANNELS = ("email", "sms")
# Every column an import may change, in the order they are written.
FIELDS = (
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
    "email_bounced_at",
    "email_bounce_reason",
    "updated_at",
)
NEW_CONTACT = {
    "id": None,
    **{name: "" for name in FIELDS},
    "attributes": {},
    "email_consent": False,
    "sms_consent": False,
    **{name: None for name in FIELDS if name.endswith("_at")},
}


@dataclass(slots=True)
class ImportRow:
    """One parsed data row: cleaned values per target, or its errors as (column, message)."""

    number: int
    profile: dict[str, str]
    attributes: dict[str, str]
    consent: dict[str, bool]
    opt_out: dict[str, bool]
    errors: list[tuple[str, str]]


@dataclass
class BatchCounts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0


@dataclass
class BatchPlan:
    """What a batch writes: whole rows of new and of changed contacts, and error rows.

    `columns` names the fields (in `FIELDS` order) that changed in any of `updates`: the only
    ones the update writes. The others hold what was read, so leaving them alone changes
    nothing, and skips rewriting (and re-checking) values that did not move."""

    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    counts: BatchCounts = field(default_factory=BatchCounts)

    @property
    def written(self) -> list[dict[str, Any]]:
        """The contacts the batch writes, as they will be (new ones need their ids first)."""
        return self.creates + self.updates


# The fields each change of `_apply` writes, besides `updated_at`.
_BOUNCE = ("email_bounced_at", "email_bounce_reason")
_CONSENT = {
    channel: (f"{channel}_consent", f"{channel}_consent_at", f"{channel}_consent_source")
    for channel in CHANNELS
}
_OPT_OUT = {
    channel: (f"{channel}_opted_out_at", f"{channel}_opt_out_reason") for channel in CHANNELS
}


def _apply(contact: dict[str, Any], row: ImportRow, now, changes: set[str]) -> bool:
    """Copy the row's non-empty cells onto the contact; return whether anything changed, and
    add the names of the fields it changed to `changes`."""
    changed = False
    for name, value in row.profile.items():
        if contact[name] != value:
            if name == "email" and contact["email_bounced_at"] is not None:
                # A new address to try, as when a member edits it.
                contact["email_bounced_at"], contact["email_bounce_reason"] = None, ""
                changes.update(_BOUNCE)
            contact[name] = value
            changes.add(name)
            changed = True
    if row.attributes:
        merged = {**(contact["attributes"] or {}), **row.attributes}
        if merged != contact["attributes"]:
            contact["attributes"] = merged
            changes.add("attributes")
            changed = True
    for channel, given in row.consent.items():
        if contact[f"{channel}_consent"] != given:
            contact[f"{channel}_consent"] = given
            contact[f"{channel}_consent_at"] = now if given else None
            contact[f"{channel}_consent_source"] = ConsentSource.IMPORT if given else ""
            changes.update(_CONSENT[channel])
            changed = True
    for channel, opted_out in row.opt_out.items():
        if (contact[f"{channel}_opted_out_at"] is not None) != opted_out:
            contact[f"{channel}_opted_out_at"] = now if opted_out else None
            contact[f"{channel}_opt_out_reason"] = _("import") if opted_out else ""
            changes.update(_OPT_OUT[channel])
            changed = True
    if changed:
        contact["updated_at"] = now
    return changed


def _existing(organization, rows: list[ImportRow], writing: Sequence[dict]) -> list[dict[str, Any]]:
    """The organization's contacts the rows may match, oldest first (the oldest wins a key).

    First by external id; emails and phones are looked up only for the rows whose external id
    matched nothing (a matched row never consults them), which in a re-import of a CRM's
    contacts is none. `writing` (the contacts of the batch being written meanwhile, see
    `importing._plan_while_writing`) replaces what the look-ups read of them: it is newer, and its new
    contacts may not be committed yet. They are copies, as the writer reads the originals.
    """
    store = _store()
    external_ids = list(
        {row.profile["external_id"] for row in rows if row.profile.get("external_id")}
    )
    found = store.find(organization, {"external_id": external_ids}) if external_ids else []
    matched = {contact["external_id"] for contact in found}
    rest = [row for row in rows if row.profile.get("external_id") not in matched]
    keys = {
        key: list({row.profile[key] for row in rest if row.profile.get(key)})
        for key in ("email", "phone")
    }
    by_id = {contact["id"]: contact for contact in found}
    if any(keys.values()):
        for contact in store.find(organization, keys):  # twice when email and phone match
            by_id.setdefault(contact["id"], contact)
    for contact in writing:
        by_id[contact["id"]] = dict(contact)
    return sorted(by_id.values(), key=operator.itemgetter("id"))


def _new_contact(row: ImportRow, now) -> dict[str, Any]:
    """What `_apply` makes of a blank contact, built at once: the row's cells over a new
    contact's defaults (its attributes dictionary is shared, never changed: see `find`)."""
    contact = {
        **NEW_CONTACT,
        **row.profile,
        "attributes": row.attributes,
        "created_at": now,
        "updated_at": now,
    }
    if row.consent or row.opt_out:
        _apply(contact, row, now, set())
    return contact


def plan_batch(
    organization, rows: list[ImportRow], external_id_column: str, writing: Sequence[dict] = ()
) -> BatchPlan:
    """Match each row by external id, then email, then phone (among the organization's contacts
    and the rows before it), and decide what to create, update, skip or report. `writing`: the
    contacts of the batch being written while this one is planned (`BatchPlan.written`)."""
    plan = BatchPlan(counts=BatchCounts(processed=len(rows)))
    index: dict[str, dict[str, dict]] = {key: {} for key in KEY_TARGETS}

    def remember(contact: dict) -> None:
        for key in KEY_TARGETS:
            if value := contact[key]:
                index[key].setdefault(value, contact)

    for contact in _existing(organization, rows, writing):
        remember(contact)
    now = timezone.now()
    updates: dict[int, dict] = {}
    # The fields changed on contacts that exist; new ones are written whole.
    changes: set[str] = {"updated_at"}
    unused: set[str] = set()
    for row in rows:
        match = None
        if not row.errors:
            for key in KEY_TARGETS:
                value = row.profile.get(key)
                if value and (match := index[key].get(value)) is not None:
                    break
            external_id = row.profile.get("external_id")
            if match is not None and external_id and match["external_id"] not in ("", external_id):
                row.errors.append(
                    (
                        external_id_column,
                        _("The email or phone belongs to a contact with another external id."),
                    )
                )
        if row.errors:
            plan.counts.errors += 1
            plan.errors.extend((row.number, column, message) for column, message in row.errors)
        elif match is None:
            contact = _new_contact(row, now)
            plan.creates.append(contact)
            remember(contact)
            plan.counts.created += 1
        elif _apply(match, row, now, unused if match["id"] is None else changes):
            if match["id"] is not None:
                updates[match["id"]] = match
            remember(match)
            plan.counts.updated += 1
        else:
            plan.counts.skipped += 1
    plan.updates = list(updates.values())
    plan.columns = [name for name in FIELDS if name in changes]
    return plan


def write_batch(organization, contact_import: ContactImport, plan: BatchPlan) -> None:
    """Write the batch and its progress in one transaction (a rerun resumes after it)."""
    store = _store()
    counts = plan.counts
    with transaction.atomic():
        store.begin_batch()
        if plan.creates:
            public_ids = new_public_ids(
                Contact._meta.get_field("public_id").prefix, len(plan.creates)
            )
            store.create(organization, plan.creates, public_ids)
        if plan.updates:
            store.update(organization, plan.updates, plan.columns)
        if plan.errors:
            ContactImportError.objects.bulk_create(
                [
                    ContactImportError(
                        organization=organization,
                        contact_import=contact_import,
                        row_number=number,
                        column=column[:200],
                        message=message[:300],
                    )
                    for number, column, message in plan.errors
                ]
            )
        ContactImport.objects.filter(pk=contact_import.pk).update(
            processed_rows=F("processed_rows") + counts.processed,
            created_count=F("created_count") + counts.created,
            updated_count=F("updated_count") + counts.updated,
            skipped_count=F("skipped_count") + counts.skipped,
            error_count=F("error_count") + counts.errors,
            updated_at=timezone.now(),
        )


def _store():
    return PostgresContacts if connection.vendor == "postgresql" else OrmContacts


class OrmContacts:
    """Any database Django supports: one filtered query, `bulk_create` and `bulk_update`."""

    @staticmethod
    def begin_batch() -> None:
        pass

    @staticmethod
    def find(organization, keys: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The organization's contacts that any key names, oldest first (the oldest wins)."""
        condition = Q()
        for key, values in keys.items():
            if values:
                condition |= Q(**{f"{key}__in": values})
        if not condition:
            return []
        return list(
            Contact.objects.filter(organization=organization)
            .filter(condition)
            .order_by("pk")
            .values("id", *FIELDS)
        )

    @staticmethod
    def create(organization, contacts: list[dict], public_ids: list[str]) -> None:
        Contact.objects.bulk_create(
            [
                Contact(
                    id=contact["id"],
                    organization=organization,
                    public_id=public_id,
                    created_at=contact["created_at"],
                    **{name: contact[name] for name in FIELDS},
                )
                for contact, public_id in zip(contacts, public_ids, strict=True)
            ],
            batch_size=500,
        )

    @staticmethod
    def update(organization, contacts: list[dict], columns: list[str]) -> None:
        Contact.objects.bulk_update(
            [
                Contact(
                    pk=contact["id"],
                    organization=organization,
                    **{name: contact[name] for name in columns},
                )
                for contact in contacts
            ],
            columns,
            batch_size=200,
        )


class PostgresContacts:
    """PostgreSQL: the look-up takes each key set as one array parameter (one text[] literal:
    binding thousands of values one by one cost more than the query), and rows go in with COPY
    (no SQL to parse per row). Rows travel as CSV with every text quoted; the nullable
    timestamp columns are named in FORCE_NULL, so their empty values become NULL while an empty
    text stays an empty text.
    """

    TABLE = Contact._meta.db_table
    NULLABLE = [name for name in FIELDS if name.endswith("_at") and name != "updated_at"]
    # `updated_at` is not read: a contact is written only when it changed, and then it is `now`.
    READ = ["id", *(name for name in FIELDS if name != "updated_at")]
    # For the look-up statement only (see `find`).
    PROBE_SETTINGS = (
        "SET LOCAL enable_seqscan TO off; SET LOCAL enable_bitmapscan TO off; "
        "SET LOCAL max_parallel_workers_per_gather TO 0"
    )

    @staticmethod
    def begin_batch() -> None:
        """The batch's commit does not wait for its WAL to reach the disk. A crash of the server
        may then lose the last batches committed, but only whole: each batch commits its rows
        with the progress that counts them, so the task, run again, writes them again."""
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    @classmethod
    def find(cls, organization, keys: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The contacts the keys name, reading at most the organization's own contacts.

        Left to itself the planner read every contact of the table (a parallel sequential
        scan; the statistics of a table an import has just filled are stale, and thousands of
        values in an `= ANY` look costly to probe), so each batch cost as much as the whole
        table, more for every organization on the installation. Here each key is a branch of
        its own, and sequential and bitmap scans are off for this statement only (SET LOCAL,
        in its own transaction): each branch probes its key's index, or reads the
        organization's contacts through an index of theirs when the planner believes them
        few, never the table. A contact that two keys name comes twice; `_existing` keeps it
        once.
        """
        statement, parameters = cls.find_statement(organization, keys)
        if not statement:
            return []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(cls.PROBE_SETTINGS)
            cursor.execute(statement, parameters)
            found = [dict(zip(cls.READ, row, strict=True)) for row in cursor.fetchall()]
        # Django reads jsonb as text. Contacts often share their attributes; they share the
        # parsed dictionary too (`_apply` replaces a contact's attributes, never changes them).
        parsed: dict[str, dict] = {}
        for contact in found:
            contact["updated_at"] = None
            text = contact["attributes"]
            if isinstance(text, str):
                attributes = parsed.get(text)
                if attributes is None:
                    attributes = parsed[text] = json.loads(text)
                contact["attributes"] = attributes
        return found

    @classmethod
    def find_statement(cls, organization, keys: dict[str, list[str]]) -> tuple[str, list]:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in cls.READ)
        branches = []
        parameters: list = []
        for key in KEY_TARGETS:
            if values := keys.get(key):
                # `<> ''` lets the partial unique index on external ids answer.
                blank = f" AND {quote(key)} <> ''" if key == ImportTarget.EXTERNAL_ID else ""
                branches.append(
                    f"SELECT {columns} FROM {quote(cls.TABLE)} WHERE organization_id = %s "  # noqa: S608 (names from the model)
                    f"AND {quote(key)} = ANY(%s::text[]){blank}"
                )
                parameters += [organization.pk, _text_array(values)]
        return " UNION ALL ".join(branches), parameters

    @classmethod
    def reserve_ids(cls, contacts: list[dict]) -> None:
        """Give new contacts their ids from the table's sequence ahead of their COPY, so the
        next batch can be planned against them while they are written."""
        missing = [contact for contact in contacts if contact["id"] is None]
        if not missing:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [cls.TABLE, len(missing)],
            )
            for contact, (value,) in zip(missing, cursor.fetchall(), strict=True):
                contact["id"] = value

    @classmethod
    def create(cls, organization, contacts: list[dict], public_ids: list[str]) -> None:
        cls.reserve_ids(contacts)
        columns = ["id", "organization_id", "public_id", "created_at", *FIELDS]
        texts = _Texts(FIELDS)
        organization_id = organization.pk
        rows = (
            (
                contact["id"],
                organization_id,
                public_id,
                texts.time(contact["created_at"]),
                *texts.row(contact),
            )
            for contact, public_id in zip(contacts, public_ids, strict=True)
        )
        with connection.cursor() as cursor:
            cls._copy(cursor, cls.TABLE, columns, rows)

    @classmethod
    def update(cls, organization, contacts: list[dict], columns: list[str]) -> None:
        """Set `columns` of `contacts` from a temporary table of just those columns.

        The join is bounded to the batch's range of ids as well as to the organization: the
        (organization_id, id) index then reads the rows of that range, where the organization
        alone had the join read all of the organization's contacts for every batch (the
        planner knows little of a table that an import has just filled). A re-import in the
        order of the first reads about a batch's worth of rows."""
        quote = connection.ops.quote_name
        names = ", ".join(quote(name) for name in columns)
        assignments = ", ".join(f"{quote(name)} = changed.{quote(name)}" for name in columns)
        ids = [contact["id"] for contact in contacts]
        with connection.cursor() as cursor:
            # Dropped at commit: nothing outlives the transaction (PgBouncer transaction mode).
            cursor.execute(
                f"CREATE TEMPORARY TABLE contact_import_changes ON COMMIT DROP AS "  # noqa: S608 (names from the model)
                f"SELECT id, {names} FROM {quote(cls.TABLE)} WITH NO DATA"
            )
            texts = _Texts(columns)
            rows = ((contact["id"], *texts.row(contact)) for contact in contacts)
            cls._copy(cursor, "contact_import_changes", ["id", *columns], rows)
            cursor.execute(
                f"UPDATE {quote(cls.TABLE)} AS contact SET {assignments} "  # noqa: S608 (names from the model)
                "FROM contact_import_changes AS changed "
                "WHERE contact.organization_id = %s AND contact.id BETWEEN %s AND %s "
                "AND contact.id = changed.id",
                [organization.pk, min(ids), max(ids)],
            )
            cursor.execute("DROP TABLE contact_import_changes")

    @classmethod
    def _copy(cls, cursor, table: str, columns: list[str], rows) -> None:
        quote = connection.ops.quote_name
        nullable = ", ".join(quote(name) for name in cls.NULLABLE if name in columns)
        cursor.copy_expert(
            f"COPY {quote(table)} ({', '.join(quote(name) for name in columns)}) FROM STDIN "
            f"WITH (FORMAT csv{f', FORCE_NULL ({nullable})' if nullable else ''})",
            _CsvPieces(rows),
        )


class _CsvPieces:
    """A file for COPY to read: the CSV of `rows`, made a piece at a time as COPY asks for it,
    so that PostgreSQL writes one piece while the next is made (and not after all are). Pieces
    are larger than the `size` COPY asks for: psycopg2 sends whatever `read` returns."""

    ROWS = 500

    def __init__(self, rows) -> None:
        self.rows = iter(rows)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")

    def read(self, size: int = -1) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(itertools.islice(self.rows, self.ROWS))
        return self.buffer.getvalue()


class _Texts:
    """The COPY values of `columns` of one batch's contacts. A batch holds few distinct times
    and attribute sets (all its new and changed contacts share `now`), and formatting each one
    once saves half of preparing the COPY."""

    def __init__(self, columns) -> None:
        self.times: dict = {}
        self.attributes: dict[str, str] = {}
        values = operator.itemgetter(*columns)
        # itemgetter of one name gives the value, not a tuple of it.
        self.values = values if len(columns) > 1 else lambda contact: (values(contact),)
        self.json_at = columns.index("attributes") if "attributes" in columns else None
        self.times_at = [position for position, name in enumerate(columns) if name.endswith("_at")]

    def row(self, contact: dict) -> list:
        values = list(self.values(contact))
        if self.json_at is not None:
            values[self.json_at] = self.json(values[self.json_at])
        for position in self.times_at:
            if values[position] is not None:
                values[position] = self.time(values[position])
        return values

    def time(self, moment) -> str:
        text = self.times.get(moment)
        if text is None:
            text = self.times[moment] = moment.isoformat()
        return text

    def json(self, attributes: dict) -> str:
        # repr tells apart what equality does not (True and 1, 1 and 1.0): equal reprs, equal JSON.
        key = repr(attributes)
        text = self.attributes.get(key)
        if text is None:
            text = self.attributes[key] = json.dumps(attributes)
        return text


def _text_array(values) -> str:
    """A text[] literal: one parameter to quote (psycopg2 adapts a list value by value, which
    cost more than the look-up itself). Values are joined at C speed; only a batch with a
    quote or a backslash in a value escapes value by value. No value holds a NUL (`decode_csv`
    drops them), so a NUL can stand between values while they are checked."""
    joined = "\0".join(values)
    if '"' in joined or "\\" in joined:
        return (
            "{"
            + ",".join(
                '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
            )
            + "}"
        )
    return '{"' + joined.replace("\0", '","') + '"}' if joined or values else "{}"
