"""The site's own 400/403/404/500 pages, in the visitor's language, while API paths keep the JSON
error format; and `make run` serves with DEBUG off, so a mistyped address shows the 404 page."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client
from django.urls import include, path
from django.utils import translation
from django.utils.translation import gettext

from cxplatform.urls import handler500  # noqa: F401 (this test urlconf's 500 handler too)

ROOT = Path(__file__).resolve().parents[2]
SHAPE = {"message", "code", "extra"}


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("broken/", broken_view),
    path("api/v1/broken/", broken_view),
    path("", include("cxplatform.urls")),
]


def in_finnish(text: str) -> str:
    with translation.override("fi"):
        return gettext(text)


@pytest.mark.django_db
def test_a_mistyped_address_gets_the_404_page_in_the_visitors_language(client):
    page = client.get("/o/acme/jurneys/", HTTP_ACCEPT_LANGUAGE="fi")
    assert page.status_code == 404
    assert "404.html" in [template.name for template in page.templates]
    html = page.content.decode()
    assert '<html lang="fi">' in html
    assert f"<h1>{in_finnish('Page not found')}</h1>" in html


@pytest.mark.django_db
def test_a_forbidden_action_gets_the_403_page(viewer_client):
    page = viewer_client.post("/o/acme/journeys/new/", {"name": "Nope"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert page.status_code == 403
    assert "403.html" in [template.name for template in page.templates]
    assert '<html lang="sv">' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_bug_gets_the_500_page_without_touching_the_database(django_assert_num_queries):
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        page = client.get("/broken/", HTTP_ACCEPT_LANGUAGE="fi")
    assert page.status_code == 500
    html = page.content.decode()
    assert '<html lang="fi">' in html
    assert in_finnish("Something went wrong") in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_bug_in_the_api_answers_in_the_error_format():
    response = Client(raise_request_exception=False).get("/api/v1/broken/")
    assert response.status_code == 500
    assert set(response.json()) == SHAPE
    assert response.json()["code"] == "server_error"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_sh_debug() -> str:
    """DEBUG as scripts/run.sh exports it when the caller sets none."""
    script = (ROOT / "scripts" / "run.sh").read_text()
    line = next(line for line in script.splitlines() if line.startswith("export DEBUG="))
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    result = subprocess.run(
        ["bash", "-c", f'{line}; printf %s "$DEBUG"'], env=env, capture_output=True, text=True
    )
    return result.stdout


def test_make_run_serves_with_debug_off_and_static_files_on(tmp_path):
    debug = _run_sh_debug()
    assert debug == "false"
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG"}  # the embedded default: no services, no secret
    }
    env.update(
        CXP_EMBEDDED="true",
        DEBUG=debug,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/static/css/app.css", timeout=30) as css:
                    assert css.status == 200
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.5)

        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/o/demo/jurneys/", timeout=30)
        assert missing.value.code == 404
        html = missing.value.read().decode()
        assert "<h1>Page not found</h1>" in html
        assert "URLconf" not in html and "o/&lt;slug:org_slug&gt;" not in html
    finally:
        server.terminate()
        server.wait(timeout=30)
