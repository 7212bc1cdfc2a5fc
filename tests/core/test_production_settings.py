"""Production configuration, checked the way an operator meets it: manage.py and gunicorn run
as separate processes with only environment variables to go on."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.plugins.production import dockerfile_command, production_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_on_without_a_secret_key_refuses_to_start():
    result = manage("check", env=production_env(DEBUG="true", SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_embedded_mode_starts_without_a_key_and_writes_email_to_files():
    env = production_env(CXP_EMBEDDED="true", SECRET_KEY=None, DATABASE_URL=None, REDIS_URL=None)
    show = "from django.conf import settings as s; print(s.EMAIL_BACKEND, *s.ALLOWED_HOSTS)"
    result = manage("shell", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    backend, *hosts = result.stdout.splitlines()[-1].split()  # after the shell's own notice
    assert backend == "core.mail.EmlFileBackend"
    assert {"127.0.0.1", "localhost"} <= set(hosts)


def test_check_deploy_finds_nothing_to_fix():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_api_schema_builds_without_warnings():
    result = manage(
        "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull, env=production_env()
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_images_gunicorn_command_allows_slow_requests_a_minute():
    command = dockerfile_command()
    assert command[0] == "gunicorn"
    result = subprocess.run(
        [str(BIN / "gunicorn"), *command[1:-1], "--print-config", command[-1]],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    settings = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    )
    assert settings["timeout"] == "60"


def test_gunicorn_serves_the_app_with_error_pages_in_the_error_format():
    command = dockerfile_command()
    port = _free_port()
    env = production_env(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # the worker imports the app after the socket is open
            try:
                with urllib.request.urlopen(f"{base}/livez", timeout=30) as live:
                    assert live.status == 200
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/v1/orgs/acme/surveys/srv_%00/", timeout=30)
        assert refused.value.code == 400
        assert set(json.loads(refused.value.read())) == {"message", "code", "extra"}

        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/no-such-page/", timeout=30)
        assert missing.value.code == 404
        assert missing.value.headers["Content-Type"].startswith("text/html")
        assert "Content-Security-Policy" in missing.value.headers
    finally:
        server.terminate()
        server.wait(timeout=30)
