import pytest

from tests.conftest import api_client_with_key, client_for
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db

ORG_URLS = ["/api/v1/orgs/acme/", "/api/v1/orgs/acme/members/", "/api/v1/orgs/acme/activity/"]


@pytest.mark.parametrize("url", ORG_URLS)
def test_key_of_another_organization_gets_404_on_every_url(personas, outsider_api, url):
    response = outsider_api.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("url", ORG_URLS)
def test_unknown_organization_answers_404_not_403(personas, write_api, url):
    assert write_api.get(url.replace("acme", "nobody-here")).status_code == 404


def test_request_without_key_is_401_with_the_error_format(org):
    response = api_client_with_key("")  # no credentials set
    response.credentials()
    body = response.get("/api/v1/orgs/acme/").json()
    assert set(body) == {"message", "code", "extra"}


def test_revoked_key_is_refused(org):
    from django.utils import timezone

    api_key, full_key = make_api_key(org)
    api_key.revoked_at = timezone.now()
    api_key.save()
    assert api_client_with_key(full_key).get("/api/v1/orgs/acme/").status_code == 401


def test_forged_key_with_a_real_prefix_is_refused(org):
    api_key, _ = make_api_key(org)
    assert (
        api_client_with_key(api_key.prefix + ".forged").get("/api/v1/orgs/acme/").status_code == 401
    )


def test_read_key_reads_its_organization(personas, read_api):
    response = read_api.get("/api/v1/orgs/acme/")
    assert response.status_code == 200
    assert response.json()["slug"] == "acme"
    members = read_api.get("/api/v1/orgs/acme/members/").json()["results"]
    assert len(members) == 5  # the five personas of acme, not the outsider


def test_keys_cannot_read_the_audit_log(personas, write_api):
    assert write_api.get("/api/v1/orgs/acme/activity/").status_code == 403


def test_member_session_reads_api_but_outsider_session_gets_404(personas):
    from rest_framework.test import APIClient

    member = APIClient()
    member.force_login(personas.viewer)
    assert member.get("/api/v1/orgs/acme/members/").status_code == 200
    outsider = APIClient()
    outsider.force_login(personas.outsider)
    assert outsider.get("/api/v1/orgs/acme/members/").status_code == 404
    assert client_for(personas.outsider).get("/o/acme/").status_code == 404
