"""Only one Celery beat is effective at a time: a second one started beside it waits on the
scheduler lock in Redis (RedBeat) and takes over when the first stops."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.plugins.production import ROOT, production_env

BIN = Path(sys.executable).parent
ACQUIRED = "beat: Acquired lock"


def _start_beat(log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(BIN / "celery"), "-A", "cxplatform", "beat", "--loglevel=info"],
            cwd=ROOT,
            env=production_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for_line(log: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text():
            return True
        time.sleep(0.2)
    return False


def test_a_second_beat_waits_for_the_first_and_takes_over_when_it_stops():
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("redbeat::lock")
    with tempfile.TemporaryDirectory() as directory:
        first_log, second_log = Path(directory, "first.log"), Path(directory, "second.log")
        first = _start_beat(first_log)
        second = None
        try:
            assert _wait_for_line(first_log, ACQUIRED, 30), first_log.read_text()[-2000:]
            second = _start_beat(second_log)
            assert not _wait_for_line(second_log, ACQUIRED, 6), "two schedulers ran at once"

            first.send_signal(signal.SIGTERM)  # a clean stop gives the lock back
            first.wait(30)

            assert _wait_for_line(second_log, ACQUIRED, 30), second_log.read_text()[-2000:]
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(30)


def test_a_beat_whose_lock_and_schedule_redis_lost_takes_them_back():
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete("redbeat::lock")
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory, "beat.log")
        beat = _start_beat(log)
        try:
            assert _wait_for_line(log, ACQUIRED, 30), log.read_text()[-2000:]
            # What a Redis restart without its file leaves: no lock, no schedule.
            client.delete(*client.keys("redbeat*"))

            assert _wait_for_line(log, "lock taken again and schedule restored", 30), (
                log.read_text()[-2000:]
            )
            assert beat.poll() is None
            assert client.exists("redbeat::lock")
            assert client.exists("redbeat:relay-outbox")
        finally:
            beat.terminate()
            beat.wait(30)
