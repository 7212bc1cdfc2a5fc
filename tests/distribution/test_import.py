import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from core.models import ActivityLog
from distribution.enums import ImportStatus
from distribution.models import Contact, ContactImport, ContactImportError
from distribution.services import import_batches, importing
from distribution.tasks import import_contacts
from tenancy.scoping import tenant_scope
from tests.distribution.factories import ContactFactory
from tests.distribution.support import import_csv

pytestmark = pytest.mark.django_db

CSV = """Asiakasnumero;Nimi;Sähköposti;Puhelin;Kieli;Plan;Customer since;sms_consent
A-1;Maija Meikäläinen;MAIJA@example.fi;040 123 4567;fi;gold;2020-01-31;yes
A-2;Matti Virtanen;matti@example.fi;;sv;silver;2021-05-01;
A-3;Broken Email;not-an-email;040 765 4321;en;gold;;
A-4;Broken Phone;ok@example.fi;12345;xx;bronze;;maybe
;;;;;;;
"""


def upload(client, text: str, name: str = "contacts.csv"):
    file = SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")
    return client.post("/o/acme/contacts/imports/", {"file": file})


def start(client, contact_import: ContactImport, mapping: dict[int, str] | None = None):
    with tenant_scope(contact_import.organization):
        data = {f"col_{i}": target for i, target in contact_import.mapping.items()}
    for index, target in (mapping or {}).items():
        data[f"col_{index}"] = target
    data["phone_region"] = "FI"
    return client.post(f"/o/acme/contacts/imports/{contact_import.public_id}/", data)


def only_import() -> ContactImport:
    return ContactImport.all_objects.get()


def test_upload_shows_a_preview_and_a_guessed_mapping(cx_client):
    response = upload(cx_client, CSV)
    contact_import = only_import()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/contacts/imports/{contact_import.public_id}/")
    assert contact_import.delimiter == ";" and contact_import.total_rows == 4  # blank row ignored
    assert contact_import.mapping == {
        "0": "external_id",
        "1": "name",
        "2": "email",
        "3": "phone",
        "4": "preferred_language",
        "5": "attribute",
        "6": "attribute",
        "7": "sms_consent",
    }
    page = cx_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Maija Meikäläinen" in html and "<caption" in html
    assert 'name="col_3"' in html


