"""The respondent pages' rate limit and stored address: an answer is never lost to a down Redis,
and a client cannot dodge the limit or choose its recorded address by forging X-Forwarded-For."""

import pytest

from surveys import ratelimit
from surveys.models import Response
from tests.surveys.factories import make_link, make_survey

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there
PROXY = "10.0.0.1"
CLIENT = "203.0.113.9"


@pytest.fixture(autouse=True)
def _counted_in_one_window(one_rate_window):
    pass


@pytest.fixture
def survey(org):
    return make_survey(org)


@pytest.fixture
def redis_and_worker_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NOWHERE,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = NOWHERE
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
    settings.CELERY_BROKER_CONNECTION_RETRY = False
    settings.CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "max_retries": 0,
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("personal", [False, True], ids=["anonymous-link", "personal-link"])
def test_with_redis_and_the_worker_down_the_answer_is_saved_and_thanked(
    client, survey, redis_and_worker_down, personal
):
    url = f"/r/{make_link(survey).token}/" if personal else f"/s/{survey.link_slug}/"

    page = client.post(url, {"score": "9", "seen": "score,liked", "lang": "en"}, follow=True)

    assert page.status_code == 200
    assert page.redirect_chain[0][1] == 302
    assert "Thanks (en)" in page.content.decode()
    assert Response.all_objects.filter(survey=survey).count() == 1


def _post(client, survey, **headers):
    return client.post(f"/s/{survey.link_slug}/", {"seen": "score"}, **headers).status_code


@pytest.mark.django_db
def test_rotating_a_forged_forwarded_for_does_not_dodge_the_limit_without_a_proxy(
    client, survey, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    statuses = [
        _post(client, survey, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(ratelimit.PUBLIC_POSTS_PER_MINUTE + 1)
    ]
    assert 429 not in statuses[:-1] and statuses[-1] == 429


@pytest.mark.django_db
def test_behind_one_proxy_only_the_entry_it_added_counts(client, survey, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [
        _post(
            client,
            survey,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {CLIENT}",  # forged, then what the proxy saw
        )
        for n in range(ratelimit.PUBLIC_POSTS_PER_MINUTE + 1)
    ]
    assert 429 not in statuses[:-1] and statuses[-1] == 429
    # Another respondent behind the same proxy is not held back by the first one.
    assert _post(client, survey, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.44") != 429


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "stored"),
    [
        (0, CLIENT, "6.6.6.6", CLIENT),
        (1, PROXY, f"6.6.6.6, {CLIENT}", CLIENT),
        (1, PROXY, f"not-an-address, {CLIENT}", CLIENT),
        (2, PROXY, f"6.6.6.6, {CLIENT}, 10.0.0.2", CLIENT),
        (1, CLIENT, "", CLIENT),  # came round the proxy: the peer is the client
    ],
)
def test_the_stored_address_is_the_one_our_proxies_saw(
    client, org, survey, settings, proxies, remote, forwarded, stored
):
    org.store_respondent_metadata = True
    org.save()
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"REMOTE_ADDR": remote}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded

    page = client.post(f"/s/{survey.link_slug}/", {"score": "9", "seen": "score,liked"}, **headers)

    assert page.status_code == 302
    assert Response.all_objects.get(survey=survey).ip_address == stored
