"""Historical responses imported per second from a CSV file, through the API and a worker."""

from __future__ import annotations

import dataclasses
import http.client
import json
import time
import uuid

import redis

from bench.bench_metrics import _database, _django, _running_worker
from bench.environment import WORKER_REDIS_DB, BenchContext, BenchSetupError, with_redis_db
from bench.registry import Result, benchmark
from bench.server import running_server

FULL_ROWS = 10_000
QUICK_ROWS = 1_000
SLUG = "bench-response-import"
BAD_EVERY = 100  # one row in a hundred has a score out of range, to be reported
TIMEOUT = 900


@benchmark("response_import", title="Responses imported per second from a CSV file")
def response_import(context: BenchContext) -> list[Result]:
    """Rows per second of a CSV file of historical NPS responses: 10,000 rows (1,000 with
    --quick) of `submitted_at`, `channel`, `language`, the score and the comment, one row in a
    hundred with a score of 11 (reported, not saved). `POST /api/v1/orgs/<org>/response-imports/`
    with a write API key through a real gunicorn (2 sync workers) answers 202 at once and
    queues `import_responses`; one real Celery worker (solo pool, queue `default`, Redis
    database 13) validates each row as any response is validated and saves each batch of 1,000
    in one statement with its error rows and progress. The time runs from the start of the
    upload to the import's `finished_at`; the listeners' work that follows (rollups, alert
    rules) is queued, not included. Errors count rows not saved other than the bad ones, and
    bad rows not reported.
    """
    rows = QUICK_ROWS if context.quick else FULL_ROWS
    worker_redis = with_redis_db(context.redis_url, WORKER_REDIS_DB)
    redis.Redis.from_url(worker_redis).flushdb()  # tasks another benchmark's worker left
    app = dataclasses.replace(context, redis_url=worker_redis)
    prepared = _django(app, PREPARE, BENCH_SLUG=SLUG)
    body, bad = _file(rows, prepared["score"], prepared["comment"])
    with _running_worker(app, queues="default", timeout=120), running_server(app) as server:
        started = time.time()
        status, answer = _upload(server.port, prepared, body)
        if status != 202:
            raise BenchSetupError(f"the upload answered {status}: {answer!r}")
        accepted = time.time() - started
        finished = _wait(context, answer["id"])
    seconds = finished["finished_at"] - started
    return [
        Result(
            name="response_import.rows_per_second",
            figure=rows / seconds if seconds else 0.0,
            unit="rows/s",
            notes=f"{rows:,} rows in {seconds:.1f} s from upload to the import's end "
            f"({finished['created']:,} saved, {finished['errors']} reported); the upload "
            f"answered 202 in {accepted * 1000:.0f} ms",
            errors=abs(rows - bad - finished["created"]) + abs(bad - finished["errors"]),
        )
    ]


def _file(rows: int, score: str, comment: str) -> tuple[bytes, int]:
    lines = [f"submitted_at,channel,language,{score},{comment}"]
    bad = 0
    for n in range(rows):
        value = n % 11
        if n % BAD_EVERY == BAD_EVERY - 1:
            value, bad = 11, bad + 1
        lines.append(
            f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:{n % 60:02d}:00+02:00,"
            f"{('web', 'email', 'sms')[n % 3]},{('fi', 'sv', 'en')[n % 3]},{value},"
            f"{'Hyvä palvelu' if value >= 9 else ''}"
        )
    return ("\n".join(lines) + "\n").encode(), bad


def _upload(port: int, prepared: dict, data: bytes) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="survey"\r\n\r\n'
            f"{prepared['survey']}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="history.csv"'
            "\r\nContent-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(
            "POST",
            f"/api/v1/orgs/{SLUG}/response-imports/",
            body=body,
            headers={
                "Authorization": f"Bearer {prepared['key']}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _wait(context: BenchContext, public_id: str) -> dict[str, float]:
    deadline = time.monotonic() + TIMEOUT
    with _database(context) as cursor:
        while True:
            cursor.execute(
                "SELECT status, created_count, error_count, extract(epoch FROM finished_at) "
                "FROM surveys_responseimport WHERE public_id = %s",
                [public_id],
            )
            status, created, errors, finished_at = cursor.fetchone()
            if status in ("done", "failed"):
                break
            if time.monotonic() > deadline:
                raise BenchSetupError(f"import {public_id} still {status} after {TIMEOUT} s")
            time.sleep(0.02)
    if status != "done":
        raise BenchSetupError(f"import {public_id} failed")
    return {"created": created, "errors": errors, "finished_at": float(finished_at)}


PREPARE = """
import json, os, secrets
from accounts.services import api_key_create
from surveys.services.building import survey_create_from_template, survey_publish
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scoping import tenant_scope
from django.core.management import call_command

slug = os.environ["BENCH_SLUG"]
call_command(
    "create_organization", slug, "--name", slug, "--owner-email", f"{slug}@example.com",
    f"--owner-password={secrets.token_urlsafe(18)}",
)
organization = Organization.objects.get(slug=slug)
actor = Actor.system(organization)
with tenant_scope(organization):
    survey = survey_create_from_template(
        actor=actor, organization=organization, template_key="nps", name="History"
    )
    survey_publish(actor=actor, survey=survey)
    questions = list(survey.current_version.questions.order_by("position"))
    _key, full_key = api_key_create(
        actor=actor, organization=organization, name="bench", scope="write"
    )
print(json.dumps({
    "survey": survey.public_id,
    "key": full_key,
    "score": next(q.key for q in questions if q.type == "nps"),
    "comment": next(q.key for q in questions if q.type == "text"),
}))
"""
