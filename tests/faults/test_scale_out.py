"""The app on real scale-out parts (docs/scaling.md): PgBouncer in transaction mode in front of a
private primary, and a streaming replica made with `pg_basebackup -R`. Web (gunicorn), a Celery
worker and a management command all go through the pooler; metric reads go to the replica and
stay stale while its replay is paused, while submits and read-your-writes stay on the primary;
with the replica stopped, the same reads fall back to the primary without an error."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone

from bench.cluster import PrivateCluster, _as_postgres_user
from bench.environment import with_redis_db
from bench.server import free_port
from core import queues
from tests.plugins.private_postgres import DATABASE
from tests.plugins.production import production_env

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SETUP = """
import json
from accounts.services import api_key_create, user_create
from surveys.services import survey_create_from_template, survey_publish
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tenancy.services import organization_create

owner = user_create(email="owner@scale.example", password="scale-out-2026-owner")
organization = organization_create(name="Scale Oy", slug="scale", owner=owner)
actor = Actor.system(organization)
with tenant_scope(organization):
    _, key = api_key_create(actor=actor, organization=organization, name="kiosk", scope="write")
    survey = survey_create_from_template(
        actor=actor, organization=organization, template_key="nps", name="NPS"
    )
    survey_publish(actor=actor, survey=survey)
print(json.dumps({"key": key, "survey": survey.public_id}))
"""


def _psql(port: int, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At", "-c", sql, DATABASE],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


def _owned_by_postgres(directory: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")


@pytest.fixture(scope="module")
def replica(private_postgres):
    directory = Path(tempfile.mkdtemp(prefix="cxp-replica-"))
    _owned_by_postgres(directory)
    cluster = PrivateCluster(directory=directory, database=DATABASE, port=free_port())
    subprocess.run(
        [*_as_postgres_user(), "pg_basebackup", *private_postgres.client_options,
         "-D", str(cluster.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    cluster.start()
    yield cluster
    cluster.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pgbouncer(private_postgres):
    if not Path(PGBOUNCER).exists():
        pytest.fail("pgbouncer is missing: `apt-get install pgbouncer` (make test does this)")
    directory = Path(tempfile.mkdtemp(prefix="cxp-pgbouncer-"))
    _owned_by_postgres(directory)
    port = free_port()
    (directory / "users.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n{DATABASE} = host=127.0.0.1 port={private_postgres.port} dbname={DATABASE}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"unix_socket_dir = {directory}\nauth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\npool_mode = transaction\n"
        f"max_client_conn = 200\ndefault_pool_size = 10\n"
        f"logfile = {directory / 'pgbouncer.log'}\npidfile = {directory / 'pgbouncer.pid'}\n"
    )
    process = subprocess.Popen(
        [*_as_postgres_user(), PGBOUNCER, str(directory / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(port)]).returncode != 0:
        assert time.monotonic() < deadline, "pgbouncer did not start"
        time.sleep(0.2)
    yield f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"
    process.terminate()
    process.wait(timeout=20)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def stack_env(private_postgres, replica, pgbouncer):
    return production_env(
        DATABASE_URL=pgbouncer,
        DATABASE_DIRECT_URL=private_postgres.url,
        DATABASE_REPLICA_URL=replica.url,
        DISABLE_SERVER_SIDE_CURSORS="true",
        REDIS_URL=with_redis_db(os.environ["REDIS_URL"], 9),
        CELERY_TASK_ALWAYS_EAGER="false",
    )


@pytest.fixture(scope="module")
def organization(stack_env):
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def worker(stack_env):
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "cxplatform", "worker", "--pool", "solo",
         "-Q", ",".join(queues.ALL), "-n", f"scale-{os.getpid()}@%h", "--without-mingle",
         "--without-gossip"],
        cwd=ROOT, env=stack_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=30)


def _until(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_through_pgbouncer_with_a_replica_dashboards_read_the_replica_and_writes_the_primary(
    stack_env, organization, gunicorn_on, worker, private_postgres, replica
):
    server = gunicorn_on(
        stack_env["DATABASE_URL"], **{k: v for k, v in stack_env.items() if k != "DATABASE_URL"}
    )
    auth = {"Authorization": f"Bearer {organization['key']}", "Content-Type": "application/json"}
    today = timezone.localdate().isoformat()
    metrics = f"/api/v1/orgs/scale/metrics/?metric=nps&start={today}&end={today}&interval=day"

    def submit(score: int) -> str:
        body = {
            "survey": organization["survey"],
            "answers": [{"question": "score", "value": score}],
            "language": "fi",
        }
        status, _, payload = server.request("POST", "/api/v1/orgs/scale/responses/", body, auth)
        assert status == 201, payload[:300]
        return json.loads(payload)["id"]

    def answers_on_the_dashboard() -> int:
        status, _, payload = server.request("GET", metrics, None, auth)
        assert status == 200, payload[:300]
        return json.loads(payload)["total"]["n"]

    for _ in range(5):
        submit(9)
    _until(lambda: answers_on_the_dashboard() == 5)

    _psql(replica.port, "SELECT pg_wal_replay_pause()")
    newest = [submit(0) for _ in range(5)][-1]
    # Read-your-writes: the response just made is there at once, from the primary.
    status, _, payload = server.request(
        "GET", f"/api/v1/orgs/scale/responses/{newest}/", None, auth
    )
    assert status == 200 and json.loads(payload)["id"] == newest
    processed = "SELECT count(*) FROM surveys_response WHERE processed_at IS NOT NULL"
    _until(lambda: _psql(private_postgres.port, processed) == "10")  # the worker, via pgbouncer
    assert answers_on_the_dashboard() == 5  # the replica is paused: the dashboard lags

    _psql(replica.port, "SELECT pg_wal_replay_resume()")
    _until(lambda: answers_on_the_dashboard() == 10)

    replica.stop()
    try:
        assert answers_on_the_dashboard() == 10  # falls back to the primary, no error
    finally:
        replica.start()
