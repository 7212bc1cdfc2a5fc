"""Invitations queued and sent per second through local fake providers and a real worker."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

from bench.environment import (
    PROJECT_ROOT,
    WORKER_REDIS_DB,
    BenchContext,
    BenchSetupError,
    with_redis_db,
)
from bench.registry import Result, benchmark

FULL_CONTACTS = 2000
QUICK_CONTACTS = 200
TIMEOUT = float(os.environ.get("BENCH_INVITATIONS_TIMEOUT", "600"))
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "bench-twilio-token"


@benchmark("invitations", title="Invitations queued and sent per second (email and SMS)")
def invitations(context: BenchContext) -> list[Result]:
    """Triggered invitations through the whole sending path. `manage.py bench_invitations`
    creates an organization, a published NPS survey and 2,000 contacts (200 with --quick) who
    consented to email and SMS, then queues one invitation per contact, every other one by SMS
    (two to one contact would be skipped by the quarantine), through
    `invitation_trigger` (consent, opt-out and contact-frequency checks, a personal link, the
    invitation row and its history, one Celery task sent to Redis on each commit): the queue rate
    is invitations per second of that loop. One real worker (`celery worker --pool solo`, queue
    `notifications`) claims each invitation, checks the rules again and sends it: email over SMTP
    to a local aiosmtpd sink, SMS with the twilio SDK to a local fake Twilio HTTP server
    (201 answers, no delay). The send rate is invitations per second from the start of queueing
    until the sinks hold every message, so it includes the queueing time while the worker runs
    alongside. Errors count messages that never arrived.
    """
    from aiosmtpd.controller import Controller

    from tests.plugins.fake_twilio import FakeTwilio, _handler
    from tests.plugins.smtp import Outbox, _CollectingHandler, _free_port

    contacts = QUICK_CONTACTS if context.quick else FULL_CONTACTS
    expected = contacts
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    outbox = Outbox()
    smtp = Controller(
        _CollectingHandler(outbox), hostname="127.0.0.1", port=_free_port("127.0.0.1")
    )
    smtp.start()
    twilio = FakeTwilio()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(twilio))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    environ = context.environ(
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{http.server_address[1]}",
        TWILIO_DEFAULT_SENDER="+358400000000",
        CELERY_TASK_ALWAYS_EAGER="false",
        PUBLIC_BASE_URL="https://cx.example.com",
        # A Redis database of its own: another benchmark's worker on the shared bench database
        # also listens to `notifications` and would take these tasks.
        REDIS_URL=with_redis_db(context.redis_url, WORKER_REDIS_DB),
    )
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
            "--prefetch-multiplier",
            "16",
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
        ],
        cwd=PROJECT_ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "manage.py", "bench_invitations", "--count", str(contacts)],
            cwd=PROJECT_ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchSetupError(f"bench_invitations failed:\n{completed.stderr.strip()}")
        queued = json.loads(completed.stdout.strip().splitlines()[-1])
        deadline = time.monotonic() + TIMEOUT
        while len(outbox) + len(twilio.messages) < expected and time.monotonic() < deadline:
            if worker.poll() is not None:
                log.seek(0)
                raise BenchSetupError(f"the worker stopped:\n{log.read()[-2000:].decode()}")
            time.sleep(0.05)
        sent_seconds = time.perf_counter() - started
        if len(outbox) + len(twilio.messages) < expected:
            log.seek(0)
            logging.getLogger(__name__).warning(
                "worker log: %s",
                log.read().decode()[-int(os.environ.get("BENCH_LOG_CHARS", "6000")) :],
            )
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        http.shutdown()
        http.server_close()
        smtp.stop()
    arrived = len(outbox) + len(twilio.messages)
    return [
        Result(
            name="invitations.queued",
            figure=queued["queued"] / queued["seconds"] if queued["seconds"] else 0.0,
            unit="invitations/s",
            notes=f"{queued['queued']:,} invitations (email and SMS) queued in "
            f"{queued['seconds']:.1f} s",
            errors=expected - queued["queued"],
        ),
        Result(
            name="invitations.sent",
            figure=arrived / sent_seconds if sent_seconds else 0.0,
            unit="invitations/s",
            notes=f"{len(outbox):,} emails and {len(twilio.messages):,} SMS arrived in "
            f"{sent_seconds:.1f} s, one solo worker",
            errors=expected - arrived,
        ),
    ]
