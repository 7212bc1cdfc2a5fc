"""A PostgreSQL cluster of the test's own, to restart and stop without touching the machine's
shared one: `initdb` into a temporary directory, the schema of the test database copied in with
pg_dump, and a production-like gunicorn serving the app against it."""

import contextlib
import http.client
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.plugins.production import dockerfile_command, production_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = "cxplatform"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres_user() -> list[str]:
    # initdb and postgres refuse to run as root; the machine's `postgres` account runs them.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivateCluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _pg_ctl(self, action: str) -> None:
        # The server's output goes to a log file: a pipe would keep pg_ctl's caller waiting.
        subprocess.run(
            [
                *_as_postgres_user(),
                *("pg_ctl", "-D", str(self.directory / "data"), "-w", "-m", "fast"),
                *("-l", str(self.directory / "log"), "-o", self._options(), action),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")


@pytest.fixture(scope="module")
def private_postgres(django_db_setup, django_db_blocker):
    """A running private cluster holding the test database's schema (no rows)."""
    if shutil.which("initdb") is None:
        pytest.fail("PostgreSQL's initdb is not on PATH; the fault tests need it")
    directory = Path(tempfile.mkdtemp(prefix="cxp-pg-"))
    if os.geteuid() == 0:
        os.chown(directory, pwd.getpwnam("postgres").pw_uid, -1)
    cluster = PrivateCluster(directory=directory, port=free_port())
    initdb = ["initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(directory / "data")]
    subprocess.run(
        [*_as_postgres_user(), *initdb],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster.start()
    try:
        source = django_settings.DATABASES["default"]
        private = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
        subprocess.run(["createdb", *private, DATABASE], check=True, timeout=30)
        shared = ["-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432)]
        dump = subprocess.run(
            [
                "pg_dump",
                "--schema-only",
                "--no-owner",
                *shared,
                "-U",
                source["USER"],
                source["NAME"],
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            ["psql", *private, "-q", "-v", "ON_ERROR_STOP=1", DATABASE],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # a test left it stopped
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Server:
    base: str

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """A form POST, its redirect not followed."""
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(self.base).netloc, timeout=30)
        try:
            connection.request(
                "POST",
                path,
                body=urllib.parse.urlencode(fields),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


def manage_on(database_url: str, *args: str) -> str:
    """Run manage.py as production does against `database_url`; its standard output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def gunicorn_on(request):
    """Start the image's gunicorn command (2 workers, DEBUG off) against a database URL."""
    servers: list[subprocess.Popen] = []

    def start(database_url: str, **environment: str) -> Server:
        port = free_port()
        env = production_env(
            DATABASE_URL=database_url,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
            **environment,
        )
        command = dockerfile_command()
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), *command[1:]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(process)
        server = Server(base=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 90
        while True:
            try:
                if server.get("/livez")[0] == 200:
                    return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)

    yield start
    for process in servers:
        process.terminate()
        process.wait(timeout=30)
