"""A worker plans each batch of a contact import while the batch before it is written (on
PostgreSQL, outside a transaction, as in a Celery worker): the same file must give exactly the
contacts, counts and row errors that planning and writing one batch after another gives."""

import threading
import time

import pytest
from django.db import connection, transaction

from distribution.enums import ImportStatus
from distribution.models import Contact, ContactImport, ContactImportError
from distribution.services import import_batches, importing
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Membership
from tenancy.scoping import tenant_scope
from tests.distribution.factories import ContactFactory
from tests.distribution.support import import_csv

pytestmark = pytest.mark.django_db(transaction=True)

MAPPING = {"0": "external_id", "1": "email", "2": "phone", "3": "name"}
# Batches of three rows: each later batch names contacts that the batch before it created or
# changed, so it is planned while they are being written.
ROWS = [
    # batch 1
    "C1,c1@example.fi,,One",
    "C2,c2@example.fi,,Two",
    ",noid@example.fi,,No id",
    # batch 2: C1 (made in batch 1) gets a new email; an address of C2 under another id
    "C1,c1.new@example.fi,,One moved",
    "C3,c2@example.fi,,Conflict",
    "A-1,,040 111 2222,Existing",
    # batch 3: C1 by the email batch 2 gave it; C2 gets a phone; the contact without an id
    ",c1.new@example.fi,,One by new email",
    "C2,,040 123 4567,Two with phone",
    ",noid@example.fi,,No id again",
    # batch 4: C2 by the phone batch 3 gave it; C1's old email is nobody's now
    ",,0401234567,Two by phone",
    ",c1@example.fi,,A new one",
    "C4,c4@example.fi,,Four",
]
TEXT = "id,email,phone,name\n" + "\n".join(ROWS) + "\n"


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 3)


def _run(organization, text: str) -> ContactImport:
    owner = Membership.all_objects.filter(organization=organization, role=Role.OWNER).first()
    return import_csv(organization, Actor.for_membership(owner), text, MAPPING)


def _outcome(organization, contact_import: ContactImport):
    contacts = sorted(
        Contact.all_objects.filter(organization=organization).values_list(
            "external_id", "name", "email", "phone"
        )
    )
    errors = sorted(
        ContactImportError.all_objects.filter(contact_import=contact_import).values_list(
            "row_number", "column", "message"
        )
    )
    counts = (
        contact_import.created_count,
        contact_import.updated_count,
        contact_import.skipped_count,
        contact_import.error_count,
    )
    return contacts, errors, counts


def _planned_while_writing(monkeypatch) -> list[str]:
    """The names of the threads that write the batches. A writer thread starts each write late,
    so the next batch is surely planned before the one before it is committed."""
    threads = []
    write = importing.write_batch

    def late(*args, **kwargs):
        threads.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.3)
        return write(*args, **kwargs)

    monkeypatch.setattr(importing, "write_batch", late)
    return threads


def test_planning_while_writing_gives_what_one_batch_after_another_gives(
    org, other_org, personas, small_batches, monkeypatch
):
    for organization in (org, other_org):
        ContactFactory(
            organization=organization, external_id="A-1", email="", phone="+358401112222"
        )
    threads = _planned_while_writing(monkeypatch)

    overlapped = _run(org, TEXT)
    assert len(threads) == 4 and all(name.startswith("contact-import-writer") for name in threads)
    with transaction.atomic():  # inside a transaction the import writes batch after batch
        one_by_one = _run(other_org, TEXT)
    assert threads[4:] == ["MainThread"] * 4

    assert _outcome(org, overlapped) == _outcome(other_org, one_by_one)
    contacts, errors, counts = _outcome(org, overlapped)
    assert counts == (5, 6, 0, 1)  # created, updated, skipped, errors
    assert contacts == [
        ("", "A new one", "c1@example.fi", ""),
        ("", "No id again", "noid@example.fi", ""),
        ("A-1", "Existing", "", "+358401112222"),
        ("C1", "One by new email", "c1.new@example.fi", ""),
        ("C2", "Two by phone", "c2@example.fi", "+358401234567"),
        ("C4", "Four", "c4@example.fi", ""),
    ]
    assert [(number, column) for number, column, _message in errors] == [(6, "id")]


def test_a_failed_write_stops_the_import_after_the_last_committed_batch(
    org, personas, small_batches, monkeypatch
):
    write = importing.write_batch
    calls = []

    def second_fails(organization, contact_import, plan):
        calls.append(plan)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return write(organization, contact_import, plan)

    monkeypatch.setattr(importing, "write_batch", second_fails)
    with pytest.raises(RuntimeError):
        _run(org, TEXT)
    contact_import = ContactImport.all_objects.get()
    assert contact_import.status == ImportStatus.FAILED
    assert (contact_import.processed_rows, contact_import.created_count) == (3, 3)
    assert len(calls) == 2  # batch 3 was planned, never written
    assert Contact.all_objects.count() == 3

    # As when the worker died: the task, run again, resumes after the first batch.
    monkeypatch.setattr(importing, "write_batch", write)
    ContactImport.all_objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.PENDING, content=TEXT
    )
    with tenant_scope(org):
        importing.contact_import_run(organization=org, import_id=contact_import.pk)
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE and contact_import.processed_rows == 12
    assert Contact.all_objects.count() == 6


def test_the_writer_thread_leaves_no_connection_open(org, personas, small_batches):
    def connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    before = connections()
    _run(org, TEXT)
    deadline = time.monotonic() + 5
    while connections() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections() == before


def test_new_contacts_get_ids_ahead_of_their_copy(org):
    contacts = [{"id": None}, {"id": 7}, {"id": None}]
    import_batches.PostgresContacts.reserve_ids(contacts)
    assert contacts[1]["id"] == 7
    assert contacts[0]["id"] < contacts[2]["id"]
