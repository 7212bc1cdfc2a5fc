"""A database restart or outage, met the way production meets it: gunicorn (2 workers, DEBUG
off, persistent connections) against a PostgreSQL cluster of the test's own."""

import json

import pytest

PAGE = "/s/no-such-survey/"  # a 404 that asks the database
API = "/api/v1/orgs/nobody/surveys/"  # 401/403 after the key is looked up in the database
API_KEY = {"Authorization": "Bearer cxp_unknown.secret"}


def _statuses(server, rounds: int = 6) -> list[int]:
    # Enough requests that both workers answer some (each holds its own connection).
    return [
        status
        for _ in range(rounds)
        for status in (server.get(PAGE)[0], server.get(API, **API_KEY)[0])
    ]


@pytest.mark.django_db
def test_after_a_database_restart_no_request_fails(private_postgres, gunicorn_on):
    server = gunicorn_on(private_postgres.url, CONN_MAX_AGE="60")
    before = _statuses(server)
    assert set(before) <= {401, 403, 404} and 404 in before

    private_postgres.restart()

    after = _statuses(server)
    assert all(status < 500 for status in after), after


@pytest.mark.django_db
def test_while_the_database_is_down_requests_get_503_with_retry_after(
    private_postgres, gunicorn_on
):
    server = gunicorn_on(private_postgres.url, CONN_MAX_AGE="60")
    assert server.get(PAGE)[0] == 404
    private_postgres.stop()
    try:
        status, headers, body = server.get(API, **API_KEY)
        assert status == 503
        assert int(headers["Retry-After"]) > 0
        assert json.loads(body)["code"] == "service_unavailable"

        status, headers, body = server.get(PAGE, **{"Accept-Language": "fi"})
        assert status == 503
        assert int(headers["Retry-After"]) > 0
        assert 'lang="fi"' in body.decode()
    finally:
        private_postgres.start()
    assert server.get(PAGE)[0] == 404
