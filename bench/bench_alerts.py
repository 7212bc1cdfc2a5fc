"""Alerts: from a low score's POST to its case and the owner's email, idle and under load.

A real gunicorn takes respondents' POSTs, a real Celery worker evaluates the rules and sends the
email over SMTP to a sink in this process, and the database is polled for the case; every time
is taken on this process's clock from the moment the POST's answer came back.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import redis

from bench import server
from bench.environment import PROJECT_ROOT, BenchContext, BenchSetupError
from bench.registry import Result, benchmark


@dataclass(frozen=True)
class Plan:
    samples: int  # low scores measured in each phase
    warmup: int  # low scores posted (and waited for) before measuring, not counted
    spacing: float  # idle: seconds from one low score's email to the next POST
    interval: float  # loaded: seconds between the starts of two low scores' POSTs
    background_rate: float  # good scores per second while the loaded phase runs
    settle: float  # seconds of background load before the first measured POST
    solo_wait: float  # idle: at most this long for one low score's case and email
    wait: float  # seconds to wait for the last case and email after the last POST
    load_seconds: float  # the background load stops after this long whatever happens


FULL = Plan(
    samples=200,
    warmup=5,
    spacing=0.05,
    interval=0.2,
    background_rate=50.0,
    settle=3.0,
    solo_wait=10.0,
    wait=600.0,
    load_seconds=300.0,
)
QUICK = Plan(
    samples=12,
    warmup=2,
    spacing=0.05,
    interval=0.2,
    background_rate=50.0,
    settle=0.5,
    solo_wait=10.0,
    wait=120.0,
    load_seconds=30.0,
)
IDLE_GOAL_MS = 500.0
LOADED_GOAL_MS = 2000.0
GUNICORN_WORKERS = 2
# Two worker pools, as production runs them (scripts/run.sh, docker-compose.yml): alerts are
# evaluated on `alerts` and sent on `notifications` by a pool of their own, so the rollup work a
# submission also causes (`metrics`, and `default` for its invitation) never queues in front of
# a low score. One process each: the machine has 2 cores.
WORKER_POOLS = {
    "alerts": ("alerts", "notifications"),
    "work": ("metrics", "default", "maintenance"),
}
# Rollups may lag a little; a low score may not. On shared cores the work pool yields the CPU.
WORKER_NICENESS = {"alerts": 0, "work": 10}
WORKER_CONCURRENCY = 1
WORKER_QUEUES = tuple(queue for queues in WORKER_POOLS.values() for queue in queues)
BACKGROUND_THREADS = 8
POLL_INTERVAL = 0.005
QUEUE_SAMPLE_INTERVAL = 0.1
REQUEST_TIMEOUT = 30.0
HOST = "127.0.0.1"


def plan_for(context: BenchContext) -> Plan:
    return QUICK if context.quick else FULL


@benchmark("alerts", title="Low score to case and owner's email, idle and at 50 submissions/s")
def alerts(context: BenchContext) -> list[Result]:
    """`manage.py seed_bench_alerts` creates an organization whose touchpoint "Store" is owned by
    a member (a CX manager), a published CSAT survey from the `csat_service` template on it with
    an anonymous link, and a response rule CSAT <= 2 on that touchpoint that opens a case and
    emails the owner. A real gunicorn (2 sync workers) serves the respondent page and two real
    Celery workers as production runs them (`alerts,notifications` and `metrics,default`, one
    prefork process each on the machine's 2 cores, the second at niceness 10 so that rollups
    yield the CPU to alerts) run the tasks against Redis database 14; Django's SMTP
    backend sends to an aiosmtpd sink in the benchmark's process, which notes when each
    message's DATA is accepted (the email handed to the provider).

    Each low score (CSAT 1 or 2 with the follow-up answered, as the page posts it, a fresh
    submission id and a distinct `X-Forwarded-For` from 198.18.0.0/15 so the per-address rate
    limit sees different respondents) is a `POST /s/<slug>/` that must answer 302. From the
    moment its answer came back the benchmark measures (a) the case existing: a thread polls
    PostgreSQL every 5 ms for the cases of the responses still waiting (by their idempotency
    key) and takes the start of the query that first sees it, so the figure is at most one poll
    late (when the machine is saturated the poller waits for CPU too, and the case may be seen
    after its email task began: the "case to send claim" step below then comes out negative);
    (b) the owner's email arriving at the sink. Idle (the baseline): after 5 warm-up low
    scores (not counted), 200 low scores (12 with --quick) one at a time, each posted 50 ms
    after the previous one's case and email arrived, so nothing else is queued when it comes.
    Loaded: 200 low scores (12) started every 200 ms (5 per second; one at a time, so a POST
    slower than that delays the next one), while 8 client threads post good scores (CSAT 4 or
    5) on a fixed schedule of 50 per second (open loop, bounded in count and in time, 127.0.0.1
    only) from 3 s before the first low score until the last one is posted; then the benchmark
    waits (up to 10 minutes) for the last case and email. The rate of good scores the server
    actually answered is reported beside the figures. Every loaded figure names the idle one as
    its baseline with the ratio. Goals (issue 11): p95 <= 500 ms idle, <= 2 s loaded. The notes
    give the 1-minute load average of the machine when each phase began (other work on the
    machine shows there).

    Where the time goes, per low score (medians and 95th percentiles in the notes of the email
    rows, from the rows' own timestamps on the same clock): the POST's answer to the rule
    evaluation's row (queueing on `alerts` and loading the response), evaluation to the case
    being visible (alert, case with its due times, notification row, commit), the case to the
    email task claiming its notification (queueing on `notifications`), and the claim to the
    sink holding the message (rendering and SMTP). The peak lengths of the four queues are
    sampled in Redis every 100 ms. Errors count POSTs that did not answer 302 and low scores
    whose case or email never came. The gunicorn, the worker and the sink are always stopped.
    """
    plan = plan_for(context)
    seed = json.loads(context.manage("seed_bench_alerts").strip().splitlines()[-1])
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with smtp_sink() as sink, server.running_server(context, workers=GUNICORN_WORKERS) as web:
        environ = context.environ(
            EMAIL_URL=f"smtp://{HOST}:{sink.port}",
            CELERY_TASK_ALWAYS_EAGER="false",
            PUBLIC_BASE_URL="https://cx.example.com",
        )
        with running_worker(environ) as worker:
            client = Respondent(web.port, seed)
            warm = run_phase(context, client, sink, worker, seed, plan, samples=plan.warmup)
            if warm.missing:
                raise BenchSetupError(
                    f"warm-up: {warm.missing} of {plan.warmup} low scores got no case or email "
                    f"within {plan.wait:.0f} s; worker log:\n{worker.tail()}"
                )
            idle = run_phase(context, client, sink, worker, seed, plan, samples=plan.samples)
            loaded = run_phase(
                context,
                client,
                sink,
                worker,
                seed,
                plan,
                samples=plan.samples,
                background_rate=plan.background_rate,
            )
    return idle.results("idle", goal=IDLE_GOAL_MS) + loaded.results(
        "loaded", goal=LOADED_GOAL_MS, baseline=idle
    )


# --- the respondent --------------------------------------------------------------------------


class Respondent:
    """POSTs the anonymous survey page the way its form does, one connection per thread."""

    def __init__(self, port: int, seed: dict):
        self.port = port
        self.seed = seed
        self.path = f"/s/{seed['link_slug']}/"
        self._counter = 0
        self._lock = threading.Lock()

    def _address(self) -> str:
        # 198.18.0.0/15 is reserved for benchmarking (RFC 2544): one address per respondent.
        with self._lock:
            self._counter += 1
            n = self._counter
        return f"198.{18 + (n >> 16) % 2}.{(n >> 8) & 255}.{n & 255}"

    def body(self, score: int, submission: str) -> str:
        follow_up = self.seed["low_follow_up"] if score <= 3 else self.seed["high_follow_up"]
        text = "Nobody was at the till." if score <= 3 else "Quick and friendly."
        return urlencode(
            {
                self.seed["score_key"]: str(score),
                follow_up: text,
                "seen": f"{self.seed['score_key']},{follow_up}",
                "submission": submission,
                "channel": "web",
                "lang": self.seed["language"],
            }
        )

    def post(self, connection: http.client.HTTPConnection, score: int) -> tuple[int, str]:
        """POST one answer; returns (HTTP status or 0 on a connection error, submission id)."""
        submission = uuid.uuid4().hex
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": self._address(),
        }
        try:
            connection.request(
                "POST", self.path, body=self.body(score, submission), headers=headers
            )
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            return 0, submission
        return response.status, submission


# --- one phase -------------------------------------------------------------------------------


@dataclass
class Sample:
    key: str  # the response's idempotency key, `web:<submission>`
    returned: float  # perf_counter when the POST's answer came back
    returned_wall: float  # time.time() at the same moment
    status: int
    post_seconds: float  # how long the POST itself took
    case: float | None = None  # perf_counter when the case was first seen
    email: float | None = None  # perf_counter when the sink accepted the owner's email
    evaluated_wall: float | None = None
    claimed_wall: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 302

    @property
    def case_ms(self) -> float | None:
        return None if self.case is None else (self.case - self.returned) * 1000

    @property
    def email_ms(self) -> float | None:
        return None if self.email is None else (self.email - self.returned) * 1000

    def wall(self, moment: float | None) -> float | None:
        return None if moment is None else self.returned_wall + (moment - self.returned)


@dataclass
class Background:
    rate: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def achieved(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class Phase:
    samples: list[Sample]
    seconds: float
    queue_peaks: dict[str, int]
    load_average: float
    background: Background | None = None

    @property
    def posted(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.ok]

    @property
    def missing(self) -> int:
        return sum(sample.case is None or sample.email is None for sample in self.posted)

    def errors(self, kind: str) -> int:
        """POSTs that did not answer 302, and low scores whose case (or email) never came."""
        late = sum(
            (sample.case if kind == "case" else sample.email) is None for sample in self.posted
        )
        return len(self.samples) - len(self.posted) + late

    def figures(self, kind: str) -> dict[str, float]:
        values = [
            value
            for sample in self.posted
            if (value := sample.case_ms if kind == "case" else sample.email_ms) is not None
        ]
        return {
            "p50": percentile(values, 0.5),
            "p95": percentile(values, 0.95),
            "max": max(values) if values else 0.0,
            "n": len(values),
        }

    def post_ms(self, fraction: float) -> float:
        return percentile([sample.post_seconds for sample in self.posted], fraction, scale=1000)

    def stages(self) -> dict[str, tuple[float, float]]:
        """Median and p95 in ms of each step between the POST's answer and the email."""
        steps: dict[str, list[float]] = {
            "to evaluation": [],
            "evaluation to case": [],
            "case to send claim": [],
            "claim to SMTP": [],
        }
        for sample in self.posted:
            case_wall, email_wall = sample.wall(sample.case), sample.wall(sample.email)
            if sample.evaluated_wall is not None:
                steps["to evaluation"].append(sample.evaluated_wall - sample.returned_wall)
                if case_wall is not None:
                    steps["evaluation to case"].append(case_wall - sample.evaluated_wall)
            if sample.claimed_wall is not None:
                if case_wall is not None:
                    steps["case to send claim"].append(sample.claimed_wall - case_wall)
                if email_wall is not None:
                    steps["claim to SMTP"].append(email_wall - sample.claimed_wall)
        return {
            name: (percentile(values, 0.5, scale=1000), percentile(values, 0.95, scale=1000))
            for name, values in steps.items()
        }

    def results(self, label: str, *, goal: float, baseline: Phase | None = None) -> list[Result]:
        rows = []
        for kind, what in (("case", "the case existing"), ("email", "the owner's email at SMTP")):
            figures = self.figures(kind)
            base = baseline.figures(kind) if baseline is not None else None
            stages = self.stages() if kind == "email" else {}
            for statistic in ("p50", "p95", "max"):
                notes = self._notes(label, kind, what, statistic, figures, goal)
                if base is not None:
                    ratio = figures[statistic] / base[statistic] if base[statistic] else math.nan
                    notes += f"; idle baseline {base[statistic]:.0f} ms, ratio {ratio:.2f}x"
                if statistic == "p95" and stages:
                    notes += "; steps median/p95: " + ", ".join(
                        f"{name} {median:.0f}/{high:.0f} ms"
                        for name, (median, high) in stages.items()
                    )
                if statistic == "max" and self.queue_peaks:
                    notes += "; peak queue lengths " + ", ".join(
                        f"{queue} {length}" for queue, length in self.queue_peaks.items()
                    )
                rows.append(
                    Result(
                        name=f"alerts.{label}.{kind}_{statistic}",
                        figure=figures[statistic],
                        unit="ms",
                        notes=notes,
                        errors=self.errors(kind),
                    )
                )
        if self.background is not None:
            load = self.background
            notes = (
                f"good scores posted on a schedule of {load.rate:.0f}/s by "
                f"{BACKGROUND_THREADS} threads: {load.ok:,} answered 302 in {load.elapsed:.1f} s; "
                f"their POST p50 {percentile(load.latencies, 0.5, scale=1000):.0f} ms, "
                f"p95 {percentile(load.latencies, 0.95, scale=1000):.0f} ms"
            )
            if load.error_samples:
                notes += "; errors: " + " | ".join(load.error_samples)
            rows.append(
                Result(
                    name=f"alerts.{label}.background_rate",
                    figure=load.achieved,
                    unit="submissions/s",
                    notes=notes,
                    errors=load.errors,
                )
            )
        return rows

    def _notes(
        self, label: str, kind: str, what: str, statistic: str, figures: dict, goal: float
    ) -> str:
        setting = (
            "one at a time"
            if self.background is None
            else f"5/s beside {self.background.rate:.0f}/s good scores"
        )
        if statistic == "p50":
            return (
                f"POST answer to {what}, {label}: {figures['n']} of {len(self.samples)} low "
                f"scores, {setting}; p95 {figures['p95']:.0f} ms, max {figures['max']:.0f} ms; "
                f"the POSTs themselves took p50 {self.post_ms(0.5):.0f} ms, "
                f"p95 {self.post_ms(0.95):.0f} ms; load average {self.load_average:.1f} "
                "when the phase began"
            )
        if statistic == "p95":
            verdict = "met" if figures["p95"] <= goal and not self.errors(kind) else "MISSED"
            return f"95th percentile (nearest rank); goal <= {goal:.0f} ms {verdict}"
        return f"slowest of {figures['n']}"


def run_phase(
    context: BenchContext,
    client: Respondent,
    sink: Sink,
    worker: WorkerGroup,
    seed: dict,
    plan: Plan,
    *,
    samples: int,
    background_rate: float | None = None,
) -> Phase:
    """Post `samples` low scores one at a time, then wait until each has its case and email
    (at most `plan.wait` seconds after the last POST).

    Without a background rate each low score waits for the previous one's case and email
    (the system is idle when it arrives); with one, low scores start every `plan.interval`
    seconds (one at a time) while good scores arrive at that rate until the last low score is
    in.
    """
    organization_id = seed["organization_id"]
    one_by_one = not background_rate
    load_average = os.getloadavg()[0]
    began = time.perf_counter()
    phase_emails = sink.count()
    pause = threading.Event()
    with (
        CasePoller(context.database_url, organization_id) as poller,
        QueueSampler(context.redis_url) as queues,
        BackgroundLoad(client, background_rate, max_seconds=plan.load_seconds) as background,
    ):
        if background is not None:
            pause.wait(plan.settle)
        taken: list[Sample] = []
        connection = http.client.HTTPConnection(HOST, client.port, timeout=REQUEST_TIMEOUT)
        first = time.perf_counter()
        try:
            for number in range(samples):
                if not one_by_one:
                    pause.wait(max(0.0, first + number * plan.interval - time.perf_counter()))
                emails_before = sink.count()
                sent = time.perf_counter()
                status, submission = client.post(connection, 1 + number % 2)
                returned = time.perf_counter()
                sample = Sample(
                    key=f"web:{submission}",
                    returned=returned,
                    returned_wall=time.time(),
                    status=status,
                    post_seconds=returned - sent,
                )
                taken.append(sample)
                if sample.ok:
                    poller.watch(sample.key)
                    if one_by_one:
                        _wait_until(
                            lambda key=sample.key, before=emails_before: (
                                poller.has(key) and sink.count() > before
                            ),
                            worker,
                            timeout=plan.solo_wait,
                        )
                        pause.wait(plan.spacing)
        finally:
            connection.close()
            if background is not None:
                background.stop()
        posted = [sample for sample in taken if sample.ok]
        _wait_until(
            lambda: (
                poller.pending() == 0
                and _emails_arrived(context, sink, organization_id, posted, phase_emails)
            ),
            worker,
            timeout=plan.wait,
        )
        seconds = time.perf_counter() - began
    seen = poller.snapshot()
    for sample in taken:
        sample.case = seen.get(sample.key)
    _attach_emails_and_steps(context, sink, organization_id, taken)
    return Phase(
        samples=taken,
        seconds=seconds,
        queue_peaks=queues.peaks,
        load_average=load_average,
        background=background.result() if background is not None else None,
    )


def _wait_until(condition, worker: WorkerGroup, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise BenchSetupError(f"the Celery worker stopped:\n{worker.tail()}")
        if condition():
            return True
        time.sleep(0.002)
    return False


def _emails_arrived(
    context: BenchContext,
    sink: Sink,
    organization_id: int,
    posted: list[Sample],
    emails_before: int,
) -> bool:
    """True once the sink holds the owner's email of every posted low score (it held
    `emails_before` messages when they began; the database names each one's)."""
    if sink.count() - emails_before < len(posted):
        return False
    rows = _steps(context, organization_id, [sample.key for sample in posted])
    arrivals = sink.snapshot()
    return all(
        (row := rows.get(sample.key)) is not None and row["notification"] in arrivals
        for sample in posted
    )


def _attach_emails_and_steps(
    context: BenchContext, sink: Sink, organization_id: int, samples: list[Sample]
) -> None:
    rows = _steps(context, organization_id, [sample.key for sample in samples])
    arrivals = sink.snapshot()
    for sample in samples:
        row = rows.get(sample.key)
        if row is None:
            continue
        sample.evaluated_wall = row["evaluated"]
        sample.claimed_wall = row["claimed"]
        if row["notification"] in arrivals:
            sample.email = arrivals[row["notification"]]


STEPS_QUERY = """
SELECT r.idempotency_key, extract(epoch FROM e.evaluated_at), n.public_id,
       extract(epoch FROM n.claimed_at)
FROM surveys_response AS r
LEFT JOIN alerts_ruleevaluation AS e
    ON e.organization_id = r.organization_id AND e.response_id = r.id
LEFT JOIN alerts_case AS c ON c.organization_id = r.organization_id AND c.response_id = r.id
LEFT JOIN alerts_notification AS n
    ON n.organization_id = c.organization_id AND n.case_id = c.id AND n.channel = 'email'
WHERE r.organization_id = %s AND r.idempotency_key = ANY(%s)
"""


def _steps(context: BenchContext, organization_id: int, keys: list[str]) -> dict[str, dict]:
    with _database(context.database_url) as cursor:
        cursor.execute(STEPS_QUERY, [organization_id, keys])
        return {
            key: {
                "evaluated": float(evaluated) if evaluated is not None else None,
                "notification": notification,
                "claimed": float(claimed) if claimed is not None else None,
            }
            for key, evaluated, notification, claimed in cursor.fetchall()
        }


# --- watchers --------------------------------------------------------------------------------


CASES_QUERY = """
SELECT r.idempotency_key
FROM alerts_case AS c
JOIN surveys_response AS r ON r.organization_id = c.organization_id AND r.id = c.response_id
WHERE c.organization_id = %s AND r.organization_id = %s AND r.idempotency_key = ANY(%s)
"""


class CasePoller:
    """A thread that asks PostgreSQL every few milliseconds which watched responses have a case
    and keeps, for each, the start of the first query that saw it."""

    def __init__(self, database_url: str, organization_id: int):
        self.database_url = database_url
        self.organization_id = organization_id
        self.seen: dict[str, float] = {}
        self._watched: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> CasePoller:
        self._connection = psycopg2.connect(self.database_url, connect_timeout=5)
        self._connection.autocommit = True
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._connection.close()
        if self.error is not None and exc[0] is None:
            raise BenchSetupError(f"polling the cases failed: {self.error}")

    def watch(self, key: str) -> None:
        with self._lock:
            self._watched.add(key)

    def pending(self) -> int:
        with self._lock:
            return len(self._watched - self.seen.keys())

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self.seen

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.seen)

    def _run(self) -> None:
        try:
            with self._connection.cursor() as cursor:
                while not self._stop.is_set():
                    with self._lock:
                        waiting = sorted(self._watched - self.seen.keys())
                    if waiting:
                        asked = time.perf_counter()
                        cursor.execute(
                            CASES_QUERY, [self.organization_id, self.organization_id, waiting]
                        )
                        found = [row[0] for row in cursor.fetchall()]
                        with self._lock:
                            for key in found:
                                self.seen.setdefault(key, asked)
                    self._stop.wait(POLL_INTERVAL)
        except BaseException as error:  # reported by __exit__
            self.error = error


class QueueSampler:
    """Samples the length of every worker queue in Redis and keeps each one's peak."""

    def __init__(self, redis_url: str):
        self.client = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.peaks = {queue: 0 for queue in WORKER_QUEUES}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> QueueSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(redis.RedisError):
                pipeline = self.client.pipeline(transaction=False)
                for queue in WORKER_QUEUES:
                    pipeline.llen(queue)
                for queue, length in zip(WORKER_QUEUES, pipeline.execute(), strict=True):
                    self.peaks[queue] = max(self.peaks[queue], int(length))
            self._stop.wait(QUEUE_SAMPLE_INTERVAL)


class BackgroundLoad:
    """Good scores on a fixed schedule (`rate` per second, open loop) from a few threads, each
    with its own connection; bounded by `rate * max_seconds` posts and by `max_seconds`."""

    def __init__(self, client: Respondent, rate: float | None, *, max_seconds: float):
        self.client = client
        self.rate = rate
        self.max_seconds = max_seconds
        self.limit = int(rate * max_seconds) if rate else 0
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._result = Background(rate=rate or 0.0)
        self._threads = [
            threading.Thread(target=self._loop, daemon=True) for _ in range(BACKGROUND_THREADS)
        ]

    def __enter__(self) -> BackgroundLoad | None:
        if not self.rate:
            return None
        self._started = time.perf_counter()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.rate:
            self.stop()

    def stop(self) -> None:
        """Stop sending (idempotent); the rate counts until this moment."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._result.elapsed = time.perf_counter() - self._started
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def result(self) -> Background:
        return self._result

    def _ticket(self) -> int | None:
        with self._lock:
            if self._next >= self.limit:
                return None
            self._next += 1
            return self._next - 1

    def _loop(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.client.port, timeout=REQUEST_TIMEOUT)
        result = self._result
        try:
            while not self._stop.is_set():
                ticket = self._ticket()
                if ticket is None:
                    return
                due = self._started + ticket / self.rate
                if due - self._started > self.max_seconds:
                    return
                if self._stop.wait(max(0.0, due - time.perf_counter())):
                    return
                began = time.perf_counter()
                status, _ = self.client.post(connection, 4 + ticket % 2)
                latency = time.perf_counter() - began
                with self._lock:
                    result.sent += 1
                    if status == 302:
                        result.ok += 1
                        result.latencies.append(latency)
                    else:
                        result.errors += 1
                        if len(result.error_samples) < 3:
                            result.error_samples.append(f"HTTP {status}" if status else "no answer")
        finally:
            connection.close()


# --- the SMTP sink and the worker ------------------------------------------------------------


class Sink:
    """Keeps, per `X-Notification` header, the perf_counter moment the message was accepted."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self._lock = threading.Lock()
        self._parser = BytesHeaderParser(policy=email_policy.default)
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        arrived = time.perf_counter()
        notification = str(self._parser.parsebytes(envelope.content).get("X-Notification", ""))
        with self._lock:
            self.arrivals.setdefault(notification, arrived)
        return "250 Message accepted for delivery"

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.arrivals)

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)


