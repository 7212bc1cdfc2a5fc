"""`python -m bench.faults` (what `make faults` runs): faults injected into the real stack under
load, and what became of every answer and every invitation.

The stack is production's: gunicorn (3 workers, DEBUG off), one Celery worker on every queue and
one beat, against a PostgreSQL cluster of this run's own (initdb into a temporary directory; the
machine's shared cluster is never restarted) and a Redis database of its own (the shared Redis
is never flushed, only that database); mail goes to a local SMTP server (aiosmtpd) and SMS through
the twilio SDK to a local fake Twilio, both of which the faults can break. Load in every phase:
integrators posting responses to the API (a well-behaved client: a 503 is retried after its
`Retry-After`, a refused connection after a second, with the same Idempotency-Key),
respondents posting the survey form (a 503 page is sent again), and integrators triggering
email and SMS invitations (retried with the same event id).
Per fault: requests made, answers accepted (2xx/302), stored (rows), counted (in the rollups),
HTTP 500s (503s are the expected answer while the database is away and are shown apart),
invitations accepted, received by their person and received twice, the 95th percentile of the
request latency, and the seconds from the last request until everything accepted was stored,
counted and delivered. A soak of mixed traffic (writes and reads) ends the run.
"""

from __future__ import annotations

import argparse
import json
import logging
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
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import NamedTuple

import psycopg2
import redis

from bench.cluster import PrivateCluster
from bench.environment import PROJECT_ROOT
from bench.server import free_port
from core import queues

REDIS_DB = 12
DATABASE = "cxp_faults"
SLUG = "faults"
# Requests per second of each kind of traffic: the writes run in every phase, the reads join
# them in the soak (25 requests/s in all: what this 2-core machine serves steadily with the web
# processes, worker, beat, PostgreSQL, Redis and this load on it together).
WRITES = {"api_answer": 10, "form_answer": 3, "email_invitation": 2, "sms_invitation": 2}
READS = {"survey_page": 4, "api_responses": 3, "api_metrics": 1}
PHASE_SECONDS = 35  # room for the longest fault (25 s) to happen under load
FAULT_AT = 5  # seconds into the phase
SOAK_SECONDS = 300
RECOVERY_LIMIT = 150  # a message the provider refused waits for its retry (30 s, then 60 s)
SMS_SENDER = "+358451230001"  # the organization's own number, so replies are read
PUBLIC_BASE_URL = "https://cx.example.com"  # what Twilio signs; requests go to the local port
# Run inside Django (`manage.py shell -c`): a published NPS survey and a write key.
SEED = """
import json
from django.db import transaction
from accounts.services import api_key_create
from surveys import services
from distribution.services.configuration import distribution_settings_update
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
    with transaction.atomic():
        distribution_settings_update(actor=actor, organization=organization, sms_sender="<SENDER>")
print(json.dumps({"survey": survey.public_id, "slug": survey.link_slug, "key": raw}))
"""


