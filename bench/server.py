"""A real gunicorn serving the application on 127.0.0.1, always stopped afterwards.

The server runs in its own session (process group); leaving `running_server()` kills the whole
group, and an `atexit` hook kills any group still alive if the runner dies another way.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.environment import PROJECT_ROOT, BenchContext, BenchSetupError

HOST = "127.0.0.1"
# Process group ids of every server this process started; `stop()` removes them once gone.
started_groups: set[int] = set()


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    pid: int
    workers: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(
    context: BenchContext,
    *,
    workers: int = 2,
    ready_path: str = "/livez",
    timeout: float = 60,
    environ: dict[str, str] | None = None,
) -> Iterator[Server]:
    """gunicorn `cxplatform.wsgi` with `workers` sync workers, answering `ready_path` with 200;
    `environ` overrides the application's environment (a bench-only settings module, say)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cxp-bench-") as scratch:
        log_path = Path(scratch) / "gunicorn.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "cxplatform.wsgi:application",
                    "--workers",
                    str(workers),
                    "--worker-class",
                    "sync",
                    "--bind",
                    f"{HOST}:{port}",
                    "--worker-tmp-dir",
                    scratch,
                    "--log-level",
                    "warning",
                ],
                cwd=PROJECT_ROOT,
                env=context.environ(**(environ or {})),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started_groups.add(process.pid)
        try:
            _wait_until_ready(process, port, ready_path, timeout, log_path)
            yield Server(host=HOST, port=port, pid=process.pid, workers=workers)
        finally:
            stop(process)


def stop(process: subprocess.Popen, *, grace: float = 10) -> None:
    """Ask the whole process group to stop (SIGTERM), then kill it if it lingers."""
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    if not group_alive(group):
        started_groups.discard(group)


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_until_ready(
    process: subprocess.Popen, port: int, path: str, timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchSetupError(f"gunicorn exited with {process.returncode}:\n{_tail(log_path)}")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise BenchSetupError(
        f"gunicorn did not answer {path} within {timeout:.0f} s:\n{_tail(log_path)}"
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@atexit.register
def _kill_leftovers() -> None:
    for group in list(started_groups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
