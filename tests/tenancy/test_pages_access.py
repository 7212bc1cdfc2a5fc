"""Every page under /o/acme/: who may see it, who may write, and what the settings and activity pages do."""

import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import MemberInvitation, hash_secret
from core.models import ActivityLog
from tenancy.enums import Role
from tenancy.models import Membership
from tests.conftest import client_for
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(org, personas) -> dict[str, str]:
    """Every page of acme, with real ids of acme's objects in the URLs."""
    member = Membership.all_objects.get(organization=org, user=personas.viewer)
    invitation = MemberInvitation.all_objects.create(
        organization=org,
        email="pending@example.com",
        role=Role.VIEWER,
        token_hash=hash_secret(secrets.token_urlsafe(16)),
        expires_at=timezone.now() + timedelta(days=3),
    )
    api_key, _ = make_api_key(org)
    return {
        "home": "/o/acme/",
        "members": "/o/acme/members/",
        "member_role": f"/o/acme/members/{member.public_id}/role/",
        "member_remove": f"/o/acme/members/{member.public_id}/remove/",
        "invitation_revoke": f"/o/acme/invitations/{invitation.public_id}/revoke/",
        "api_keys": "/o/acme/api-keys/",
        "api_key_revoke": f"/o/acme/api-keys/{api_key.public_id}/revoke/",
        "activity": "/o/acme/activity/",
        "settings": "/o/acme/settings/",
    }


# Pages a viewer may read; every other page needs a manage permission.
VIEWER_READS = {"home", "members"}


def test_an_outsider_gets_404_on_every_page_and_every_post(pages, personas):
    outsider = client_for(personas.outsider)
    wrong = [
        (method, name, status)
        for name, url in pages.items()
        for method, status in [
            ("GET", outsider.get(url).status_code),
            ("POST", outsider.post(url, {"role": Role.OWNER, "name": "x"}).status_code),
        ]
        if status != 404
    ]
    assert wrong == []


def test_an_outsider_gets_404_even_for_urls_with_their_own_organizations_ids(other_org, personas):
    theirs = Membership.all_objects.get(organization=other_org)
    outsider = client_for(personas.outsider)
    assert outsider.get(f"/o/acme/members/{theirs.public_id}/remove/").status_code == 404
    assert outsider.get(f"/o/rival/members/{theirs.public_id}/remove/").status_code == 200


def test_anonymous_people_are_sent_to_sign_in_from_every_page(pages):
    anonymous = Client()
    wrong = []
    for name, url in pages.items():
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url)
            expected = f"/accounts/login/?next={url}"
            if response.status_code != 302 or response["Location"] != expected:
                wrong.append((method, name, response.status_code, response.get("Location")))
    assert wrong == []


def test_an_unknown_organization_answers_404_not_a_sign_in_hint_to_members(personas):
    assert client_for(personas.owner).get("/o/no-such-org/").status_code == 404


def test_a_viewer_reads_the_overview_and_members_and_gets_403_elsewhere_and_on_every_post(
    pages, personas
):
    viewer = client_for(personas.viewer)
    wrong = []
    for name, url in pages.items():
        expected_get = 200 if name in VIEWER_READS else 403
        if name in {"member_role", "invitation_revoke", "api_key_revoke"}:
            expected_get = 403  # POST-only; the permission check comes before the method
        status = viewer.get(url).status_code
        if status != expected_get:
            wrong.append(("GET", name, status))
        status = viewer.post(url, {"role": Role.OWNER, "name": "x", "email": "v@example.com"})
        if status.status_code != 403:
            wrong.append(("POST", name, status.status_code))
    assert wrong == []
    assert Membership.all_objects.get(user=personas.viewer).role == Role.VIEWER
    assert MemberInvitation.all_objects.filter(revoked_at=None).count() == 1


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_owners_and_admins_open_every_readable_page(pages, personas, persona):
    client = client_for(getattr(personas, persona))
    for name in ("home", "members", "member_remove", "api_keys", "activity", "settings"):
        assert client.get(pages[name]).status_code == 200, name


def test_the_navigation_shows_only_what_the_role_may_open(personas):
    viewer_nav = client_for(personas.viewer).get("/o/acme/").content.decode()
    owner_nav = client_for(personas.owner).get("/o/acme/").content.decode()
    for href in ('href="/o/acme/members/"', 'href="/o/acme/"'):
        assert href in viewer_nav and href in owner_nav
    for href in (
        'href="/o/acme/api-keys/"',
        'href="/o/acme/activity/"',
        'href="/o/acme/settings/"',
    ):
        assert href not in viewer_nav
        assert href in owner_nav
    assert 'aria-current="page"' in owner_nav


