"""Digests and share links through the API: the browser's digests and share links, through the
same services and permissions; a share link's token is shown once."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import ActivityLog
from journeys.models import MeasurementPlan
from reports.models import Digest, DigestRecipient, ShareLink
from tenancy.models import Membership
from tests.surveys.factories import make_touchpoint
from tests.test_tenant_isolation import API_DETAILS, API_URLS

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"
DIGESTS = f"{BASE}/digests/"
LINKS = f"{BASE}/share-links/"


@pytest.fixture
def checkout(org):
    touchpoint = make_touchpoint(org, name="Checkout")
    MeasurementPlan.all_objects.create(
        organization=org, touchpoint=touchpoint, metric="nps", target_value=Decimal("30")
    )
    return touchpoint


def member_id(organization, user) -> str:
    return Membership.all_objects.get(organization=organization, user=user).public_id


def days_from_today(org, days: int) -> str:
    return (timezone.localdate(timezone=org.zone) + timedelta(days=days)).isoformat()


def make_digest(api, org, personas, **fields):
    body = {"cadence": "weekly", "recipients": [member_id(org, personas.analyst)], **fields}
    response = api.post(DIGESTS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def make_link(api, **fields):
    response = api.post(LINKS, fields, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_contract_tests_cover_the_new_endpoints():
    assert {DIGESTS, LINKS} <= set(API_URLS)
    assert {f"{DIGESTS}{{id}}/", f"{LINKS}{{id}}/", f"{LINKS}{{id}}/revoke/"} <= set(API_DETAILS)


# --- digests ---


def test_digest_create_read_change_and_delete(write_api, org, personas, checkout):
    analyst, owner = member_id(org, personas.analyst), member_id(org, personas.owner)
    created = make_digest(
        write_api, org, personas, dashboard=checkout.public_id, recipients=[analyst, owner]
    )
    assert created["id"].startswith("dig_")
    assert (created["dashboard_type"], created["dashboard"]) == ("touchpoint", checkout.public_id)
    assert (created["cadence"], created["active"]) == ("weekly", True)
    assert sorted(created["recipients"]) == sorted([analyst, owner])
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    url = f"{DIGESTS}{created['id']}/"
    assert write_api.get(url).json() == created
    assert write_api.get(DIGESTS).json()["results"] == [created]

    changed = write_api.patch(
        url, {"cadence": "daily", "active": False, "recipients": [owner]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["cadence"], body["active"], body["recipients"]) == ("daily", False, [owner])
    assert body["dashboard"] == checkout.public_id  # left alone
    overview = write_api.patch(url, {"dashboard": None}, format="json").json()
    assert (overview["dashboard_type"], overview["dashboard"]) == ("overview", None)
    assert (overview["cadence"], overview["active"]) == ("daily", False)

    assert write_api.delete(url).status_code == 204
    assert write_api.get(url).status_code == 404
    assert not DigestRecipient.all_objects.exists()
    actions = sorted(ActivityLog.all_objects.values_list("action", flat=True))
    assert actions == [
        "reports.digest.created",
        "reports.digest.deleted",
        "reports.digest.updated",
        "reports.digest.updated",
    ]


def test_digest_names_the_overview_by_default_and_may_start_paused(write_api, org, personas):
    created = make_digest(write_api, org, personas, active=False)
    assert (created["dashboard_type"], created["dashboard"], created["active"]) == (
        "overview",
        None,
        False,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"dashboard": "tp_nothere"}, "dashboard"),
        ({"cadence": "hourly"}, "cadence"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["mem_nothere"]}, "recipients"),
        ({"recipients": "mem_nothere"}, "recipients"),
    ],
)
def test_bad_digest_fields_are_field_errors(write_api, org, personas, fields, field):
    body = {"cadence": "weekly", "recipients": [member_id(org, personas.analyst)], **fields}
    response = write_api.post(DIGESTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["extra"]["fields"]) == [field]
    assert not Digest.all_objects.exists()


def test_another_organizations_touchpoint_and_members_are_refused(
    write_api, org, other_org, personas
):
    theirs = make_touchpoint(other_org, name="Theirs")
    ours = [member_id(org, personas.analyst)]
    response = write_api.post(
        DIGESTS,
        {"dashboard": theirs.public_id, "cadence": "daily", "recipients": ours},
        format="json",
    )
    assert response.json()["extra"]["fields"] == {
        "dashboard": ["Choose a dashboard of this organization."]
    }
    outsider = member_id(other_org, personas.outsider)
    response = write_api.post(
        DIGESTS, {"cadence": "daily", "recipients": [*ours, outsider]}, format="json"
    )
    assert response.json()["extra"]["fields"] == {
        "recipients": ["Choose members of this organization."]
    }
    assert not Digest.all_objects.exists()


def test_a_bad_change_leaves_the_digest_as_it_was(write_api, org, personas):
    created = make_digest(write_api, org, personas)
    url = f"{DIGESTS}{created['id']}/"
    response = write_api.patch(url, {"dashboard": "tp_nothere", "cadence": "daily"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["dashboard"]
    assert write_api.get(url).json() == created


def test_members_read_digests_and_analysts_change_them(client, write_api, org, personas):
    created = make_digest(write_api, org, personas)
    url = f"{DIGESTS}{created['id']}/"
    change = {"path": url, "data": {"cadence": "daily"}, "content_type": "application/json"}
    client.force_login(personas.viewer)
    assert client.get(url).status_code == 200
    assert client.patch(**change).status_code == 403
    client.force_login(personas.analyst)
    assert client.patch(**change).json()["cadence"] == "daily"


def test_a_read_key_reads_digests_but_changes_nothing(read_api, write_api, org, personas):
    created = make_digest(write_api, org, personas)
    url = f"{DIGESTS}{created['id']}/"
    assert read_api.get(DIGESTS).status_code == 200
    assert read_api.get(url).status_code == 200
    body = {"cadence": "daily", "recipients": created["recipients"]}
    assert read_api.post(DIGESTS, body, format="json").status_code == 403
    assert read_api.patch(url, body, format="json").status_code == 403
    assert read_api.delete(url).status_code == 403
    assert Digest.all_objects.get().cadence == "weekly"


def test_digest_list_costs_the_same_queries_however_many_digests(write_api, org, personas):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert write_api.get(DIGESTS).status_code == 200
        return len(captured)

    owner = member_id(org, personas.owner)
    make_digest(write_api, org, personas)
    one = queries()
    for _ in range(5):
        make_digest(write_api, org, personas, recipients=[member_id(org, personas.analyst), owner])
    assert queries() == one
    assert len(write_api.get(DIGESTS).json()["results"]) == 6


# --- share links ---


def test_share_link_token_is_shown_once_and_opens_the_dashboard(write_api, org, checkout):
    created = write_api.post(
        LINKS,
        {"dashboard": checkout.public_id, "label": "Board", "expires_on": days_from_today(org, 10)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created["Cache-Control"] == "no-store"
    link = created.json()
    assert link["id"].startswith("shr_")
    assert (link["dashboard_type"], link["dashboard"], link["label"]) == (
        "touchpoint",
        checkout.public_id,
        "Board",
    )
    assert link["url"] == f"http://testserver/share/{link['token']}/"
    assert (link["revoked_at"], link["view_count"]) == (None, 0)
    expiry = timezone.localtime(datetime.fromisoformat(link["expires_at"]), org.zone)
    assert expiry.date().isoformat() == days_from_today(org, 11)

    page = Client().get(link["url"])
    assert page.status_code == 200
    assert b"Checkout" in page.content

    url = f"{LINKS}{link['id']}/"
    again = write_api.get(url).json()
    assert again["view_count"] == 1
    assert "token" not in again and "url" not in again
    listing = write_api.get(LINKS)
    assert link["token"] not in listing.content.decode()
    assert [row["id"] for row in listing.json()["results"]] == [link["id"]]


def test_revoked_link_answers_404_and_stays_listed(write_api, org):
    link = make_link(write_api)
    assert (link["dashboard_type"], link["dashboard"]) == ("overview", None)
    assert Client().get(link["url"]).status_code == 200

    revoked = write_api.post(f"{LINKS}{link['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert Client().get(link["url"]).status_code == 404
    again = write_api.post(f"{LINKS}{link['id']}/revoke/")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert write_api.get(f"{LINKS}{link['id']}/").json()["view_count"] == 1
    assert ActivityLog.all_objects.filter(action="reports.share_link.revoked").count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"dashboard": "tp_nothere"}, "dashboard"),
        ({"expires_on": -1}, "expires_on"),
        ({"expires_on": 0}, "expires_on"),
        ({"expires_on": 400}, "expires_on"),
        ({"expires_on": "next week"}, "expires_on"),
        ({"label": "x" * 201}, "label"),
    ],
)
def test_bad_share_link_fields_are_field_errors(write_api, org, fields, field):
    if isinstance(fields.get("expires_on"), int):
        fields = {"expires_on": days_from_today(org, fields["expires_on"])}
    response = write_api.post(LINKS, fields, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]
    assert not ShareLink.all_objects.exists()


def test_another_organizations_dashboard_cannot_be_shared(write_api, other_org):
    theirs = make_touchpoint(other_org, name="Theirs")
    response = write_api.post(LINKS, {"dashboard": theirs.public_id}, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["dashboard"]


def test_share_links_are_for_those_who_may_export_and_share(client, read_api, write_api, personas):
    link = make_link(write_api)
    revoke = f"{LINKS}{link['id']}/revoke/"
    assert read_api.get(LINKS).status_code == 200
    assert read_api.get(f"{LINKS}{link['id']}/").status_code == 200
    assert read_api.post(LINKS, {}, format="json").status_code == 403
    assert read_api.post(revoke).status_code == 403
    client.force_login(personas.viewer)
    assert client.get(LINKS).status_code == 403
    client.force_login(personas.analyst)
    assert client.post(LINKS, {}, content_type="application/json").status_code == 201
    assert ShareLink.all_objects.get(revoked_at__isnull=True, created_by=personas.analyst)


def test_share_link_list_costs_the_same_queries_however_many_links(write_api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert write_api.get(LINKS).status_code == 200
        return len(captured)

    Client().get(make_link(write_api)["url"])
    one = queries()
    for _ in range(5):
        Client().get(make_link(write_api)["url"])
    assert queries() == one
    assert [row["view_count"] for row in write_api.get(LINKS).json()["results"]] == [1] * 6


# --- other organizations ---


def test_another_organizations_key_finds_nothing(write_api, outsider_api, org, personas):
    digest = f"{DIGESTS}{make_digest(write_api, org, personas)['id']}/"
    link = f"{LINKS}{make_link(write_api)['id']}/"
    for url in (DIGESTS, LINKS, digest, link, f"{link}revoke/"):
        assert outsider_api.get(url).status_code == 404, url
        assert outsider_api.post(url, {}, format="json").status_code == 404, url
    for url in (digest, link):
        assert outsider_api.patch(url, {"cadence": "daily"}, format="json").status_code == 404
        assert outsider_api.delete(url).status_code == 404
    assert Digest.all_objects.get().cadence == "weekly"
    assert ShareLink.all_objects.get().revoked_at is None


def test_ids_of_another_organization_are_not_found(write_api, outsider_api, org, personas):
    theirs = outsider_api.post(LINKS.replace("acme", "rival"), {}, format="json").json()
    assert write_api.get(f"{LINKS}{theirs['id']}/").status_code == 404
    assert write_api.post(f"{LINKS}{theirs['id']}/revoke/").status_code == 404
    assert Client().get(theirs["url"]).status_code == 200
