"""Response exports: what the file holds, both formats read back with pandas, the background
path for large exports with its progress, permissions, the audit trail and the query cost."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import ActivityLog
from core.scoping import tenant_scope
from cxplatform.celery import app as celery_app
from distribution.models import Invitation
from reports import exports, tasks
from reports.models import ExportChunk, ExportJob, ExportStatus
from surveys.services import response_submit
from tests.distribution.factories import ContactFactory, SegmentFactory
from tests.surveys.factories import make_link, make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
URL = "/o/acme/reports/exports/"


def at(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def choices(*values):
    return [{"value": value, "texts": texts(value)} for value in values]


QUESTIONS = [
    {"key": "score", "type": "nps", "texts": texts("Recommend"), "required": True, "metric": "nps"},
    {
        "key": "womi",
        "type": "womi",
        "texts": texts("Recommend"),
        "texts_secondary": texts("Discourage"),
        "metric": "womi",
    },
    {"key": "useful", "type": "yes_no", "texts": texts("Useful")},
    {
        "key": "reason",
        "type": "single_choice",
        "texts": texts("Why"),
        "choices": choices("price", "staff"),
    },
    {
        "key": "topics",
        "type": "multiple_choice",
        "texts": texts("Topics"),
        "choices": choices("delivery", "returns", "app"),
    },
    {"key": "comment", "type": "text", "texts": texts("Comment")},
]


@pytest.fixture
def survey(org):
    touchpoint = make_touchpoint(org, name="Checkout")
    return make_survey(org, name="After purchase", touchpoint=touchpoint, questions=QUESTIONS)


def submit(org, survey, answers, when, **extra):
    with tenant_scope(org):
        return response_submit(
            organization=org,
            survey=survey,
            answers=answers,
            channel=extra.pop("channel", "web"),
            language=extra.pop("language", "fi"),
            submitted_at=when,
            **extra,
        )


def invited(org, survey, contact, **link_fields):
    """A personal link sent to `contact` by an invitation (the way contacts reach responses)."""
    link = make_link(survey, **link_fields)
    Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        personal_link=link,
        channel="email",
        natural_key=f"test:{link.pk}",
        scheduled_for=timezone.now(),
    )
    return link


@pytest.fixture
def responses(org, survey):
    """Two responses: an anonymous one with a hidden field, and one from an invited contact."""
    contact = ContactFactory(
        organization=org,
        email="maija@example.fi",
        phone="+358401234567",
        attributes={"tier": "gold", "city": "Tampere"},
    )
    link = invited(org, survey, contact, hidden_fields={"store": "S-12"})
    first = submit(
        org,
        survey,
        {
            "score": 9,
            "womi": {"recommend": 9, "discourage": 2},
            "useful": "yes",
            "reason": "staff",
            "topics": ["delivery", "app"],
            "comment": "Nopea toimitus, kiitos!",
        },
        at(2026, 3, 2, 9, 30),
        hidden_fields={"order": "A-1"},
    )
    second = submit(
        org,
        survey,
        {"score": 3, "useful": "no", "comment": '=HYPERLINK("http://evil")'},
        at(2026, 3, 3, 23, 45),
        channel="email",
        language="sv",
        personal_link=link,
    )
    return first, second


def export_post(client, **fields):
    data = {"range": "custom", "from": "2026-03-01", "to": "2026-03-31", "format": "csv"}
    data.update(fields)
    return client.post(URL, data)


def read_csv(response) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(response.content), dtype=str, keep_default_na=False)


def read_xlsx(response) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(response.content), dtype=str, keep_default_na=False)


@pytest.fixture
def analyst_client(client, personas):
    client.force_login(personas.analyst)
    return client


def test_csv_export_has_a_row_per_response_and_a_column_per_question(analyst_client, responses):
    response = export_post(analyst_client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    frame = read_csv(response)
    assert list(frame.columns) == [
        "response_id",
        "submitted_at",
        "survey",
        "survey_id",
        "touchpoint",
        "touchpoint_id",
        "channel",
        "language",
        "score",
        "womi.recommend",
        "womi.discourage",
        "useful",
        "reason",
        "topics",
        "comment",
        "hidden.order",
        "hidden.store",
        "contact.city",
        "contact.tier",
    ]
    first, second = frame.to_dict("records")
    assert first["response_id"] == responses[0].public_id
    assert first["submitted_at"] == "2026-03-02T09:30:00+02:00"
    assert (first["survey"], first["touchpoint"], first["channel"], first["language"]) == (
        "After purchase",
        "Checkout",
        "web",
        "fi",
    )
    assert (first["score"], first["womi.recommend"], first["womi.discourage"]) == ("9", "9", "2")
    assert (first["useful"], first["reason"], first["topics"]) == ("yes", "staff", "delivery; app")
    assert first["comment"] == "Nopea toimitus, kiitos!"
    assert (first["hidden.order"], first["hidden.store"], first["contact.tier"]) == ("A-1", "", "")
    # The second came through an invitation: the contact's attributes and the link's hidden field.
    assert second["submitted_at"] == "2026-03-03T23:45:00+02:00"
    assert (second["score"], second["womi.recommend"], second["useful"]) == ("3", "", "no")
    assert (second["channel"], second["language"]) == ("email", "sv")
    assert (second["hidden.store"], second["contact.tier"], second["contact.city"]) == (
        "S-12",
        "gold",
        "Tampere",
    )
    # A comment that a spreadsheet would run as a formula is neutralised.
    assert second["comment"] == '\'=HYPERLINK("http://evil")'
    assert "maija@example.fi" not in response.content.decode("utf-8-sig")


def test_time_is_given_in_the_organizations_time_zone_across_daylight_saving(
    analyst_client, org, survey
):
    submit(org, survey, {"score": 7}, datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("UTC")))
    frame = read_csv(export_post(analyst_client, to="2026-07-31"))
    assert frame["submitted_at"].tolist() == ["2026-07-01T12:00:00+03:00"]


def test_xlsx_export_reads_back_with_the_same_values(analyst_client, responses):
    response = export_post(analyst_client, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    frame = read_xlsx(response)
    first, second = frame.to_dict("records")
    assert first["response_id"] == responses[0].public_id
    assert first["submitted_at"] == "2026-03-02T09:30:00+02:00"
    assert (first["score"], first["womi.discourage"], first["topics"]) == (
        "9",
        "2",
        "delivery; app",
    )
    assert second["contact.tier"] == "gold"
    # In a workbook text stays text: the formula is stored as a string, not run.
    assert second["comment"] == '=HYPERLINK("http://evil")'


def test_contact_email_and_phone_only_when_asked_for(analyst_client, responses):
    frame = read_csv(export_post(analyst_client, contact_details="on"))
    assert frame["contact.email"].tolist() == ["", "maija@example.fi"]
    assert frame["contact.phone"].tolist() == ["", "+358401234567"]


def test_export_follows_the_dashboard_filters(analyst_client, org, survey, responses):
    other = make_survey(org, name="Other survey", questions=QUESTIONS)
    submit(org, other, {"score": 10}, at(2026, 3, 10))
    submit(org, survey, {"score": 10}, at(2026, 4, 1, 0, 15))  # after the range, local time
    by_channel = read_csv(export_post(analyst_client, channel="email"))
    assert by_channel["response_id"].tolist() == [responses[1].public_id]
    by_language = read_csv(export_post(analyst_client, language="fi"))
    assert len(by_language) == 2
    by_survey = read_csv(export_post(analyst_client, survey=other.public_id))
    assert by_survey["survey"].tolist() == ["Other survey"]
    whole_march = read_csv(export_post(analyst_client))
    assert len(whole_march) == 3
    segment = SegmentFactory(
        organization=org, rules=[{"field": "attr.tier", "op": "eq", "value": "gold"}]
    )
    by_segment = read_csv(export_post(analyst_client, segment=segment.public_id))
    assert by_segment["response_id"].tolist() == [responses[1].public_id]


def test_an_empty_export_still_has_its_header(analyst_client, survey):
    frame = read_csv(export_post(analyst_client))
    assert len(frame) == 0
    assert frame.columns[0] == "response_id"


def test_bad_filters_give_a_form_error_not_a_file(analyst_client, responses):
    assert export_post(analyst_client, survey="srv_nosuchsurvey").status_code == 400
    response = export_post(analyst_client, **{"from": "", "to": ""})
    assert response.status_code == 400
    assert b"Give both dates" in response.content
    assert export_post(analyst_client, format="pdf").status_code == 400


def test_every_export_is_audited(analyst_client, org, responses, personas):
    export_post(analyst_client, format="xlsx", channel="email")
    entry = ActivityLog.all_objects.get(organization=org, action="reports.export.downloaded")
    assert entry.actor_user == personas.analyst
    assert entry.data["rows"] == 1
    assert entry.data["format"] == "xlsx"
    assert entry.data["filters"]["channel"] == "email"
    assert entry.data["filters"]["from"] == "2026-03-01"


def test_export_costs_the_same_queries_for_one_or_many_responses(analyst_client, org, survey):
    contact = ContactFactory(organization=org, attributes={"tier": "gold"})
    submit(org, survey, {"score": 5}, at(2026, 3, 1), personal_link=invited(org, survey, contact))
    with CaptureQueriesContext(connection) as one:
        assert export_post(analyst_client).status_code == 200
    for day in range(2, 26):
        contact = ContactFactory(organization=org, attributes={"tier": f"t{day}"})
        link = invited(org, survey, contact, hidden_fields={"store": f"S{day}"})
        submit(
            org, survey, {"score": day % 11, "comment": "ok"}, at(2026, 3, day), personal_link=link
        )
    with CaptureQueriesContext(connection) as many:
        response = export_post(analyst_client)
    assert len(read_csv(response)) == 25
    assert len(many) == len(one)


def test_page_lists_jobs_in_a_fixed_number_of_queries(
    analyst_client, org, personas, django_assert_max_num_queries
):
    for _ in range(12):
        ExportJob.all_objects.create(
            organization=org,
            created_by=personas.analyst,
            format="csv",
            expires_at=timezone.now() + timedelta(days=7),
        )
    with django_assert_max_num_queries(10):
        response = analyst_client.get(URL)
    assert response.status_code == 200
    assert response.content.count(b"/o/acme/reports/exports/exp_") == 12


# --- larger exports in the background -------------------------------------------------------


@pytest.fixture
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def small_threshold(settings):
    settings.REPORTS_EXPORT_SYNC_MAX_ROWS = 2


@pytest.fixture
def five_responses(org, survey):
    contact = ContactFactory(organization=org, attributes={"tier": "silver"})
    link = invited(org, survey, contact)
    made = [submit(org, survey, {"score": 4}, at(2026, 3, 5), personal_link=link)]
    made += [submit(org, survey, {"score": day}, at(2026, 3, day)) for day in range(6, 10)]
    return made


def test_large_export_runs_as_a_task_and_offers_the_file_when_ready(
    analyst_client,
    org,
    five_responses,
    small_threshold,
    eager_tasks,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    seen_progress = []
    real_write = exports.export_write

    def write_in_small_batches(**kwargs):
        on_batch = kwargs.pop("on_batch")

        def record(done):
            on_batch(done)
            seen_progress.append(
                ExportJob.all_objects.values_list("processed_rows", "total_rows").get()
            )

        return real_write(**kwargs, on_batch=record, batch_size=2)

    monkeypatch.setattr(exports, "export_write", write_in_small_batches)
    with django_capture_on_commit_callbacks(execute=True):
        response = export_post(analyst_client, format="xlsx")
    job = ExportJob.all_objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/reports/exports/{job.public_id}/"
    assert seen_progress == [(2, 5), (4, 5), (5, 5)]
    assert job.status == ExportStatus.READY
    assert (job.processed_rows, job.total_rows) == (5, 5)
    assert job.expires_at > timezone.now() + timedelta(days=6)

    page = analyst_client.get(response["Location"])
    assert b"hx-trigger" not in page.content
    download_url = f"/o/acme/reports/exports/{job.public_id}/download/"
    assert download_url.encode() in page.content
    download = analyst_client.get(download_url)
    assert download.status_code == 200
    frame = pd.read_excel(io.BytesIO(b"".join(download.streaming_content)), dtype=str)
    assert len(frame) == 5
    assert frame["contact.tier"].fillna("").tolist() == ["silver", "", "", "", ""]
    actions = list(
        ActivityLog.all_objects.filter(organization=org).values_list("action", flat=True)
    )
    assert sorted(actions) == ["reports.export.created", "reports.export.downloaded"]


def test_running_export_page_polls_every_two_seconds_and_has_a_refresh_link(
    analyst_client, org, five_responses, small_threshold, django_capture_on_commit_callbacks
):
    # The broker is not asked here: the job waits, queued, as it would for a busy worker.
    response = export_post(analyst_client)
    job = ExportJob.all_objects.get(organization=org)
    page = analyst_client.get(response["Location"])
    assert b'hx-trigger="every 2s"' in page.content
    assert b"0 of 5 responses" in page.content
    assert f'href="/o/acme/reports/exports/{job.public_id}/"'.encode() in page.content
    fragment = analyst_client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert (
        fragment.content.lstrip().startswith(b"<section")
        or b'id="export-progress"' in fragment.content
    )
    assert b"<html" not in fragment.content
    download = analyst_client.get(f"/o/acme/reports/exports/{job.public_id}/download/")
    assert download.status_code == 404


def test_export_task_run_twice_builds_the_file_once(org, five_responses, small_threshold):
    with tenant_scope(org):
        job = exports.export_job_create(
            actor=None,
            organization=org,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=5,
        )
    tasks.run_export.apply(kwargs={"organization_id": org.pk, "job_id": job.pk})
    first = list(ExportChunk.all_objects.filter(job=job).values_list("pk", flat=True))
    tasks.run_export.apply(kwargs={"organization_id": org.pk, "job_id": job.pk})
    assert list(ExportChunk.all_objects.filter(job=job).values_list("pk", flat=True)) == first
    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows) == (ExportStatus.READY, 1, 5)


def test_export_of_a_dead_worker_is_taken_over_and_lost_tasks_are_resent(org, five_responses):
    with tenant_scope(org):
        job = exports.export_job_create(
            actor=None,
            organization=org,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=5,
        )
    long_ago = timezone.now() - timedelta(hours=1)
    ExportJob.all_objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, updated_at=long_ago, created_at=long_ago, processed_rows=2
    )
    with tenant_scope(org):
        assert exports.export_jobs_resume(organization=org) == [job.pk]
        exports.export_job_run(organization=org, job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.attempts) == (ExportStatus.READY, 5, 1)


def test_expired_exports_are_purged_with_their_files(org, five_responses):
    with tenant_scope(org):
        job = exports.export_job_create(
            actor=None,
            organization=org,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=5,
        )
        exports.export_job_run(organization=org, job_id=job.pk)
    assert ExportChunk.all_objects.filter(job=job).exists()
    assert tasks.sweep_exports() == 0
    ExportJob.all_objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep_exports() == 1
    assert not ExportJob.all_objects.filter(pk=job.pk).exists()
    assert not ExportChunk.all_objects.filter(job_id=job.pk).exists()


# --- who may export -------------------------------------------------------------------------


def test_viewer_may_not_export(viewer_client, responses):
    assert viewer_client.get(URL).status_code == 403
    assert export_post(viewer_client).status_code == 403


def test_analyst_may_export(analyst_client):
    assert analyst_client.get(URL).status_code == 200


def test_outsider_gets_404_for_the_page_the_job_and_its_file(outsider_client, org, five_responses):
    with tenant_scope(org):
        job = exports.export_job_create(
            actor=None,
            organization=org,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=5,
        )
        exports.export_job_run(organization=org, job_id=job.pk)
    assert outsider_client.get(URL).status_code == 404
    assert export_post(outsider_client).status_code == 404
    assert outsider_client.get(f"{URL}{job.public_id}/").status_code == 404
    assert outsider_client.get(f"{URL}{job.public_id}/download/").status_code == 404


def test_viewer_cannot_see_or_download_a_job(viewer_client, org, five_responses):
    with tenant_scope(org):
        job = exports.export_job_create(
            actor=None,
            organization=org,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=5,
        )
    assert viewer_client.get(f"{URL}{job.public_id}/").status_code == 403
    assert viewer_client.get(f"{URL}{job.public_id}/download/").status_code == 403


# --- tables keyed by organization -----------------------------------------------------------

TENANT_TABLES = [
    "reports_exportjob",
    "reports_exportchunk",
    "reports_digest",
    "reports_digestrecipient",
    "reports_digestdelivery",
    "reports_sharelink",
    "reports_sharelinkview",
]


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_tenant_tables_are_keyed_by_organization_at_the_database(table):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT array_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint c
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
            WHERE c.conrelid = %s::regclass AND c.contype = 'p'
            """,
            [table],
        )
        assert cursor.fetchone()[0] == ["organization_id", "id"]