def test_the_overview_shows_the_organization_and_the_role(personas):
    html = client_for(personas.analyst).get("/o/acme/").content.decode()
    assert "Acme Oy" in html
    assert "Analyst" in html
    assert "Europe/Helsinki" in html


# Settings


def settings_data(**overrides) -> dict:
    data = {
        "name": "Acme Group Oy",
        "time_zone": "Europe/Stockholm",
        "default_language": "sv",
        "languages": ["sv", "en"],
        "brand_color": "#123456",
        "store_respondent_metadata": "on",
    }
    return {**data, **overrides}


def test_settings_are_saved_and_recorded(org, personas):
    admin = client_for(personas.admin)
    response = admin.post("/o/acme/settings/", settings_data(), follow=True)

    assert response.status_code == 200
    assert "Settings saved." in response.content.decode()
    org.refresh_from_db()
    assert (org.name, org.time_zone, org.default_language) == (
        "Acme Group Oy",
        "Europe/Stockholm",
        "sv",
    )
    assert org.languages == ["sv", "en"]
    assert org.brand_color == "#123456"
    assert org.store_respondent_metadata is True
    entry = ActivityLog.all_objects.get(organization=org, action="tenancy.organization.updated")
    assert entry.actor_user == personas.admin


def test_a_bad_time_zone_shows_a_form_error_and_saves_nothing(org, personas):
    response = client_for(personas.owner).post(
        "/o/acme/settings/", settings_data(time_zone="Mars/Olympus")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_time_zone_error"' in html
    org.refresh_from_db()
    assert (org.name, org.time_zone) == ("Acme Oy", "Europe/Helsinki")


def test_the_default_language_must_be_one_offered(org, personas):
    response = client_for(personas.owner).post(
        "/o/acme/settings/", settings_data(default_language="fi", languages=["sv", "en"])
    )
    assert response.status_code == 400
    assert "The default language must be offered." in response.content.decode()
    org.refresh_from_db()
    assert org.default_language == "fi"


def test_a_bad_brand_colour_is_explained(org, personas):
    response = client_for(personas.owner).post(
        "/o/acme/settings/", settings_data(brand_color="red")
    )
    assert response.status_code == 400
    assert "Use a colour like #1f5f8b." in response.content.decode()


def test_settings_of_one_organization_do_not_touch_another(org, other_org, personas):
    client_for(personas.owner).post("/o/acme/settings/", settings_data())
    other_org.refresh_from_db()
    assert (other_org.name, other_org.time_zone) == ("Rival Ab", "Europe/Helsinki")


# Activity


def test_the_activity_page_lists_audit_rows_of_this_organization_only(org, other_org, personas):
    ActivityLog.all_objects.create(
        organization=org, actor_label="ops@acme", action="tests.acme.thing", object_repr="Acme row"
    )
    ActivityLog.all_objects.create(
        organization=other_org,
        actor_label="ops@rival",
        action="tests.rival.thing",
        object_repr="Rival row",
    )

    html = client_for(personas.admin).get("/o/acme/activity/").content.decode()

    assert "tests.acme.thing" in html and "Acme row" in html
    assert "tests.rival.thing" not in html and "Rival row" not in html


def test_the_activity_page_shows_newest_first_50_to_a_page(org, personas):
    ActivityLog.all_objects.bulk_create(
        ActivityLog(organization=org, actor_label="bot", action=f"tests.step.{n:03}")
        for n in range(60)
    )
    admin = client_for(personas.admin)
    first = admin.get("/o/acme/activity/").content.decode()
    second = admin.get("/o/acme/activity/?page=2").content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert first.count("tests.step.") == 50


def test_the_activity_page_query_count_is_pinned(org, personas, django_assert_max_num_queries):
    ActivityLog.all_objects.bulk_create(
        ActivityLog(organization=org, actor_user=personas.owner, actor_label="o", action="t.x")
        for _ in range(40)
    )
    admin = client_for(personas.admin)
    with django_assert_max_num_queries(7):
        assert admin.get("/o/acme/activity/").status_code == 200


def test_members_cannot_open_the_django_admin(personas):
    # The admin reads across tenants on purpose, so it is for staff only.
    response = client_for(personas.owner).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
