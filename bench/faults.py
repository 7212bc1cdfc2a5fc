"""`python -m bench.faults` (what `make faults` runs): faults injected into the real stack under
load, and what became of every answer.

The stack is production's: gunicorn (2 workers, DEBUG off), one Celery worker on every queue and
one beat, against a PostgreSQL cluster of this run's own (initdb into a temporary directory; the
machine's shared cluster is never restarted) and a Redis database of its own (the shared Redis
is never flushed, only that database). Load for each fault: integrators posting responses to
the API (a well-behaved client: a 503 or a refused connection is retried with the same
Idempotency-Key) and respondents posting the survey form (a 503 page is sent again). Per fault:
requests made, answers accepted (2xx/302), stored (rows), counted (in the rollups), HTTP 500s
(503s are the expected answer while the database is away and are shown apart), and the seconds
from the fault's end until everything accepted was stored and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis

from bench.cluster import PrivateCluster
from bench.environment import PROJECT_ROOT
from bench.server import free_port

REDIS_DB = 12
DATABASE = "cxp_faults"
SLUG = "faults"
API_RATE = 10  # requests per second from integrators
FORM_RATE = 3  # respondents per second
PHASE_SECONDS = 20
FAULT_AT = 5  # seconds into the phase
RECOVERY_LIMIT = 120
# Run inside Django (`manage.py shell -c`): a published NPS survey and a write key.
SEED = """
import json
from accounts.services import api_key_create
from surveys import services
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scoping import tenant_scope
organization = Organization.objects.get(slug="faults")
with tenant_scope(organization):
    actor = Actor.system(organization)
    survey = services.survey_create_from_template(
        actor=actor, organization=organization, template_key="nps", name="Faults"
    )
    services.survey_publish(actor=actor, survey=survey)
    _key, raw = api_key_create(actor=actor, organization=organization, name="faults", scope="write")
