"""A respondent who answers while PostgreSQL is down loses nothing: the page comes from its copy
in the cache, the answer is spooled in Redis and stored exactly once when the database is back.
With Redis down too, the answers come back in a form to send again. Run as production runs:
gunicorn against a PostgreSQL cluster of the test's own."""

import json
import re
import uuid
from contextlib import closing

import psycopg2
import pytest
import redis

from surveys.spool import SPOOL_KEY
from tests.plugins.private_postgres import manage_on

SEED = """
import json
from tests.factories import OrganizationFactory
from tests.surveys.factories import make_link, make_survey
organization = OrganizationFactory(slug="spool-org")
survey = make_survey(organization)
print(json.dumps({"slug": survey.link_slug, "token": make_link(survey).token}))
"""
DRAIN = "from surveys.spool import spool_drain; print(spool_drain())"


def _count_responses(cluster) -> int:
    with closing(psycopg2.connect(cluster.url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM surveys_response")
        return cursor.fetchone()[0]


@pytest.fixture
def spool(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(SPOOL_KEY)
    yield client
    client.delete(SPOOL_KEY)


@pytest.mark.django_db
def test_answers_given_while_the_database_is_down_are_stored_once_when_it_is_back(
    private_postgres, gunicorn_on, spool
):
    seeded = json.loads(manage_on(private_postgres.url, "shell", "-c", SEED).splitlines()[-1])
    server = gunicorn_on(private_postgres.url)
    anonymous, personal = f"/s/{seeded['slug']}/", f"/r/{seeded['token']}/"
    assert server.get(anonymous)[0] == 200 and server.get(personal)[0] == 200

    private_postgres.stop()
    try:
        status, _headers, page = server.get(anonymous + "?lang=sv")
        assert status == 200 and 'name="score"' in page.decode()

        answer = {"score": "9", "seen": "score,liked", "lang": "sv", "submission": uuid.uuid4().hex}
        first = server.post(anonymous, answer)
        again = server.post(anonymous, answer)  # a double click
        assert first[0] == again[0] == 302
        status, _headers, thanks = server.get(first[1]["Location"])
        assert status == 200 and "Thanks (sv)" in thanks.decode()

        assert server.post(anonymous, {**answer, "score": "42"})[0] == 400  # still validated

        status, headers, _page = server.post(personal, {"score": "3", "seen": "score,improve"})
        assert status == 302
        assert server.get(headers["Location"])[0] == 200
        assert spool.llen(SPOOL_KEY) == 3
    finally:
        private_postgres.start()

    assert manage_on(private_postgres.url, "shell", "-c", DRAIN).strip().endswith("3")
    assert _count_responses(private_postgres) == 2  # the double click is one response
    assert spool.llen(SPOOL_KEY) == 0
    assert manage_on(private_postgres.url, "shell", "-c", DRAIN).strip().endswith("0")


@pytest.mark.django_db
def test_with_the_database_and_redis_down_the_answers_come_back_to_send_again(
    private_postgres, gunicorn_on
):
    server = gunicorn_on(private_postgres.url, REDIS_URL="redis://127.0.0.1:1/0")
    private_postgres.stop()
    try:
        status, headers, page = server.post(
            "/s/any-survey/", {"score": "9", "comment": "Kiva <palvelu>", "lang": "fi"}
        )
    finally:
        private_postgres.start()

    assert status == 503 and int(headers["Retry-After"]) > 0
    text = page.decode()
    assert 'lang="fi"' in text
    assert re.search(r'name="score" value="9"', text)
    assert 'value="Kiva &lt;palvelu&gt;"' in text