def test_import_end_to_end_creates_contacts_and_reports_row_errors(
    cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    upload(cx_client, CSV)
    contact_import = only_import()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(cx_client, contact_import)
    assert response.status_code == 302
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE
    assert (
        contact_import.created_count,
        contact_import.updated_count,
        contact_import.error_count,
        contact_import.processed_rows,
    ) == (2, 0, 2, 4)
    assert contact_import.content == ""  # the raw file does not outlive the import
    maija = Contact.all_objects.get(external_id="A-1")
    assert (maija.email, maija.phone) == ("maija@example.fi", "+358401234567")
    assert maija.attributes == {"plan": "gold", "customer_since": "2020-01-31"}
    assert maija.sms_consent and maija.sms_consent_source == "import"

    report = cx_client.get(f"/o/acme/contacts/imports/{contact_import.public_id}/errors.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert rows[0] == ["row", "column", "message"]
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("4", "Sähköposti"),
        ("5", "Puhelin"),
        ("5", "Kieli"),
        ("5", "sms_consent"),
    ]
    assert "not-an-email" not in report.content.decode()  # no cell values in the report
    page = cx_client.get(f"/o/acme/contacts/imports/{contact_import.public_id}/").content.decode()
    assert "errors.csv" in page and "hx-trigger" not in page  # finished: no more polling
    assert ActivityLog.all_objects.filter(action="distribution.import.finished").exists()


def test_matching_goes_by_external_id_then_email_then_phone(
    org, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    by_id = ContactFactory(organization=org, external_id="A-1", email="old@example.fi")
    by_email = ContactFactory(organization=org, email="matti@example.fi", name="M.")
    by_phone = ContactFactory(organization=org, email="", phone="+358407654321")
    text = (
        "id,email,phone,name\n"
        "A-1,matti@example.fi,,Maija\n"  # id wins over the email of another contact
        ",matti@example.fi,,Matti\n"
        ",,040 765 4321,Pekka\n"
        ",new@example.fi,,New\n"
        ",NEW@example.fi,,New again\n"  # same file, same person: updated, not duplicated
    )
    upload(cx_client, text)
    with django_capture_on_commit_callbacks(execute=True):
        start(cx_client, only_import())
    contact_import = only_import()
    assert (contact_import.created_count, contact_import.updated_count) == (1, 4)
    assert Contact.all_objects.count() == 4
    by_id.refresh_from_db()
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert (by_id.name, by_id.email) == ("Maija", "matti@example.fi")
    assert by_email.name == "Matti"
    assert by_phone.name == "Pekka"
    assert Contact.all_objects.get(email="new@example.fi").name == "New again"


def test_an_email_of_a_contact_with_another_external_id_is_an_error_not_a_merge(
    org, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    ContactFactory(organization=org, external_id="A-1", email="maija@example.fi")
    upload(cx_client, "id,email\nB-9,maija@example.fi\n")
    with django_capture_on_commit_callbacks(execute=True):
        start(cx_client, only_import())
    assert only_import().error_count == 1
    assert Contact.all_objects.get().external_id == "A-1"


def test_mapping_without_a_matching_key_is_refused(cx_client):
    upload(cx_client, CSV)
    response = start(cx_client, only_import(), {0: "", 2: "", 3: ""})
    assert response.status_code == 400
    assert "external id, email or phone" in response.content.decode()
    assert only_import().status == ImportStatus.DRAFT


def test_an_import_starts_once_and_a_second_task_run_does_nothing(
    org, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    upload(cx_client, CSV)
    contact_import = only_import()
    with django_capture_on_commit_callbacks(execute=True):
        start(cx_client, contact_import)
    assert start(cx_client, contact_import).status_code == 400
    assert import_contacts(organization_id=org.pk, import_id=contact_import.pk) is None
    assert Contact.all_objects.count() == 2


def build_csv(rows: int, start: int = 0) -> str:
    lines = ["external_id,name,email,phone,plan,store"]
    for n in range(start, start + rows):
        lines.append(f"C{n},Person {n},p{n}@example.fi,040{n:07d},gold,Store {n % 7}")
    return "\n".join(lines) + "\n"


def test_importing_2000_rows_costs_a_bounded_number_of_queries(
    org, personas, django_assert_max_num_queries
):
    with tenant_scope(org):
        actor = _actor(org, personas)
        contact_import = importing.contact_import_upload(
            actor=actor, organization=org, filename="big.csv", raw=build_csv(2000).encode()
        )
        importing.contact_import_start(
            actor=actor,
            organization=org,
            contact_import=contact_import,
            mapping={"0": "external_id", "1": "name", "2": "email", "3": "phone"},
        )
        # One batch of 5,000: about ten queries, whatever the number of rows.
        with django_assert_max_num_queries(30):
            importing.contact_import_run(organization=org, import_id=contact_import.pk)
        contact_import.refresh_from_db()
        assert contact_import.created_count == 2000
        assert Contact.objects.count() == 2000

        again = importing.contact_import_upload(
            actor=actor, organization=org, filename="again.csv", raw=build_csv(2000).encode()
        )
        importing.contact_import_start(
            actor=actor,
            organization=org,
            contact_import=again,
            mapping={"0": "external_id", "1": "name", "4": "attribute"},
        )
        with django_assert_max_num_queries(30):
            importing.contact_import_run(organization=org, import_id=again.pk)
        again.refresh_from_db()
        assert (again.created_count, again.updated_count) == (0, 2000)
        assert Contact.objects.filter(attributes__plan="gold").count() == 2000


def test_progress_is_polled_with_htmx_and_has_a_refresh_link(org, cx_client):
    upload(cx_client, CSV)
    contact_import = only_import()
    start(cx_client, contact_import)  # on-commit callbacks do not run here: it stays queued
    page = cx_client.get(f"/o/acme/contacts/imports/{contact_import.public_id}/")
    html = page.content.decode()
    assert 'hx-trigger="every 2s"' in html and "Refresh to see progress" in html
    fragment = cx_client.get(
        f"/o/acme/contacts/imports/{contact_import.public_id}/", HTTP_HX_REQUEST="true"
    )
    assert fragment.content.decode().lstrip().startswith("<section")


def test_viewer_cannot_upload_and_outsider_sees_no_import(personas, cx_client, viewer_client):
    upload(cx_client, CSV)
    contact_import = only_import()
    from tests.conftest import client_for

    assert upload(viewer_client, CSV).status_code == 403
    assert (
        viewer_client.get(f"/o/acme/contacts/imports/{contact_import.public_id}/").status_code
        == 200
    )
    assert start(viewer_client, contact_import).status_code == 403
    outsider = client_for(personas.outsider)
    for url in (
        f"/o/acme/contacts/imports/{contact_import.public_id}/",
        f"/o/acme/contacts/imports/{contact_import.public_id}/errors.csv",
        f"/o/rival/contacts/imports/{contact_import.public_id}/",
    ):
        assert outsider.get(url).status_code == 404


def test_semicolon_file_in_windows_encoding_is_read(cx_client):
    file = SimpleUploadedFile("excel.csv", "Nimi;Sähköposti\nÄijä;a@example.fi\n".encode("cp1252"))
    cx_client.post("/o/acme/contacts/imports/", {"file": file})
    assert only_import().header == ["Nimi", "Sähköposti"]


def _actor(org, personas):
    from tenancy.actors import Actor
    from tenancy.models import Membership

    return Actor.for_membership(
        Membership.all_objects.get(user=personas.cx_manager, organization=org)
    )


# --- the same rules on both ways of writing (PostgreSQL COPY, and the ORM used elsewhere) ------


@pytest.fixture(params=["copy", "orm"])
def store(request, monkeypatch):
    """Run the import with PostgreSQL's COPY writer, then again with the plain ORM writer."""
    from distribution.services import import_batches

    if request.param == "orm":
        monkeypatch.setattr(import_batches, "_store", lambda: import_batches.OrmContacts)
    return request.param


def run_import(org, personas, text: str, mapping: dict[str, str]) -> ContactImport:
    return import_csv(org, _actor(org, personas), text, mapping)


KEYS = {"0": "external_id", "1": "email", "2": "phone", "3": "name"}


def test_matching_order_updates_and_errors_are_the_same_on_both_writers(
    org, other_org, personas, store
):
    by_id = ContactFactory(organization=org, external_id="A-1", email="old@example.fi")
    by_email = ContactFactory(organization=org, email="matti@example.fi", name="M.")
    by_phone = ContactFactory(organization=org, email="", phone="+358407654321")
    other = ContactFactory(organization=org, external_id="B-9", email="b9@example.fi")
    # Another organization's contacts with the same keys must never be touched.
    theirs = [
        ContactFactory(organization=other_org, external_id="A-1", email="matti@example.fi"),
        ContactFactory(organization=other_org, email="new@example.fi", phone="+358407654321"),
    ]
    text = (
        "id,email,phone,name\n"
        "A-1,matti@example.fi,,Maija\n"  # id wins over the email of another contact
        ",matti@example.fi,,Matti\n"
        ",,040 765 4321,Pekka\n"
        ",new@example.fi,,New\n"
        ",NEW@example.fi,,New again\n"  # same file, same person: updated, not duplicated
        "A-2,b9@example.fi,,Clash\n"  # the email of a contact with another external id
        ",not-an-email,12345,Broken\n"
        "B-9,b9@example.fi,,\n"  # nothing new: unchanged
    )
    contact_import = run_import(org, personas, text, KEYS)
    assert (
        contact_import.created_count,
        contact_import.updated_count,
        contact_import.skipped_count,
        contact_import.error_count,
    ) == (1, 4, 1, 2)
    errors = ContactImportError.all_objects.filter(contact_import=contact_import)
    assert sorted(errors.values_list("row_number", "column")) == [
        (7, "id"),
        (8, "email"),
        (8, "phone"),
    ]
    for contact in (by_id, by_email, by_phone, other):
        contact.refresh_from_db()
    assert (by_id.name, by_id.email) == ("Maija", "matti@example.fi")
    assert (by_email.name, by_phone.name, other.name) == ("Matti", "Pekka", other.name)
    new = Contact.all_objects.get(organization=org, email="new@example.fi")
    assert new.name == "New again" and new.public_id.startswith("ct_")
    assert Contact.all_objects.filter(organization=org).count() == 5
    for contact in theirs:
        before = contact.updated_at
        contact.refresh_from_db()
        assert contact.updated_at == before and contact.name != "Maija"


def test_consent_opt_out_attributes_and_awkward_text_survive_both_writers(org, personas, store):
    bounced = ContactFactory(
        organization=org,
        external_id="X-1",
        email="old@example.fi",
        email_bounced_at="2025-01-01T00:00:00Z",
        email_bounce_reason="mailbox full",
        attributes={"tier": "gold", "since": "2020"},
    )
    awkward = 'Ä "quoted", tab\there\\back\nline \\N'
    text = (
        "id,email,name,tier,email_consent,sms_opted_out\n"
        f'X-1,new@example.fi,"{awkward.replace(chr(34), chr(34) * 2)}",silver,yes,\n'
        ",fresh@example.fi,,,no,yes\n"
    )
    mapping = {
        "0": "external_id",
        "1": "email",
        "2": "name",
        "3": "attribute",
        "4": "email_consent",
        "5": "sms_opted_out",
    }
    contact_import = run_import(org, personas, text, mapping)
    assert (contact_import.created_count, contact_import.updated_count) == (1, 1)
    bounced.refresh_from_db()
    assert bounced.name == awkward
    assert bounced.attributes == {"tier": "silver", "since": "2020"}
    assert bounced.email_consent and bounced.email_consent_source == "import"
    assert bounced.email_consent_at is not None
    # A new address to try: the bounce of the old one no longer stops email.
    assert (bounced.email_bounced_at, bounced.email_bounce_reason) == (None, "")
    fresh = Contact.all_objects.get(email="fresh@example.fi")
    assert (fresh.email_consent, fresh.email_consent_at, fresh.name) == (False, None, "")
    assert fresh.sms_opted_out_at is not None and fresh.sms_opt_out_reason == "import"
    assert fresh.email_opted_out_at is None and fresh.attributes == {}


def test_batches_see_the_contacts_of_earlier_batches_and_a_rerun_resumes(
    org, personas, store, monkeypatch
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 3)
    rows = [f"C{n},p{n}@example.fi,,Person {n}" for n in range(7)]
    rows += ["C1,p1@example.fi,,Moved", ",p2@example.fi,,Renamed"]  # in a later batch
    text = "id,email,phone,name\n" + "\n".join(rows) + "\n"
    contact_import = run_import(org, personas, text, KEYS)
    assert (contact_import.created_count, contact_import.updated_count) == (7, 2)
    assert Contact.all_objects.count() == 7
    assert Contact.all_objects.get(external_id="C1").name == "Moved"
    assert Contact.all_objects.get(external_id="C2").name == "Renamed"
    # As if the worker had died after the first batch: the task, run again, goes on after it.
    ContactImport.all_objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.PENDING, processed_rows=3, content=text, created_count=3
    )
    assert import_contacts(organization_id=org.pk, import_id=contact_import.pk) == 9
    assert Contact.all_objects.count() == 7


def test_an_update_sets_only_the_fields_the_file_changed(org, personas, store, monkeypatch):
    contact = ContactFactory(
        organization=org, external_id="C-1", name="Old", attributes={"plan": "gold"}
    )
    plan_batch = importing.plan_batch

    def plan_then_edit(*args):
        plan = plan_batch(*args)
        # A member edits the contact while the batch is between its look-up and its write.
        Contact.all_objects.filter(pk=contact.pk).update(name="Edited", preferred_language="sv")
        return plan

    monkeypatch.setattr(importing, "plan_batch", plan_then_edit)
    text = "id,plan\nC-1,platinum\n"
    contact_import = run_import(org, personas, text, {"0": "external_id", "1": "attribute"})
    assert contact_import.updated_count == 1
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "platinum"}
    # The file changed the attributes only: the member's edit of other fields stays.
    assert (contact.name, contact.preferred_language) == ("Edited", "sv")


def test_an_import_whose_task_was_lost_is_picked_up_by_the_sweep(
    org, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from distribution.tasks import sweep_contact_imports

    upload(cx_client, CSV)
    contact_import = only_import()
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: never sent
        start(cx_client, contact_import)
    assert sweep_contact_imports() == 0  # queued a moment ago: its task may still come
    ContactImport.all_objects.filter(pk=contact_import.pk).update(
        updated_at=timezone.now() - timedelta(minutes=2)
    )
    assert sweep_contact_imports() == 1
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE and contact_import.created_count == 2


def test_the_look_up_reads_the_organizations_contacts_not_the_whole_table(org, other_org):
    """A batch's look-up reads at most the organization's own contacts (through the key
    indexes or the organization's), however stale the statistics: 200 of its contacts beside
    20,000 of another organization, none analysed, as after a large import. (The statement
    before, the three keys in one condition, was planned as a parallel scan of the table.)"""
    _insert_contacts(org, 200)
    _insert_contacts(other_org, 20_000)
    keys = {
        "external_id": [f"E{n}" for n in range(1, 201)],
        "email": [f"e{n}@example.fi" for n in range(1, 201)],
        "phone": [f"+35840{n}" for n in range(1, 201)],
    }
    store = import_batches.PostgresContacts
    statement, parameters = store.find_statement(org, keys)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(store.PROBE_SETTINGS)
        cursor.execute(f"EXPLAIN {statement}", parameters)
        probed = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True)
    assert "Seq Scan" not in probed and "Bitmap" not in probed and "Gather" not in probed
    assert (
        probed.count(f"Index Cond: (organization_id = {org.pk})")
        + probed.count(f"Index Cond: ((organization_id = {org.pk}) AND")
        == 3
    )
    found = store.find(org, keys)
    assert len(found) == 600 and len({contact["id"] for contact in found}) == 200


def _insert_contacts(organization, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO distribution_contact (organization_id, public_id, created_at, "
            "updated_at, external_id, name, email, phone, preferred_language, attributes, "
            "email_consent, email_consent_source, sms_consent, sms_consent_source, "
            "email_opt_out_reason, sms_opt_out_reason, email_bounce_reason) "
            "SELECT %s, 'ct_bulk' || n, now(), now(), 'E' || n, '', 'e' || n || '@example.fi', "
            "'+35840' || n, '', '{}', false, '', false, '', '', '', '' "
            "FROM generate_series(1, %s) AS n",
            [organization.pk, count],
        )


@pytest.mark.parametrize(
    "values",
    [
        [],
        [""],
        ["C1", "a b", "x,y", "{braces}", "NULL", "ääkkönen@example.fi"],
        ['say "hi"', "back\\slash", "", "plain"],
    ],
)
def test_a_key_set_reaches_postgresql_as_the_same_texts(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [import_batches._text_array(values)])
        assert cursor.fetchone()[0] == values


@given(
    lines=st.lists(
        st.text(alphabet=st.sampled_from(list("ab;, \t\r\n\u00a0\u2028")), max_size=8), max_size=12
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoted=st.booleans(),
)
def test_the_upload_counts_the_rows_csv_would_read(lines, delimiter, quoted):
    """The count at upload (by lines, when nothing is quoted) is what csv reads: blank lines,
    lines of only delimiters or spaces, and every kind of line break included."""
    text = "h1" + delimiter + "h2\n" + "\n".join(lines) + ('\n"a\nb",c\n' if quoted else "")
    reference = importing._records(text, delimiter)
    next(reference)
    expected = sum(1 for record in reference if "".join(record).strip())
    records = importing._records(text, delimiter)
    next(records)
    assert importing._count_data_rows(text, delimiter, records) == expected


def test_a_line_longer_than_csvs_field_limit_is_still_refused_at_upload(cx_client):
    response = upload(cx_client, "email\n" + "a" * (csv.field_size_limit() + 1) + "\n")
    assert response.status_code == 400
    assert "not valid CSV" in response.content.decode()
    assert not ContactImport.all_objects.exists()
