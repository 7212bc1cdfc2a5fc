"""Response exports through the API: start a job, poll it, download the file; the browser's
export jobs, built by the same task."""

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core.models import ActivityLog
from core.scoping import tenant_scope
from reports.models import ExportJob, ExportStatus
from surveys.services import response_submit
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/exports/"
HELSINKI = ZoneInfo("Europe/Helsinki")
MARCH = {"range": "custom", "from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def survey(org):
    return make_survey(org, name="After purchase", touchpoint=make_touchpoint(org))


@pytest.fixture
def march_responses(org, survey):
    with tenant_scope(org):
        return [
            response_submit(
                organization=org,
                survey=survey,
                answers={"score": score},
                channel=channel,
                language="fi",
                submitted_at=datetime(2026, 3, day, 12, tzinfo=HELSINKI),
            )
            for day, score, channel in [(2, 9, "web"), (3, 4, "email"), (4, 10, "web")]
        ]


@pytest.fixture
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def start(api, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(URL, fields, format="json")


def test_export_job_runs_and_its_csv_downloads(
    read_api, org, march_responses, eager_tasks, django_capture_on_commit_callbacks
):
    started = start(read_api, django_capture_on_commit_callbacks, format="csv", **MARCH)

    assert started.status_code == 202, started.json()
    job = started.json()
    assert job["id"].startswith("exp_")
    assert started["Location"] == f"{URL}{job['id']}/"
    assert job["filters"] == {"range": "custom", "from": "2026-03-01", "to": "2026-03-31"}

    polled = read_api.get(started["Location"]).json()
    assert polled["status"] == "ready"
    assert polled["total_rows"] == 3
    assert polled["download_url"] == f"http://testserver{URL}{job['id']}/download/"

    download = read_api.get(polled["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == f'attachment; filename="responses-{job["id"]}.csv"'
    frame = pd.read_csv(io.BytesIO(b"".join(download.streaming_content)), dtype=str)
    assert frame["score"].tolist() == ["9", "4", "10"]
    actions = ActivityLog.all_objects.filter(organization=org).values_list("action", flat=True)
    assert sorted(actions) == ["reports.export.created", "reports.export.downloaded"]


def test_json_lines_export_has_one_object_per_response_with_integer_scores(
    write_api, march_responses, eager_tasks, django_capture_on_commit_callbacks
):
    job = start(
        write_api, django_capture_on_commit_callbacks, format="jsonl", channel="web", **MARCH
    ).json()

    download = write_api.get(f"{URL}{job['id']}/download/")
    assert download["Content-Type"] == "application/jsonl"
    lines = b"".join(download.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["score"] for row in rows] == [9, 10]
    assert rows[0]["response_id"] == march_responses[0].public_id
    assert rows[0]["submitted_at"] == "2026-03-02T12:00:00+02:00"


def test_a_job_still_running_is_not_downloadable_yet(write_api, march_responses):
    # Tasks are not eager here and no worker runs: the job stays queued.
    job = write_api.post(URL, {"format": "xlsx", **MARCH}, format="json").json()
    assert job["status"] == "queued"
    assert job["download_url"] is None

    download = write_api.get(f"{URL}{job['id']}/download/")
    assert download.status_code == 409
    assert download.json()["code"] == "export_not_ready"


def test_bad_filters_are_field_errors(write_api, survey):
    response = write_api.post(
        URL,
        {"format": "pdf", "range": "custom", "from": "2026-03-31", "to": "2026-03-01"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"format"}

    response = write_api.post(
        URL, {"range": "custom", "from": "2026-03-31", "to": "2026-03-01"}, format="json"
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["extra"]["fields"]

    response = write_api.post(URL, {"survey": "srv_nothere"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["survey"] == ["No such item in this organization."]
    assert not ExportJob.all_objects.exists()


def test_a_survey_of_another_organization_is_not_found(write_api, other_org):
    theirs = make_survey(other_org, touchpoint=make_touchpoint(other_org))
    response = write_api.post(URL, {"survey": theirs.public_id}, format="json")
    assert response.status_code == 400
    assert "survey" in response.json()["extra"]["fields"]


def test_viewer_may_not_export_and_outsider_finds_nothing(client, personas, org, outsider_api):
    client.force_login(personas.viewer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {}, content_type="application/json").status_code == 403

    job = ExportJob.all_objects.create(
        organization=org, format="csv", expires_at=datetime(2100, 1, 1, tzinfo=HELSINKI)
    )
    assert outsider_api.get(f"{URL}{job.public_id}/").status_code == 404
    assert outsider_api.get(f"{URL}{job.public_id}/download/").status_code == 404


def test_export_list_shows_the_organizations_jobs_newest_first(write_api, org, other_org):
    later = datetime(2100, 1, 1, tzinfo=HELSINKI)
    first = ExportJob.all_objects.create(organization=org, format="csv", expires_at=later)
    second = ExportJob.all_objects.create(
        organization=org, format="jsonl", expires_at=later, status=ExportStatus.FAILED
    )
    ExportJob.all_objects.create(organization=other_org, format="csv", expires_at=later)

    listed = write_api.get(URL).json()["results"]
    assert [job["id"] for job in listed] == [second.public_id, first.public_id]