@pytest.mark.parametrize(
    ("table", "column", "target"),
    [
        ("reports_exportchunk", "job_id", "reports_exportjob"),
        ("reports_digestrecipient", "digest_id", "reports_digest"),
        ("reports_digestrecipient", "membership_id", "tenancy_membership"),
        ("reports_digestdelivery", "digest_id", "reports_digest"),
        ("reports_sharelinkview", "share_link_id", "reports_sharelink"),
    ],
)
def test_foreign_keys_between_tenant_tables_are_composite(table, column, target):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.confrelid::regclass::text,
                   array(SELECT attname FROM pg_attribute
                         WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey) ORDER BY attnum)
            FROM pg_constraint c
            WHERE c.conrelid = %s::regclass AND c.contype = 'f'
              AND (SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = %s)
                  = ANY(c.conkey)
            """,
            [table, column],
        )
        rows = cursor.fetchall()
    assert [(found, sorted(columns)) for found, columns in rows] == [
        (target, sorted(["organization_id", column]))
    ]


def test_unique_constraints_of_tenant_tables_include_the_organization():
    from django.apps import apps

    for model in apps.get_app_config("reports").get_models():
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields:
                assert fields[0] == "organization", (model.__name__, constraint.name)
        for field in model._meta.fields:
            assert not field.unique or field.primary_key, (model.__name__, field.name)