@dataclass
class Tally:
    requests: int = 0
    accepted: int = 0
    server_errors: int = 0  # 500s: never acceptable
    unavailable: int = 0  # 503s: the expected answer while the database is away
    refused: int = 0  # 4xx: the script's own request was wrong
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    invited: dict[str, set[str]] = field(default_factory=lambda: {"email": set(), "sms": set()})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def timed(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_kind.setdefault(kind, []).append(seconds)

    def slowest(self) -> str:
        """The 95th percentile of each kind of request, slowest first."""
        with self.lock:
            kinds = {kind: sorted(times) for kind, times in self.by_kind.items()}
        p95 = {kind: times[int(len(times) * 0.95)] for kind, times in kinds.items()}
        ranked = sorted(p95.items(), key=lambda item: -item[1])
        return ", ".join(f"{kind} {seconds * 1000:.0f} ms" for kind, seconds in ranked)

    def percentile(self, share: float) -> float:
        with self.lock:
            ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


class Providers:
    """The mail and SMS providers the platform sends through: a local SMTP server (which a fault
    stops and starts again on the same port) and a fake Twilio (which a fault makes fail)."""

    def __init__(self):
        from tests.plugins.fake_twilio import FakeTwilio, _handler
        from tests.plugins.smtp import Outbox

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.outbox = Outbox()
        self.smtp_port = free_port()
        self.smtp = None
        self.start_smtp()
        self.twilio = FakeTwilio()
        self.twilio_server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.twilio))
        threading.Thread(target=self.twilio_server.serve_forever, daemon=True).start()
        self.twilio_url = f"http://127.0.0.1:{self.twilio_server.server_address[1]}"

    def start_smtp(self) -> None:
        from aiosmtpd.controller import Controller

        from tests.plugins.smtp import _CollectingHandler

        self.smtp = Controller(
            _CollectingHandler(self.outbox), hostname="127.0.0.1", port=self.smtp_port
        )
        self.smtp.start()

    def stop_smtp(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None

    def received(self) -> Counter:
        """Messages received per address (email recipient or phone number)."""
        received = Counter(
            address.lower() for message in list(self.outbox) for address in message.to
        )
        received.update(message["To"] for message in list(self.twilio.messages))
        return received

    def close(self) -> None:
        self.stop_smtp()
        self.twilio_server.shutdown()
        self.twilio_server.server_close()


class Stack:
    """The private PostgreSQL cluster and the providers, and gunicorn, a worker and beat."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.cluster: PrivateCluster | None = None
        self.providers = Providers()
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
        from tests.plugins.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

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
            WEB_CONCURRENCY="3",  # gunicorn.conf.py's default
            # One key sends all of the load: the per-key limit would answer its bursts with 429.
            API_RATE_LIMIT_PER_MINUTE="100000000",
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            EMAIL_URL=f"smtp://127.0.0.1:{self.providers.smtp_port}",
            EMAIL_TIMEOUT="5",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_API_BASE_URL=self.providers.twilio_url,
            TWILIO_DEFAULT_SENDER="+358400000000",
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
                       "solo", "-Q", ",".join(queues.ALL), "--without-mingle",
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
                if _request(self.web_port, "GET", "/livez").status == 200:
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
        self.providers.close()


class Reply(NamedTuple):
    status: int
    body: bytes
    retry_after: float  # seconds a well-behaved client waits before trying again


def _request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None
) -> Reply:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        retry_after = response.getheader("Retry-After") or "1"
        wait = float(retry_after) if retry_after.isdigit() else 1.0
        return Reply(response.status, response.read(), wait)
    finally:
        connection.close()


def _signed_twilio_post(port: int, url: str, params: dict) -> int:
    """A webhook as Twilio sends it: form-encoded, signed over the public URL."""
    from twilio.request_validator import RequestValidator

    from tests.plugins.fake_twilio import AUTH_TOKEN

    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    path = url.removeprefix(PUBLIC_BASE_URL)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return _request(port, "POST", path, urllib.parse.urlencode(params).encode(), headers).status


class Load:
    """Integrators, respondents and readers, each write retried until accepted or its deadline."""

    def __init__(self, stack: Stack, seeded: dict, tally: Tally, numbers: count):
        self.stack, self.seeded, self.tally, self.numbers = stack, seeded, tally, numbers
        self.factor = 1  # a burst multiplies every rate
        self.threads: list[threading.Thread] = []
        self.api_headers = {
            "Authorization": f"Bearer {seeded['key']}",
            "Content-Type": "application/json",
        }

    def send(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Reply:
        self.tally.add(requests=1)
        started = time.monotonic()
        try:
            reply = _request(self.stack.web_port, method, path, body, headers)
        except OSError:
            reply = Reply(0, b"", 1.0)  # refused: a web worker was restarting
        self.tally.timed(f"{method} {path.split('?')[0]}", time.monotonic() - started)
        if reply.status == 500:
            self.tally.add(server_errors=1)
        elif reply.status == 503:
            self.tally.add(unavailable=1)
        return reply

    def _deliver(self, send: Callable[[], Reply], accepted: set[int], deadline: float) -> bool:
        """Send until accepted; a 503 or 429 is sent again after its Retry-After."""
        while time.monotonic() < deadline:
            reply = send()
            if reply.status in accepted:
                return True
            if 400 <= reply.status < 500 and reply.status != 429:
                self.tally.add(refused=1)  # a defect of this script, reported
                return False
            time.sleep(reply.retry_after)
        return False

    def api_answer(self, deadline: float) -> None:
        body = json.dumps(
            {
                "survey": self.seeded["survey"],
                "channel": "kiosk",
                "language": "fi",
                "answers": [{"question": "score", "value": 7}],
            }
        ).encode()
        headers = {**self.api_headers, "Idempotency-Key": uuid.uuid4().hex}
        path = f"/api/v1/orgs/{SLUG}/responses/"
        if self._deliver(lambda: self.send("POST", path, body, headers), {201}, deadline):
            self.tally.add(accepted=1)

    def form_answer(self, deadline: float) -> None:
        fields = {"score": "9", "seen": "score,improve,liked", "submission": uuid.uuid4().hex}
        body = urllib.parse.urlencode(fields).encode()
        # Each respondent from an address of their own, as seen by our proxy.
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": address}
        path = f"/s/{self.seeded['slug']}/"
        if self._deliver(lambda: self.send("POST", path, body, headers), {302}, deadline):
            self.tally.add(accepted=1)

    def _invitation(self, channel: str, deadline: float) -> None:
        """An integration invites the customer of a purchase that just happened."""
        number = next(self.numbers)
        if channel == "email":
            address = f"customer{number}@example.com"
            contact = {"email": address, "email_consent": True}
        else:
            address = f"+35840{1_000_000 + number}"
            contact = {"phone": address, "sms_consent": True}
        body = json.dumps(
            {
                "contact_data": contact,
                "survey": self.seeded["survey"],
                "channel": channel,
                "event_id": uuid.uuid4().hex,  # a retry never invites twice
            }
        ).encode()
        path = f"/api/v1/orgs/{SLUG}/invitations/"
        send = lambda: self.send("POST", path, body, self.api_headers)  # noqa: E731
        if self._deliver(send, {200, 201}, deadline):
            with self.tally.lock:
                self.tally.invited[channel].add(address)

    def email_invitation(self, deadline: float) -> None:
        self._invitation("email", deadline)

    def sms_invitation(self, deadline: float) -> None:
        self._invitation("sms", deadline)

    def survey_page(self, deadline: float) -> None:
        self.send("GET", f"/s/{self.seeded['slug']}/")

    def api_responses(self, deadline: float) -> None:
        self.send("GET", f"/api/v1/orgs/{SLUG}/responses/?limit=20", headers=self.api_headers)

    def api_metrics(self, deadline: float) -> None:
        query = urllib.parse.urlencode(
            {"metric": "nps", "survey": self.seeded["survey"], "interval": "day"}
        )
        self.send("GET", f"/api/v1/orgs/{SLUG}/metrics/?{query}", headers=self.api_headers)

    def run(self, seconds: float, rates: dict[str, float]) -> None:
        """Start requests at the given rates for `seconds`; each write may retry for 60 s more."""
        started = time.monotonic()
        due = dict.fromkeys(rates, started)
        while time.monotonic() - started < seconds:
            now = time.monotonic()
            for kind, rate in rates.items():
                while due[kind] <= now:
                    self._spawn(getattr(self, kind))
                    due[kind] += 1 / (rate * self.factor)
            time.sleep(0.005)

    def _spawn(self, request: Callable[[float], None]) -> None:
        thread = threading.Thread(target=request, args=(time.monotonic() + 60,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(90)


def _stored_and_counted(stack: Stack) -> tuple[int, int]:
    """Answers from the API and the form (SMS replies are checked by their own fault)."""
    try:
        [(stored, counted)] = stack.sql(
            "SELECT count(*), count(processed_at) FROM surveys_response r "
            "JOIN tenancy_organization o ON o.id = r.organization_id "
            "WHERE o.slug = %s AND r.channel <> 'sms'",
            (SLUG,),
        )
    except psycopg2.OperationalError:
        return -1, -1
    return stored, counted


def _delivery(stack: Stack, tally: Tally) -> tuple[int, int, int]:
    """Invitations accepted, received by their person, and received more than once."""
    received = stack.providers.received()
    with tally.lock:
        invited = [address.lower() for addresses in tally.invited.values() for address in addresses]
    delivered = sum(1 for address in invited if received[address] >= 1)
    twice = sum(1 for address in invited if received[address] > 1)
    return len(invited), delivered, twice


# --- the faults -------------------------------------------------------------------------------
# Each gets the stack and the phase's load; it may return a check of its own, polled with the
# others until it holds: () -> (holds, what it found).

Check = Callable[[], tuple[bool, str]]


def database_restart(stack: Stack, load: Load) -> None:
    stack.cluster.restart()


def database_down(stack: Stack, load: Load) -> None:
    """20 s without the database while the worker has a backlog: every task it takes meanwhile
    (its organization look-up included) must be retried, none dropped."""
    stack.stop("worker")
    time.sleep(5)  # rollups and sends queue up
    stack.cluster.stop()
    stack.start("worker")
    time.sleep(20)
    stack.cluster.start()


def redis_flushed(stack: Stack, load: Load) -> None:
    """The worker is away while work queues up; then Redis loses everything it held."""
    stack.stop("worker")
    time.sleep(5)
    redis.Redis.from_url(stack.redis_url).flushdb()
    stack.start("worker")


def worker_killed(stack: Stack, load: Load) -> None:
    stack.stop("worker", signal.SIGKILL)
    time.sleep(3)
    stack.start("worker")


def web_worker_killed(stack: Stack, load: Load) -> None:
    for pid in stack.web_worker_pids()[:1]:
        os.kill(pid, signal.SIGKILL)


def beat_doubled(stack: Stack, load: Load) -> None:
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


def twilio_failing(stack: Stack, load: Load) -> None:
    """Twilio rate-limits (429), then fails (500), then stops answering, 5 s each."""
    twilio = stack.providers.twilio
    for outage in (429, 500, "hang"):
        twilio.outage = outage
        time.sleep(5)
    twilio.outage = None


def smtp_down(stack: Stack, load: Load) -> None:
    stack.providers.stop_smtp()
    time.sleep(10)
    stack.providers.start_smtp()


def burst(stack: Stack, load: Load) -> None:
    load.factor = 10
    time.sleep(5)
    load.factor = 1


def webhooks_repeated(stack: Stack, load: Load) -> Check:
    """Twilio delivers every status callback and every inbound SMS three times, out of order.

    Each person invited by SMS so far in this phase replies with a score and then a comment.
    What must come of it: each invitation delivered and answered, one response per person."""
    time.sleep(5)
    invited = set(load.tally.invited["sms"])
    sent = [
        message for message in list(stack.providers.twilio.messages) if message["To"] in invited
    ]
    callbacks = [
        (message["StatusCallback"], {"MessageSid": message["sid"], "MessageStatus": status})
        for message in sent
        for status in ("queued", "sent", "delivered")
        for _copy in range(3)
    ]
    random.shuffle(callbacks)
    inbound = PUBLIC_BASE_URL + "/hooks/twilio/sms/"

    def replies(message: dict) -> None:
        score, comment = ({"MessageSid": "SM" + uuid.uuid4().hex, "From": message["To"],
                           "To": SMS_SENDER, "Body": body} for body in ("9", "Quick and kind"))  # fmt: skip
        repeats = [score, score, comment, comment, comment]
        random.shuffle(repeats)
        for params in [score, *repeats]:  # the first copy of the score comes first
            _deliver_webhook(load, inbound, params)

    with ThreadPoolExecutor(8) as pool:
        for url, params in callbacks:
            pool.submit(_deliver_webhook, load, url, params)
        for message in sent:
            pool.submit(replies, message)

    phones = sorted(message["To"] for message in sent)

    def check() -> tuple[bool, str]:
        answered, responses = _sms_outcome(stack, phones)
        holds = answered == responses == len(phones)
        return holds, f"{len(phones)} SMS replies ×3 → {answered} answered, {responses} responses"

    return check


def _deliver_webhook(load: Load, url: str, params: dict) -> None:
    load.tally.add(requests=1)
    started = time.monotonic()
    try:
        status = _signed_twilio_post(load.stack.web_port, url, params)
    except OSError:
        status = 0
    load.tally.timed(
        f"POST {url.removeprefix(PUBLIC_BASE_URL).split('?')[0]}", time.monotonic() - started
    )
    if status >= 500:
        load.tally.add(server_errors=1)


def _sms_outcome(stack: Stack, phones: list[str]) -> tuple[int, int]:
    """Invitations to these phones that are answered, and their responses."""
    if not phones:
        return 0, 0
    [(answered, responses)] = stack.sql(
        "SELECT count(*) FILTER (WHERE i.status = 'answered'), count(r.id) "
        "FROM distribution_invitation i "
        "LEFT JOIN surveys_response r ON r.personal_link_id = i.personal_link_id "
        "WHERE i.address = ANY(%s) AND i.channel = 'sms'",
        (phones,),
    )
    return answered, responses


FAULTS: dict[str, Callable[[Stack, Load], Check | None]] = {
    "none (baseline)": lambda stack, load: None,
    "PostgreSQL fast restart": database_restart,
    "PostgreSQL down 20 s during a backlog": database_down,
    "Redis flushed with work queued": redis_flushed,
    "Celery worker killed (SIGKILL)": worker_killed,
    "gunicorn worker killed (SIGKILL)": web_worker_killed,
    "second beat started": beat_doubled,
    "Twilio 429, then 500, then hanging (5 s each)": twilio_failing,
    "SMTP server down 10 s": smtp_down,
    "Twilio webhooks ×3, out of order": webhooks_repeated,
    "10x burst for 5 s": burst,
}


def run_phase(
    stack: Stack,
    seeded: dict,
    numbers: count,
    fault: Callable[[Stack, Load], Check | None],
    *,
    seconds: float = PHASE_SECONDS,
    rates: dict[str, float] = WRITES,
) -> dict:
    before_stored, _ = _stored_and_counted(stack)
    tally = Tally()
    started = time.monotonic()
    load = Load(stack, seeded, tally, numbers)
    loader = threading.Thread(target=load.run, args=(seconds, rates))
    loader.start()
    time.sleep(FAULT_AT)
    check = fault(stack, load)
    fault_end = time.monotonic()
    loader.join()
    load.finish()
    answered = time.monotonic()

    def outcome() -> tuple[bool, dict]:
        stored, counted = _stored_and_counted(stack)
        invited, delivered, twice = _delivery(stack, tally)
        holds, found = check() if check else (True, "")
        row = {
            "stored": stored - before_stored,
            "counted": counted - before_stored,
            "invited": invited,
            "delivered": delivered,
            "twice": twice,
            "check": found,
        }
        done = (
            row["stored"] == tally.accepted and counted == stored and delivered == invited and holds
        )
        return done, row

    recovered = None
    while time.monotonic() - answered < RECOVERY_LIMIT:
        done, row = outcome()
        if done:
            recovered = time.monotonic() - answered
            break
        time.sleep(0.5)
    stack.providers.outbox.settle(2.0)  # a message sent twice would arrive in this moment
    done, row = outcome()
    return {
        **row,
        "fault_seconds": fault_end - started - FAULT_AT,
        "refused": tally.refused,
        "requests": tally.requests,
        "accepted": tally.accepted,
        "500": tally.server_errors,
        "503": tally.unavailable,
        "p95": tally.percentile(0.95),
        "slowest": tally.slowest(),
        "recovery": recovered if done else None,
    }


def report(results: dict[str, dict]) -> str:
    lines = [
        "| fault | lasted | requests | answers accepted | stored | counted | 500s | 503s | "
        "invited | received | twice | p95 | all stored, counted, sent after the last request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for name, row in results.items():
        recovery = f"{row['recovery']:.1f} s" if row["recovery"] is not None else "NOT RECOVERED"
        lines.append(
            f"| {name} | {row['fault_seconds']:.1f} s | {row['requests']:,} | "
            f"{row['accepted']:,} | {row['stored']:,} | {row['counted']:,} | {row['500']} | "
            f"{row['503']} | {row['invited']:,} | {row['delivered']:,} | {row['twice']} | "
            f"{row['p95'] * 1000:.0f} ms | {recovery} |"
        )
        if row["check"]:
            notes.append(f"- {name}: {row['check']}")
        if row["p95"] > 0.5:
            notes.append(f"- {name}, p95 by request: {row['slowest']}")
    return "\n".join(lines + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run faults whose name has this"
    )
    parser.add_argument(
        "--soak", type=float, default=SOAK_SECONDS, help="seconds of mixed traffic (0: none)"
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
        seed = SEED.replace("<SENDER>", SMS_SENDER)
        seeded = json.loads(stack.manage("shell", "-c", seed).splitlines()[-1])
        for name in ("web", "worker", "beat"):
            stack.start(name)
        stack.wait_for_web()
        time.sleep(5)  # the worker and beat come up
        numbers = count()
        results = {}
        for name, fault in FAULTS.items():
            if options.only and not any(part in name for part in options.only):
                continue
            print(f"Fault: {name}...", flush=True)
            results[name] = run_phase(stack, seeded, numbers, fault)
        if options.soak:
            rate = sum(WRITES.values()) + sum(READS.values())
            name = f"soak: {options.soak / 60:g} min of mixed traffic, {rate} requests/s"
            print(f"{name}...", flush=True)
            results[name] = run_phase(
                stack, seeded, numbers, lambda stack, load: None,
                seconds=options.soak, rates={**WRITES, **READS},
            )  # fmt: skip
        table = report(results)
        print("\n" + table)
        bad = any(
            row["500"]
            or row["refused"]
            or row["twice"]
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
