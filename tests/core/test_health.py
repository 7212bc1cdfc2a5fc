import time

import pytest
from django.db import OperationalError, connection

from cxplatform.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_names_the_state_of_database_cache_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_says_eager_when_tasks_run_in_process(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert client.get("/healthz").json()["broker"] == "eager"


def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "error: OperationalError"
    assert body["cache"] == "ok"


@pytest.fixture
def broker_url_to_a_closed_port(monkeypatch):
    changes = celery_app.conf.changes
    previous = changes.get("broker_url")
    changes["broker_url"] = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(celery_app, "_pool", None)
    yield
    if previous is None:
        changes.pop("broker_url", None)  # Django's CELERY_BROKER_URL shows through again
    else:
        changes["broker_url"] = previous


def test_healthz_stays_200_and_names_the_error_when_only_the_broker_is_down(
    client, broker_url_to_a_closed_port
):

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 10  # a dead broker must not hang the load balancer
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


def test_healthz_does_not_need_a_signed_in_user_and_tells_nothing_secret(client):
    body = client.get("/healthz").content.decode()
    assert "redis://" not in body and "postgres" not in body


def test_livez_answers_ok_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
