import re
from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone
from rest_framework.response import Response

from accounts.models import ApiKey, hash_secret
from core.models import ActivityLog
from tenancy import policies
from tenancy.api import OrganizationAPIView
from tests.conftest import api_client_with_key, client_for
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db

KEYS = "/o/acme/api-keys/"
FULL_KEY = re.compile(r"cxk_[0-9a-f]{8}\.[\w-]{20,}")


class WriteProbe(OrganizationAPIView):
    """An endpoint that writes (as surveys and journeys do), to see which keys may call it."""

    policy = policies.SURVEYS

    def get(self, request, org_slug):
        return Response({"read": True})

    def post(self, request, org_slug):
        return Response({"written": True}, status=201)


urlpatterns = [
    path("api/v1/orgs/<slug:org_slug>/write-probe/", WriteProbe.as_view()),
    path("", include("cxplatform.urls")),
]


def create_key(client, name="CRM sync", scope="read"):
    response = client.post(KEYS, {"name": name, "scope": scope})
    assert response.status_code == 200
    return response, FULL_KEY.search(response.content.decode()).group(0)


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(org, personas, owner_client):
    response, full_key = create_key(owner_client)

    html = response.content.decode()
    assert "it is shown only this once" in html
    api_key = ApiKey.all_objects.get(organization=org)
    assert api_key.secret_hash == hash_secret(full_key)
    assert full_key.startswith(api_key.prefix + ".")
    secret = full_key.split(".", 1)[1]
    stored = " ".join(str(getattr(api_key, f.attname)) for f in ApiKey._meta.concrete_fields)
    assert secret not in stored
    assert api_key.created_by == personas.owner

    later = owner_client.get(KEYS).content.decode()
    assert full_key not in later
    assert secret not in later
    assert api_key.prefix in later
    assert "CRM sync" in later


def test_a_new_key_works_at_once_and_its_last_use_is_shown(org, personas, owner_client):
    _, full_key = create_key(owner_client)
    api_key = ApiKey.all_objects.get(organization=org)
    assert api_key.last_used_at is None
    assert "never" in owner_client.get(KEYS).content.decode()

    response = api_client_with_key(full_key).get("/api/v1/orgs/acme/")

    assert response.status_code == 200
    api_key.refresh_from_db()
    assert timezone.now() - api_key.last_used_at < timedelta(seconds=30)
    assert "never" not in owner_client.get(KEYS).content.decode()


def test_last_use_is_written_at_most_once_a_minute(org):
    api_key, full_key = make_api_key(org)
    client = api_client_with_key(full_key)
    client.get("/api/v1/orgs/acme/")
    api_key.refresh_from_db()
    first_use = api_key.last_used_at

    client.get("/api/v1/orgs/acme/")

    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use


def test_a_revoked_key_answers_401_and_the_page_says_revoked(org, personas, owner_client):
    _, full_key = create_key(owner_client)
    api_key = ApiKey.all_objects.get(organization=org)
    assert api_client_with_key(full_key).get("/api/v1/orgs/acme/").status_code == 200

    response = owner_client.post(f"/o/acme/api-keys/{api_key.public_id}/revoke/", follow=True)

    assert response.status_code == 200
    assert f"Key {api_key.prefix} revoked." in response.content.decode()
    refused = api_client_with_key(full_key).get("/api/v1/orgs/acme/")
    assert refused.status_code == 401
    assert set(refused.json()) == {"message", "code", "extra"}
    assert "revoked" in owner_client.get(KEYS).content.decode()
    actions = ActivityLog.all_objects.filter(organization=org, object_id=api_key.public_id)
    assert set(actions.values_list("action", flat=True)) == {
        "accounts.api_key.created",
        "accounts.api_key.revoked",
    }


def test_revoking_twice_changes_nothing(org, personas, owner_client):
    api_key, _ = make_api_key(org)
    owner_client.post(f"/o/acme/api-keys/{api_key.public_id}/revoke/")
    api_key.refresh_from_db()
    first = api_key.revoked_at
    owner_client.post(f"/o/acme/api-keys/{api_key.public_id}/revoke/")
    api_key.refresh_from_db()
    assert api_key.revoked_at == first


@pytest.mark.urls(__name__)
def test_a_read_key_gets_403_on_writes_and_a_write_key_may_write(org, personas):
    _, read_key = make_api_key(org, scope="read")
    _, write_key = make_api_key(org, scope="write")

    assert api_client_with_key(read_key).get("/api/v1/orgs/acme/write-probe/").status_code == 200
    refused = api_client_with_key(read_key).post("/api/v1/orgs/acme/write-probe/", {})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert (
        api_client_with_key(write_key).post("/api/v1/orgs/acme/write-probe/", {}).status_code == 201
    )


def test_no_key_may_change_the_organization_itself(org, personas, read_api, write_api):
    # The organization endpoint only reads; changing it needs the manage-organization permission,
    # which keys never have, so the permission check answers before the method would (403, not 405).
    for client in (read_api, write_api):
        response = client.put("/api/v1/orgs/acme/", {"name": "Hijacked"}, format="json")
        assert response.status_code == 403
        assert set(response.json()) == {"message", "code", "extra"}
    org.refresh_from_db()
    assert org.name == "Acme Oy"


def test_a_key_created_with_the_write_scope_says_so(org, personas, owner_client):
    create_key(owner_client, name="Importer", scope="write")
    assert ApiKey.all_objects.get(organization=org).scope == "write"
    assert "Read and write" in owner_client.get(KEYS).content.decode()


def test_a_key_needs_a_name(org, personas, owner_client):
    response = owner_client.post(KEYS, {"name": "", "scope": "read"})
    assert response.status_code == 400
    assert not ApiKey.all_objects.exists()


def test_the_keys_page_lists_this_organizations_keys_only(org, other_org, personas, owner_client):
    ours, _ = make_api_key(org, name="Ours")
    theirs, _ = make_api_key(other_org, name="Theirs")
    html = owner_client.get(KEYS).content.decode()
    assert ours.prefix in html
    assert theirs.prefix not in html


def test_a_key_of_another_organization_cannot_be_revoked_from_here(other_org, personas):
    theirs, _ = make_api_key(other_org)
    response = client_for(personas.owner).post(f"/o/acme/api-keys/{theirs.public_id}/revoke/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize("persona", ["viewer", "analyst", "cx_manager"])
def test_only_admins_and_owners_see_and_manage_keys(org, personas, persona):
    client = client_for(getattr(personas, persona))
    api_key, _ = make_api_key(org)
    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "Mine", "scope": "write"}).status_code == 403
    assert client.post(f"/o/acme/api-keys/{api_key.public_id}/revoke/").status_code == 403
    assert ApiKey.all_objects.count() == 1
    assert 'href="/o/acme/api-keys/"' not in client.get("/o/acme/").content.decode()


def test_an_admin_manages_keys(personas):
    admin = client_for(personas.admin)
    _, full_key = create_key(admin, name="Admin's key")
    assert api_client_with_key(full_key).get("/api/v1/orgs/acme/").status_code == 200


def test_the_keys_page_does_not_query_per_key(
    org, personas, owner_client, django_assert_max_num_queries
):
    for n in range(10):
        make_api_key(org, name=f"key {n}")
    with django_assert_max_num_queries(6):
        assert owner_client.get(KEYS).status_code == 200
