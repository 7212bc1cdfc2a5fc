"""Historical responses from CSV: queued as an import job, run by the task, reported per row."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import ActivityLog
from cxplatform.celery import app as celery_app
from surveys.enums import ImportStatus
from surveys.models import Answer, Response, ResponseImport, ResponseImportError
from surveys.tasks import import_responses
from tests.conftest import client_for
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"
HISTORY = (
    "submitted_at,channel,language,touchpoint,score,improve,liked,hidden_store\n"
    "{tp_row}"
    "2025-01-06,,sv,,10,,Great,S2\n"
    "2025-01-07,,fi,,7.5,,,S3\n"
    "not a date,,fi,,5,,,\n"
    "2025-01-08,,fi,tp_unknown,5,,,\n"
)


@pytest.fixture
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def survey(org):
    return make_survey(org)


def page_url(survey, job=None, suffix=""):
    url = f"/o/acme/surveys/{survey.public_id}/responses/import/"
    return url + (f"{job.public_id}/{suffix}" if job else "")


def upload_page(client, survey, text: str, captured):
    """Upload through the page and run what was queued after commit: the import task (eager),
    not the listeners of the responses it saves (they have tests of their own)."""
    file = SimpleUploadedFile("history.csv", text.encode(), content_type="text/csv")
    with captured() as callbacks:
        response = client.post(page_url(survey), {"file": file})
    for callback in callbacks:
        callback()
    return response


def history(org):
    touchpoint = make_touchpoint(org)
    row = f"2025-01-05T10:00:00+02:00,email,fi,{touchpoint.public_id},3,Slow,,S1\n"
    return touchpoint, HISTORY.format(tp_row=row)


def test_valid_rows_are_saved_and_bad_ones_listed_with_row_and_field(
    org, survey, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    touchpoint, text = history(org)
    response = upload_page(cx_client, survey, text, django_capture_on_commit_callbacks)
    job = ResponseImport.all_objects.get()
    assert response.status_code == 302 and response["Location"] == page_url(survey, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.content == ""
    assert (job.total_rows, job.processed_rows, job.created_count, job.error_count) == (5, 5, 2, 3)
    imported = Response.all_objects.order_by("submitted_at")
    assert [r.channel for r in imported] == ["email", "import"]
    assert imported[0].touchpoint == touchpoint and imported[1].hidden_fields == {"store": "S2"}
    assert imported[1].submitted_at.isoformat() == "2025-01-05T22:00:00+00:00"  # Helsinki midnight

    page = cx_client.get(page_url(survey, job)).content.decode()
    assert "hx-trigger" not in page  # finished: no more polling
    for row, field in (("4", "score"), ("5", "submitted_at"), ("6", "touchpoint")):
        assert f"<td>{row}</td><td><code>{field}</code></td>" in page
    assert "Enter a whole number." in page
    report = cx_client.get(page_url(survey, job, "errors.csv")).content.decode()
    assert list(csv.reader(io.StringIO(report)))[1:] == [
        ["4", "score", "Enter a whole number."],
        ["5", "submitted_at", "Use ISO 8601, e.g. 2025-03-31T14:05:00+03:00."],
        ["6", "touchpoint", "No such touchpoint."],
    ]
    assert ActivityLog.all_objects.filter(action="surveys.responses.imported").exists()


def test_the_same_file_again_saves_nothing_twice_but_identical_rows_are_separate_answers(
    org, survey, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    text = "submitted_at,score\n2025-02-01,9\n2025-02-01,9\n2025-02-02,3\n"
    upload_page(cx_client, survey, text, django_capture_on_commit_callbacks)
    assert Response.all_objects.count() == 3  # two people can answer alike on one day
    upload_page(cx_client, survey, text, django_capture_on_commit_callbacks)
    again = ResponseImport.all_objects.order_by("id").last()
    assert (again.created_count, again.duplicate_count) == (0, 3)
    assert Response.all_objects.count() == 3


def test_a_rerun_after_a_crash_goes_on_without_duplicating_rows(
    org, survey, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    text = "submitted_at,score\n" + "".join(
        f"2025-03-{day:02d},{day % 11}\n" for day in range(1, 29)
    )
    upload_page(cx_client, survey, text, django_capture_on_commit_callbacks)
    job = ResponseImport.all_objects.get()
    assert job.created_count == 28
    # As if the worker had died before recording its last batch: the task is delivered again.
    ResponseImport.all_objects.filter(pk=job.pk).update(
        status=ImportStatus.QUEUED, processed_rows=10, content=text
    )
    assert import_responses(organization_id=org.pk, import_id=job.pk) == 28
    assert Response.all_objects.count() == 28
    job.refresh_from_db()
    assert (job.status, job.duplicate_count) == (ImportStatus.DONE, 18)
    assert import_responses(organization_id=org.pk, import_id=job.pk) is None  # over: no-op


def test_ten_thousand_rows_complete_through_the_task_with_a_report(
    org, survey, cx_client, eager_tasks, django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):  # fmt: skip
    lines = ["submitted_at,channel,score,liked"]
    for n in range(10_000):
        score = "eleven" if n % 1000 == 7 else str(n % 11)
        lines.append(f"2025-04-{n % 28 + 1:02d}T{n % 24:02d}:00:00+03:00,web,{score},")
    file = SimpleUploadedFile("big.csv", ("\n".join(lines) + "\n").encode())
    with django_capture_on_commit_callbacks() as callbacks:
        assert cx_client.post(page_url(survey), {"file": file}).status_code == 302
    (enqueue,) = callbacks
    # Ten batches of 1,000 rows, a few queries each, whatever their number of rows.
    with django_assert_max_num_queries(80):
        enqueue()
    job = ResponseImport.all_objects.get()
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == (
        ImportStatus.DONE,
        10_000,
        9_990,
        10,
    )
    assert Response.all_objects.filter(survey=survey).count() == 9_990
    assert Answer.all_objects.count() == 9_990
    survey.refresh_from_db()
    assert survey.response_count == 9_990
    assert list(
        ResponseImportError.all_objects.values_list("row_number", "column").order_by("row_number")
    ) == [(n + 2, "score") for n in range(7, 10_000, 1000)]


def test_progress_is_polled_with_htmx_while_the_import_waits(
    org, survey, cx_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():  # queued, never run
        cx_client.post(
            page_url(survey),
            {"file": SimpleUploadedFile("h.csv", b"submitted_at,score\n2025-01-01,9\n")},
        )
    job = ResponseImport.all_objects.get()
    page = cx_client.get(page_url(survey, job)).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Refresh to see progress" in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>")[0]
    fragment = cx_client.get(page_url(survey, job), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<section") and "0 of 1 rows" in fragment


def test_a_file_with_unknown_columns_is_refused_on_the_page_before_anything_is_queued(
    survey, cx_client
):
    file = SimpleUploadedFile("h.csv", b"submitted_at,colour\n2025-01-01,blue\n")
    response = cx_client.post(page_url(survey), {"file": file})
    assert response.status_code == 400
    assert "unknown columns: colour" in response.content.decode()
    assert not ResponseImport.all_objects.exists()


def test_outsiders_get_404_and_viewers_cannot_upload(
    org, other_org, survey, personas, cx_client, viewer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        cx_client.post(
            page_url(survey),
            {"file": SimpleUploadedFile("h.csv", b"submitted_at,score\n2025-01-01,9\n")},
        )
    job = ResponseImport.all_objects.get()
    outsider = client_for(personas.outsider)
    for url in (page_url(survey), page_url(survey, job), page_url(survey, job, "errors.csv")):
        assert outsider.get(url).status_code == 404, url
        assert viewer_client.get(url).status_code == 200, url
    # Their own organization's URL with our import's id: still not found.
    foreign = make_survey(other_org)
    assert outsider.get(page_url(foreign, job).replace("/acme/", "/rival/")).status_code == 404
    file = SimpleUploadedFile("h.csv", b"submitted_at,score\n2025-01-01,9\n")
    assert viewer_client.post(page_url(survey), {"file": file}).status_code == 403


# --- API ---------------------------------------------------------------------------------------


def api_upload(client, survey, text: str):
    file = io.BytesIO(text.encode())
    file.name = "history.csv"
    return client.post(
        f"{BASE}/response-imports/", {"survey": survey.public_id, "file": file}, format="multipart"
    )


def test_api_queues_the_file_and_reports_each_failed_row(
    org, survey, write_api, outsider_api, eager_tasks, django_capture_on_commit_callbacks
):
    _touchpoint, text = history(org)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        accepted = api_upload(write_api, survey, text)
    assert accepted.status_code == 202, accepted.json()
    body = accepted.json()
    assert body["status"] == "queued" and body["total_rows"] == 5
    assert accepted["Location"] == f"{BASE}/response-imports/{body['id']}/"
    for callback in callbacks:
        callback()
    report = write_api.get(accepted["Location"]).json()
    assert (report["status"], report["created"], report["failed"]) == ("done", 2, 3)
    assert report["errors"] == [
        {"row": 4, "field": "score", "message": "Enter a whole number."},
        {
            "row": 5,
            "field": "submitted_at",
            "message": "Use ISO 8601, e.g. 2025-03-31T14:05:00+03:00.",
        },
        {"row": 6, "field": "touchpoint", "message": "No such touchpoint."},
    ]
    assert outsider_api.get(accepted["Location"]).status_code == 404
    assert outsider_api.get(f"/api/v1/orgs/rival/response-imports/{body['id']}/").status_code == 404


def test_api_refuses_unknown_columns_with_400_and_read_keys_with_403(survey, write_api, read_api):
    refused = api_upload(write_api, survey, "submitted_at,colour\n2025-01-01,blue\n")
    assert refused.status_code == 400
    assert refused.json()["extra"]["unknown_columns"] == ["colour"]
    assert api_upload(read_api, survey, "submitted_at,score\n2025-01-01,9\n").status_code == 403


def test_womi_and_multiple_choice_columns(
    org, write_api, eager_tasks, django_capture_on_commit_callbacks
):
    labels = {"min": texts("no"), "max": texts("yes")}
    choices = [{"value": v, "texts": texts(v)} for v in ("price", "speed")]
    survey = make_survey(
        org,
        questions=[
            {"key": "w", "type": "womi", "texts": texts("W"), "texts_secondary": texts("D"),
             "labels": labels},
            {"key": "topics", "type": "multiple_choice", "texts": texts("T"), "choices": choices},
        ],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_upload(
            write_api, survey, "submitted_at;w;w__discourage;topics\n2025-02-01;9;1;price|speed\n"
        )
    for callback in callbacks:
        callback()
    answers = {a.question.key: a for a in Answer.all_objects.all()}
    assert (answers["w"].value_int, answers["w"].value_int_2) == (9, 1)
    assert answers["topics"].value_choices == ["price", "speed"]


def test_an_import_whose_task_was_lost_is_picked_up_by_the_sweep(
    org, survey, cx_client, eager_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from surveys.tasks import sweep_response_imports

    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: never sent
        cx_client.post(
            page_url(survey),
            {"file": SimpleUploadedFile("h.csv", b"submitted_at,score\n2025-01-01,9\n")},
        )
    assert sweep_response_imports() == 0  # queued a moment ago: its task may still come
    ResponseImport.all_objects.update(updated_at=timezone.now() - timedelta(minutes=2))
    assert sweep_response_imports() == 1
    job = ResponseImport.all_objects.get()
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1)


def test_api_upload_with_an_idempotency_key_queues_one_import(survey, write_api):
    def send(text: str):
        file = io.BytesIO(text.encode())
        file.name = "history.csv"
        return write_api.post(
            f"{BASE}/response-imports/",
            {"survey": survey.public_id, "file": file},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first = send("submitted_at,score\n2025-01-01,9\n")
    again = send("submitted_at,score\n2025-01-01,9\n")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    other = send("submitted_at,score\n2025-01-02,3\n")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert ResponseImport.all_objects.count() == 1