print(json.dumps({"survey": survey.public_id, "slug": survey.link_slug, "key": raw}))
"""


@dataclass
class Tally:
    requests: int = 0
    accepted: int = 0
    server_errors: int = 0  # 500s: never acceptable
    unavailable: int = 0  # 503s: the expected answer while the database is away
    refused: int = 0  # 4xx: the script's own request was wrong
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Stack:
    """The private PostgreSQL cluster, and gunicorn, a worker and beat against it."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.cluster: PrivateCluster | None = None
        self.web_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        base = urllib.parse.urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.redis_url = urllib.parse.urlunsplit(base._replace(path=f"/{REDIS_DB}"))

    def create_cluster(self) -> None:
        self.cluster = PrivateCluster.create(self.scratch, DATABASE)

    @property
    def database_url(self) -> str:
        return self.cluster.url

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        connection = psycopg2.connect(self.database_url, connect_timeout=3)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()
        finally:
            connection.close()

    # --- the application ---

    def environ(self) -> dict[str, str]:
        keep = {"PATH", "HOME", "LANG", "STATIC_MANIFEST"}
        environ = {key: value for key, value in os.environ.items() if key in keep}
        environ.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            SECRET_KEY="faults-" + uuid.uuid4().hex,
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1",
            GUNICORN_BIND=f"127.0.0.1:{self.web_port}",
            TRUSTED_PROXY_COUNT="1",
            # Static files from the checkout: this run does not collect them.
            STATIC_MANIFEST=os.environ.get("STATIC_MANIFEST", "false"),
            WEB_CONCURRENCY="2",
        )
        return environ

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str) -> None:
        commands = {
            "web": [str(Path(sys.executable).parent / "gunicorn"), "-c",
                    "cxplatform/gunicorn.conf.py", "cxplatform.wsgi"],
            "worker": [sys.executable, "-m", "celery", "-A", "cxplatform", "worker", "--pool",
                       "solo", "-Q", "default,metrics,alerts,notifications", "--without-mingle",
                       "--without-gossip", "-n", f"faults-{uuid.uuid4().hex[:6]}@%h"],
            "beat": [sys.executable, "-m", "celery", "-A", "cxplatform", "beat"],
        }  # fmt: skip
        log = (self.scratch / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            commands[name],
            cwd=PROJECT_ROOT,
            env=self.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def web_worker_pids(self) -> list[int]:
        master = self.processes["web"].pid
        result = subprocess.run(
            ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in result.stdout.split()]

    def wait_for_web(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _request(self.web_port, "GET", "/livez")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn did not start")

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.cluster is not None:
            self.cluster.close()


def _request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None
) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Load:
    """Integrators and respondents, each answer retried until accepted or the phase's deadline."""

    def __init__(self, stack: Stack, seeded: dict, tally: Tally):
        self.stack, self.seeded, self.tally = stack, seeded, tally
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _deliver(self, send: Callable[[], int], accepted: set[int], deadline: float) -> None:
        while time.monotonic() < deadline:
            self.tally.add(requests=1)
            try:
                status = send()
            except OSError:
                status = 0  # refused: a web worker was restarting
            if status in accepted:
                self.tally.add(accepted=1)
                return
            if 400 <= status < 500 and status != 429:
                self.tally.add(refused=1)  # a defect of this script, reported
                return
            if status == 500:
                self.tally.add(server_errors=1)
            elif status == 503:
                self.tally.add(unavailable=1)
            time.sleep(1)

    def _api_answer(self, deadline: float) -> None:
        body = json.dumps(
            {
                "survey": self.seeded["survey"],
                "channel": "kiosk",
                "language": "fi",
                "answers": [{"question": "score", "value": 7}],
            }
        ).encode()
        headers = {
            "Authorization": f"Bearer {self.seeded['key']}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        path = f"/api/v1/orgs/{SLUG}/responses/"
        self._deliver(
            lambda: _request(self.stack.web_port, "POST", path, body, headers)[0], {201}, deadline
        )

    def _form_answer(self, deadline: float) -> None:
        fields = {"score": "9", "seen": "score,improve,liked", "submission": uuid.uuid4().hex}
        body = urllib.parse.urlencode(fields).encode()
        # Each respondent from an address of their own, as seen by our proxy.
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": address}
        path = f"/s/{self.seeded['slug']}/"
        self._deliver(
            lambda: _request(self.stack.web_port, "POST", path, body, headers)[0], {302}, deadline
        )

    def run(self, seconds: float) -> None:
        """Start answers at the set rates for `seconds`; each may retry for 60 s more."""
        started = time.monotonic()
        api_next = form_next = started
        while time.monotonic() - started < seconds:
            now = time.monotonic()
            if now >= api_next:
                self._spawn(self._api_answer)
                api_next += 1 / API_RATE
            if now >= form_next:
                self._spawn(self._form_answer)
                form_next += 1 / FORM_RATE
            time.sleep(0.01)

    def _spawn(self, answer: Callable[[float], None]) -> None:
        thread = threading.Thread(target=answer, args=(time.monotonic() + 60,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(90)


def _stored_and_counted(stack: Stack) -> tuple[int, int]:
    try:
        [(stored, counted)] = stack.sql(
            "SELECT count(*), count(processed_at) FROM surveys_response r "
            "JOIN tenancy_organization o ON o.id = r.organization_id WHERE o.slug = %s",
            (SLUG,),
        )
    except psycopg2.OperationalError:
        return -1, -1
    return stored, counted


# --- the faults -------------------------------------------------------------------------------


def database_restart(stack: Stack) -> None:
    stack.cluster.restart()


def database_down(stack: Stack) -> None:
    stack.cluster.stop()
    time.sleep(10)
    stack.cluster.start()


def redis_flushed(stack: Stack) -> None:
    """The worker is away while work queues up; then Redis loses everything it held."""
    stack.stop("worker")
    time.sleep(5)
    redis.Redis.from_url(stack.redis_url).flushdb()
    stack.start("worker")


def worker_killed(stack: Stack) -> None:
    stack.stop("worker", signal.SIGKILL)
    time.sleep(3)
    stack.start("worker")


def web_worker_killed(stack: Stack) -> None:
    for pid in stack.web_worker_pids()[:1]:
        os.kill(pid, signal.SIGKILL)


def beat_doubled(stack: Stack) -> None:
    """A second beat beside the first (a deploy overlap): it must wait, not act."""
    log = (stack.scratch / "beat-2.log").open("ab")
    second = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cxplatform", "beat"],
        cwd=PROJECT_ROOT,
        env=stack.environ(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(10)
    os.killpg(second.pid, signal.SIGTERM)
    second.wait(30)


FAULTS: dict[str, Callable[[Stack], None]] = {
    "none (baseline)": lambda stack: None,
    "PostgreSQL fast restart": database_restart,
    "PostgreSQL down 10 s": database_down,
    "Redis flushed with work queued": redis_flushed,
    "Celery worker killed (SIGKILL)": worker_killed,
    "gunicorn worker killed (SIGKILL)": web_worker_killed,
    "second beat started": beat_doubled,
}


def run_phase(stack: Stack, seeded: dict, fault: Callable[[Stack], None]) -> dict:
    before_stored, _ = _stored_and_counted(stack)
    tally = Tally()
    started = time.monotonic()
    load = Load(stack, seeded, tally)
    loader = threading.Thread(target=load.run, args=(PHASE_SECONDS,))
    loader.start()
    time.sleep(FAULT_AT)
    fault(stack)
    fault_end = time.monotonic()
    loader.join()
    load.finish()
    answered = time.monotonic()
    recovered = None
    while time.monotonic() - answered < RECOVERY_LIMIT:
        stored, counted = _stored_and_counted(stack)
        if stored - before_stored == tally.accepted and counted == stored:
            recovered = time.monotonic() - answered
            break
        time.sleep(0.5)
    stored, counted = _stored_and_counted(stack)
    return {
        "fault_seconds": fault_end - started - FAULT_AT,
        "refused": tally.refused,
        "requests": tally.requests,
        "accepted": tally.accepted,
        "stored": stored - before_stored,
        "counted": counted - before_stored,
        "500": tally.server_errors,
        "503": tally.unavailable,
        "recovery": recovered,
    }


def report(results: dict[str, dict]) -> str:
    lines = [
        "| fault | lasted | requests | accepted | stored | counted | 500s | 503s | "
        "all counted after the last answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        recovery = f"{row['recovery']:.1f} s" if row["recovery"] is not None else "NOT RECOVERED"
        lines.append(
            f"| {name} | {row['fault_seconds']:.1f} s | {row['requests']:,} | "
            f"{row['accepted']:,} | {row['stored']:,} | {row['counted']:,} | {row['500']} | "
            f"{row['503']} | {recovery} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run faults whose name has this"
    )
    options = parser.parse_args(argv)
    if shutil.which("initdb") is None:
        print("faults: PostgreSQL's initdb is not on PATH", file=sys.stderr)
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="cxp-faults-"))
    stack = Stack(scratch)
    try:
        print("Creating a private PostgreSQL cluster and migrating...", flush=True)
        stack.create_cluster()
        redis.Redis.from_url(stack.redis_url).flushdb()
        stack.manage("migrate", "--no-input", "-v", "0")
        stack.manage(
            "create_organization", SLUG, "--name", "Faults", "--owner-email",
            "faults@example.com", f"--owner-password={uuid.uuid4().hex}",
        )  # fmt: skip
        seeded = json.loads(stack.manage("shell", "-c", SEED).splitlines()[-1])
        for name in ("web", "worker", "beat"):
            stack.start(name)
        stack.wait_for_web()
        time.sleep(5)  # the worker and beat come up
        results = {}
        for name, fault in FAULTS.items():
            if options.only and not any(part in name for part in options.only):
                continue
            print(f"Fault: {name}...", flush=True)
            results[name] = run_phase(stack, seeded, fault)
        table = report(results)
        print("\n" + table)
        bad = any(
            row["500"]
            or row["refused"]
            or row["recovery"] is None
            or row["stored"] != row["accepted"]
            for row in results.values()
        )
        return 1 if bad else 0
    finally:
        stack.close()
        print(f"Logs: {scratch}" if os.environ.get("FAULTS_KEEP_LOGS") else "", end="")
        if not os.environ.get("FAULTS_KEEP_LOGS"):
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
