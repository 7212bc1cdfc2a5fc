"""Rate limits per API key, counted in Redis: the IETF RateLimit fields on every answer, 429 with
Retry-After in the error format over the limit, and requests let through when Redis is down."""

import re

import pytest
import redis

from core import throttling
from tests.conftest import api_client_with_key
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/journeys/"
REMAINING = re.compile(r'^"per-key";r=(\d+);t=(\d+)$')


@pytest.fixture(autouse=True)
def _redis_reachable(monkeypatch):
    monkeypatch.setattr(throttling, "_redis_down_until", 0.0)


def test_every_answer_carries_the_policy_and_what_is_left(write_api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 50
    first, second = write_api.get(URL), write_api.get(URL)

    assert first["RateLimit-Policy"] == '"per-key";q=50;w=60'
    remaining, reset = map(int, REMAINING.match(first["RateLimit"]).groups())
    assert remaining == 49
    assert 1 <= reset <= 60
    assert int(REMAINING.match(second["RateLimit"]).group(1)) == 48
    # Errors are counted and labelled too.
    missing = write_api.get(URL + "jny_missing/")
    assert missing.status_code == 404
    assert int(REMAINING.match(missing["RateLimit"]).group(1)) == 47


def test_over_the_limit_is_a_429_with_retry_after_in_the_error_format(org, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    api = api_client_with_key(make_api_key(org)[1])
    answers = [api.get(URL) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert set(refused.json()) == {"message", "code", "extra"}
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert REMAINING.match(refused["RateLimit"]).group(1) == "0"


def test_limits_are_per_key_and_a_key_may_have_its_own(org, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    busy_key, full_key = make_api_key(org, name="busy")
    busy_key.rate_limit_per_minute = 5
    busy_key.save(update_fields=["rate_limit_per_minute"])
    busy = api_client_with_key(full_key)
    quiet = api_client_with_key(make_api_key(org, name="quiet")[1])

    assert [busy.get(URL).status_code for _ in range(5)] == [200] * 5
    assert busy.get(URL)["RateLimit-Policy"] == '"per-key";q=5;w=60'
    assert [quiet.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_signed_in_members_share_a_limit_per_user(client, personas, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    client.force_login(personas.viewer)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(URL)["RateLimit-Policy"] == '"per-user";q=2;w=60'


def test_requests_go_through_uncounted_when_redis_is_down(write_api, settings, monkeypatch):
    settings.API_RATE_LIMIT_PER_MINUTE = 1

    # Nothing listens on port 1: every connection is refused.
    closed = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    monkeypatch.setattr(throttling, "redis_client", lambda: closed)
    answers = [write_api.get(URL) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0]["RateLimit-Policy"] == '"per-key";q=1;w=60'
    assert "RateLimit" not in answers[0]