@contextlib.contextmanager
def smtp_sink() -> Iterator[Sink]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname=HOST, port=server.free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class WorkerGroup:
    """The worker pools of a run, seen as one: alive while all are, their logs' tails joined."""

    def __init__(self, workers: list[Worker]):
        self.workers = workers

    def alive(self) -> bool:
        return all(worker.alive() for worker in self.workers)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(worker.tail(lines) for worker in self.workers)


@contextlib.contextmanager
def running_worker(environ: dict[str, str]) -> Iterator[WorkerGroup]:
    """One Celery worker per pool of WORKER_POOLS (prefork, one process each), stopped whatever
    happens."""
    with tempfile.TemporaryDirectory(prefix="cxp-bench-alerts-") as scratch:
        workers = []
        try:
            for pool, queues in WORKER_POOLS.items():
                log_path = Path(scratch) / f"worker-{pool}.log"
                with log_path.open("wb") as log:
                    process = subprocess.Popen(
                        [
                            "nice",
                            "-n",
                            str(WORKER_NICENESS[pool]),
                            sys.executable,
                            "-m",
                            "celery",
                            "-A",
                            "cxplatform",
                            "worker",
                            "--pool",
                            "prefork",
                            "--concurrency",
                            str(WORKER_CONCURRENCY),
                            "-Q",
                            ",".join(queues),
                            # WARNING: at INFO every task writes two log lines, a cost
                            # production need not pay; readiness shows when the warm-up's
                            # cases come.
                            "--loglevel",
                            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
                            "--without-mingle",
                            "--without-gossip",
                            "--without-heartbeat",
                            "--hostname",
                            f"bench-{pool}-{time.time_ns() % 10**9}@%h",
                        ],
                        cwd=PROJECT_ROOT,
                        env=environ,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                server.started_groups.add(process.pid)
                workers.append(Worker(process, log_path))
            group = WorkerGroup(workers)
            time.sleep(1)
            if not group.alive():
                raise BenchSetupError(f"a Celery worker did not start:\n{group.tail()}")
            yield group
        finally:
            for worker in workers:
                server.stop(worker.process)


# --- helpers ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float, *, scale: float = 1.0) -> float:
    """Nearest-rank percentile of `values` times `scale` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * scale


@contextlib.contextmanager
def _database(database_url: str):
    connection = psycopg2.connect(database_url, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()
