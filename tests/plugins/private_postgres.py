"""A PostgreSQL cluster of the test's own, to restart and stop without touching the machine's
shared one: `initdb` into a temporary directory, the schema of the test database copied in with
pg_dump, and a production-like gunicorn serving the app against it."""

import http.client
import json
import shutil
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

from bench.cluster import PrivateCluster
from bench.server import free_port
from tests.plugins.production import dockerfile_command, production_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = "cxplatform"


@pytest.fixture(scope="module")
def private_postgres(django_db_setup, django_db_blocker):
    """A running private cluster holding the test database's schema (no rows)."""
    if shutil.which("initdb") is None:
        pytest.fail("PostgreSQL's initdb is not on PATH; the fault tests need it")
    directory = Path(tempfile.mkdtemp(prefix="cxp-pg-"))
    cluster = PrivateCluster.create(directory, DATABASE)
    try:
        source = django_settings.DATABASES["default"]
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
            ["psql", *cluster.client_options, "-q", "-v", "ON_ERROR_STOP=1", DATABASE],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield cluster
    finally:
        cluster.close()
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

    def request(
        self, method: str, path: str, body: dict | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """A JSON request (the API), its redirect not followed."""
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(self.base).netloc, timeout=30)
        try:
            data = None if body is None else json.dumps(body)
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

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
