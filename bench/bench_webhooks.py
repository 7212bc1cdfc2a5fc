"""Outgoing webhooks: deliveries per second to a local receiver, and a response's time from its
POST to its `response.submitted` delivery."""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

from bench.environment import (
    PROJECT_ROOT,
    BenchContext,
    BenchSetupError,
)
from bench.registry import Result, benchmark
from bench.server import running_server

SLUG = "bench-hooks"
FULL_EVENTS = 2000
QUICK_EVENTS = 200
WARMUP_EVENTS = 5
RATE = 10.0  # responses posted per second
FULL_SECONDS = 20.0
QUICK_SECONDS = 3.0
WARMUP_POSTS = 3
POST_THREADS = 4
TIMEOUT = float(os.environ.get("BENCH_WEBHOOKS_TIMEOUT", "600"))


@benchmark("webhooks", title="Outgoing webhooks: deliveries per second, submit to delivery time")
def webhooks(context: BenchContext) -> list[Result]:
    """Signed webhooks sent to a local receiver (a `ThreadingHTTPServer` in the benchmark's
    process that answers 200 at once and checks every signature with the `standardwebhooks`
    package as it arrives, with the endpoint's secret). `manage.py bench_webhooks --setup`
    creates an organization with an owner, a published NPS survey, a write API key and one
    active endpoint subscribed to `response.submitted` whose URL is the receiver's
    (`http://127.0.0.1:<port>/`, allowed by `OUTBOUND_ALLOWED_NETWORKS=127.0.0.1/32` and
    `OUTBOUND_ALLOW_HTTP=true`), then ANALYZEs. One real worker (`celery worker --pool solo`,
    queue `notifications`, where `webhooks.*` is routed; the run's Redis database 14, emptied
    first) sends the deliveries; 5 warm-up events go through it before anything is measured.

    Deliveries per second: `manage.py bench_webhooks --count 2000` (200 with --quick) emits
    one `response.submitted` event at a time, each in its own transaction, through the real
    `event_emit` (the event row, one delivery row, the `deliver` task published on commit);
    the worker claims each delivery, signs the body and POSTs it through `core.safe_http`, and
    logs the attempt. The figure is deliveries per second from the first emit until the
    receiver holds the last one (the worker sends while events are still being emitted). The
    baseline beside it: the same number of signed envelopes posted one after another with
    `core.safe_http.post_body` from one process (the worker's HTTP path without Celery or the
    database); the ratio is the delivery rate over that rate.

    Submit to delivery: a real gunicorn (2 sync workers) and the same worker; after 3 warm-up
    responses, `POST /api/v1/orgs/<org>/responses/` with the write key (a kiosk's NPS answer,
    201 expected) on a fixed schedule of 10 per second for 20 s (3 s with --quick) by up to 4
    client threads; the receiver notes when the delivery of each response id (the payload's
    `data.id`) arrives. Figures: p50 and p95 (nearest rank) of arrival minus the start of its
    POST, in ms; the POSTs' own times are the baseline in the notes.

    Errors count events not recorded, deliveries that never arrived, signatures that do not
    verify, webhook ids that arrived twice, POSTs not answered 201 and deliveries left
    anything but `succeeded` in the database at the end (`manage.py bench_webhooks
    --report`). The notes give the 1-minute load average when each phase began.
    """
    events = QUICK_EVENTS if context.quick else FULL_EVENTS
    post_seconds = QUICK_SECONDS if context.quick else FULL_SECONDS
    # The run's own Redis database (14): database 13 is shared with other benchmarks' workers.
    worker_redis = context.redis_url
    redis.Redis.from_url(worker_redis).flushdb()  # tasks earlier benchmarks left queued
    receiver = Receiver()
    sink = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    sink.daemon_threads = True
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{sink.server_address[1]}/"
    overrides = {
        "REDIS_URL": worker_redis,
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "OUTBOUND_ALLOW_HTTP": "true",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    environ = context.environ(**overrides)
    try:
        seeded = _manage(environ, "--setup", "--url", url)
        receiver.use_secret(seeded["secret"])
        floor = _manage(environ, "--floor", str(events), "--url", url + "floor", "--prefix", "f")
        with _worker(environ) as worker:
            _warm_up(environ, receiver, worker)
            emitted, delivered = _deliveries(environ, receiver, worker, events)
            receiver.reset()
            with running_server(context, environ=overrides) as server:
                submitted = _submit_to_delivery(server.port, seeded, receiver, worker, post_seconds)
        report = _manage(environ, "--report")
    finally:
        sink.shutdown()
        sink.server_close()

    statuses = report["statuses"]
    expected = WARMUP_EVENTS + emitted["emitted"] + WARMUP_POSTS + submitted.created
    not_succeeded = sum(n for status, n in statuses.items() if status != "succeeded")
    succeeded = statuses.get("succeeded", 0)
    stored = (
        f"database: {succeeded:,} of {expected:,} deliveries succeeded in "
        f"{report['attempts']:,} attempts"
        + (f", others {_others(statuses)}" if not_succeeded else "")
    )
    rate = delivered.count / delivered.seconds if delivered.seconds > 0 else 0.0
    floor_rate = floor["posted"] / floor["seconds"] if floor["seconds"] > 0 else 0.0
    latencies = submitted.latencies
    p50, p95 = _percentile_ms(latencies, 0.5), _percentile_ms(latencies, 0.95)
    posts50, posts95 = (
        _percentile_ms(submitted.post_times, 0.5),
        _percentile_ms(submitted.post_times, 0.95),
    )
    return [
        Result(
            name="webhooks.deliveries",
            figure=rate,
            unit="deliveries/s",
            notes=f"{delivered.count:,} of {events:,} events delivered in {delivered.seconds:.1f} s "
            f"from the first emit, one solo worker; emitted at "
            f"{_rate(emitted['emitted'], emitted['seconds']):.0f}/s ({emitted['seconds']:.1f} s); "
            f"{delivered.distinct:,} distinct webhook-ids, {delivered.duplicates} duplicates, "
            f"{delivered.bad_signatures} bad signatures{delivered.samples()}; "
            f"load average {delivered.load:.1f} when it began",
            errors=(events - emitted["emitted"])
            + (events - delivered.count)
            + delivered.duplicates
            + delivered.bad_signatures,
        ),
        Result(
            name="webhooks.post_floor",
            figure=floor_rate,
            unit="posts/s",
            notes=f"baseline: {floor['posted']:,} signed envelopes posted one after another with "
            f"core.safe_http.post_body in {floor['seconds']:.1f} s (no Celery, no database)"
            + (f"; errors: {' | '.join(floor['samples'])}" if floor["samples"] else ""),
            errors=events - floor["posted"],
        ),
        Result(
            name="webhooks.deliveries_ratio",
            figure=rate / floor_rate if floor_rate else 0.0,
            unit="x",
            notes="deliveries/s through event_emit and the worker / direct posts/s",
        ),
        Result(
            name="webhooks.submit_to_delivery_p50",
            figure=p50,
            unit="ms",
            notes=f"POST start to its response.submitted delivery at the receiver: "
            f"{len(latencies):,} of {submitted.created:,} responses, {RATE:g}/s for "
            f"{post_seconds:g} s; p95 {p95:.0f} ms, max {_percentile_ms(latencies, 1):.0f} ms; "
            f"the POSTs themselves took p50 {posts50:.0f} ms, p95 {posts95:.0f} ms; "
            f"gunicorn (2 sync workers) and one solo worker; "
            f"load average {submitted.load:.1f} when it began",
            errors=submitted.post_errors + (submitted.created - len(latencies)),
        ),
        Result(
            name="webhooks.submit_to_delivery_p95",
            figure=p95,
            unit="ms",
            notes=f"95th percentile (nearest rank); baseline: the POST's own p95 {posts95:.0f} ms, "
            f"ratio {p95 / posts95 if posts95 else 0:.1f}x; {submitted.bad_signatures} bad "
            f"signatures{submitted.samples}; {stored}",
            errors=submitted.bad_signatures + submitted.duplicates + not_succeeded,
        ),
    ]


# --- the receiver ------------------------------------------------------------------------------


class Receiver:
    """Notes each delivery's arrival (wall clock and perf counter) by webhook-id and by the
    payload's `data.id`, verifying its signature first; `/floor` posts are only counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.webhook = None
        self.reset()

    def use_secret(self, secret: str) -> None:
        from standardwebhooks.webhooks import Webhook

        self.webhook = Webhook(secret)

    def reset(self) -> None:
        with self.lock:
            self.ids: dict[str, int] = {}
            self.arrivals: dict[str, float] = {}  # data.id -> perf_counter at arrival
            self.last_epoch = 0.0
            self.bad_signatures = 0
            self.bad_samples: list[str] = []
            self.floor = 0

    def record(self, path: str, headers, body: bytes) -> None:
        epoch, perf = time.time(), time.perf_counter()
        if path.rstrip("/").endswith("floor"):
            with self.lock:
                self.floor += 1
            return
        signed = {
            name: headers.get(name, "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            payload = self.webhook.verify(body, signed)
            problem = ""
        except Exception as error:  # WebhookVerificationError, or no secret yet
            payload, problem = None, f"{type(error).__name__}: {error}"
        with self.lock:
            self.ids[signed["webhook-id"]] = self.ids.get(signed["webhook-id"], 0) + 1
            self.last_epoch = max(self.last_epoch, epoch)
            if payload is None:
                self.bad_signatures += 1
                if len(self.bad_samples) < 3:
                    self.bad_samples.append(problem[:160])
                return
            response_id = (payload.get("data") or {}).get("id")
            if response_id and response_id not in self.arrivals:
                self.arrivals[response_id] = perf

    def delivered(self) -> int:
        with self.lock:
            return len(self.ids)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.record(self.path, self.headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        return Handler


# --- the phases --------------------------------------------------------------------------------


@dataclass
class Delivered:
    count: int
    distinct: int
    duplicates: int
    bad_signatures: int
    bad_samples: list[str]
    seconds: float
    load: float

    def samples(self) -> str:
        return f" ({' | '.join(self.bad_samples)})" if self.bad_samples else ""


def _warm_up(environ: dict[str, str], receiver: Receiver, worker: subprocess.Popen) -> None:
    """A few events through the worker, so that its start and first connections are not timed."""
    _manage(environ, "--count", str(WARMUP_EVENTS), "--prefix", "warm")
    _wait(lambda: receiver.delivered() >= WARMUP_EVENTS, worker, timeout=120)
    if receiver.delivered() < WARMUP_EVENTS:
        raise BenchSetupError(
            f"only {receiver.delivered()} of {WARMUP_EVENTS} warm-up deliveries arrived:\n"
            f"{_log_tail(worker)}"
        )
    receiver.reset()


def _deliveries(
    environ: dict[str, str], receiver: Receiver, worker: subprocess.Popen, events: int
) -> tuple[dict, Delivered]:
    load = os.getloadavg()[0]
    emitted = _manage(environ, "--count", str(events))
    _wait(lambda: receiver.delivered() >= emitted["emitted"], worker, timeout=TIMEOUT)
    time.sleep(0.5)  # a duplicate would come right after
    with receiver.lock:
        ids = dict(receiver.ids)
        last = receiver.last_epoch
        bad, samples = receiver.bad_signatures, list(receiver.bad_samples)
    arrived = sum(ids.values())
    delivered = Delivered(
        count=len(ids),
        distinct=len(ids),
        duplicates=arrived - len(ids),
        bad_signatures=bad,
        bad_samples=samples,
        seconds=max(0.0, last - emitted["first_emit_at"]) if ids else 0.0,
        load=load,
    )
    return emitted, delivered


@dataclass
class Submitted:
    created: int = 0
    post_errors: int = 0
    post_samples: list[str] = field(default_factory=list)
    post_times: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    bad_signatures: int = 0
    duplicates: int = 0
    load: float = 0.0

    @property
    def samples(self) -> str:
        return f"; errors: {' | '.join(self.post_samples)}" if self.post_samples else ""


def _submit_to_delivery(
    port: int, seeded: dict, receiver: Receiver, worker: subprocess.Popen, seconds: float
) -> Submitted:
    path = f"/api/v1/orgs/{seeded['organization']}/responses/"
    headers = {"Authorization": f"Bearer {seeded['key']}", "Content-Type": "application/json"}
    lock = threading.Lock()
    started: dict[str, float] = {}
    outcome = Submitted()

    def post(number: int) -> None:
        body = json.dumps(_item(seeded["survey"], number)).encode()
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            status, answer = None, f"{type(error).__name__}: {error}".encode()
        finally:
            connection.close()
        answered = time.perf_counter()
        with lock:
            if status == 201:
                started[json.loads(answer)["id"]] = began
                outcome.post_times.append(answered - began)
            else:
                outcome.post_errors += 1
                if len(outcome.post_samples) < 3:
                    outcome.post_samples.append(f"HTTP {status}: {answer[:120]!r}")

    for number in range(WARMUP_POSTS):
        post(number)
    _wait(lambda: len(receiver.arrivals) >= len(started), worker, timeout=120)
    if len(started) < WARMUP_POSTS or len(receiver.arrivals) < len(started):
        raise BenchSetupError(
            f"warm-up: {len(started)} of {WARMUP_POSTS} POSTs answered 201, "
            f"{len(receiver.arrivals)} delivered{outcome.samples}\n{_log_tail(worker)}"
        )
    receiver.reset()
    started.clear()
    outcome.post_times.clear()

    total = int(RATE * seconds)
    outcome.load = os.getloadavg()[0]
    with ThreadPoolExecutor(max_workers=POST_THREADS) as pool:
        begin = time.perf_counter()
        for number in range(total):
            delay = begin + number / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, WARMUP_POSTS + number)
    wanted = set(started)
    _wait(lambda: wanted <= set(receiver.arrivals), worker, timeout=TIMEOUT)
    time.sleep(0.5)
    with receiver.lock:
        arrivals = dict(receiver.arrivals)
        outcome.bad_signatures = receiver.bad_signatures
        outcome.duplicates = sum(receiver.ids.values()) - len(receiver.ids)
        if receiver.bad_samples:
            outcome.post_samples += receiver.bad_samples
    outcome.created = len(started)
    outcome.latencies = [arrivals[key] - began for key, began in started.items() if key in arrivals]
    return outcome


def _item(survey: str, number: int) -> dict:
    return {
        "survey": survey,
        "channel": "kiosk",
        "language": "fi",
        "answers": [
            {"question": "score", "value": number % 11},
            {"question": "liked", "value": "Friendly staff and a short queue"},
        ],
    }


# --- processes ---------------------------------------------------------------------------------


def _manage(environ: dict[str, str], *args: str) -> dict:
    """`manage.py bench_webhooks <args>` against the bench services; its JSON output."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "bench_webhooks", "--slug", SLUG, *args],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchSetupError(
            f"manage.py bench_webhooks {' '.join(args[:1])} failed:\n"
            f"{completed.stderr.strip()[-3000:] or completed.stdout.strip()}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def _worker(environ: dict[str, str]) -> Iterator[subprocess.Popen]:
    """One solo Celery worker on `notifications`; always stopped afterwards."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the worker, below)
    worker = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "celery"),
            "-A",
            "cxplatform",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "notifications",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
        ],
        cwd=PROJECT_ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    worker.log = log  # type: ignore[attr-defined]
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=20)
        log.close()


def _log_tail(worker: subprocess.Popen, chars: int = 3000) -> str:
    log = worker.log  # type: ignore[attr-defined]
    log.seek(0)
    return log.read().decode(errors="replace")[-chars:]


def _wait(done, worker: subprocess.Popen, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        if worker.poll() is not None:
            raise BenchSetupError(f"the worker stopped:\n{_log_tail(worker)}")
        time.sleep(0.02)


# --- arithmetic --------------------------------------------------------------------------------


def _percentile_ms(values: list[float], fraction: float) -> float:
    """Nearest rank, in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _others(statuses: dict[str, int]) -> str:
    return ", ".join(
        f"{n} {status}" for status, n in sorted(statuses.items()) if status != "succeeded"
    )
