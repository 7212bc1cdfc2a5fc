"""Read-only share links: created by members who may export, shown once, opening one dashboard
without signing in until they expire or are revoked, every view counted."""

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core.models import ActivityLog, Handle, HandleKind
from core.scoping import tenant_scope
from journeys.models import MeasurementPlan
from reports import sharing
from reports.models import ShareLink, ShareLinkView
from tenancy.actors import Actor
from tenancy.models import Membership
from tests.surveys.factories import make_touchpoint

pytestmark = pytest.mark.django_db

URL = "/o/acme/reports/share-links/"
TOKEN_URL = re.compile(rb"https?://[^\"<\s]+/share/([A-Za-z0-9_-]+)/")


@pytest.fixture
def analyst_client(client, personas):
    client.force_login(personas.analyst)
    return client


@pytest.fixture
def checkout(org):
    touchpoint = make_touchpoint(org, name="Checkout")
    MeasurementPlan.all_objects.create(
        organization=org, touchpoint=touchpoint, metric="nps", target_value=Decimal("30")
    )
    return touchpoint


@pytest.fixture
def rival_touchpoint(other_org):
    touchpoint = make_touchpoint(other_org, name="Rival secret counter")
    MeasurementPlan.all_objects.create(
        organization=other_org, touchpoint=touchpoint, metric="nps", target_value=Decimal("10")
    )
    return touchpoint


def analyst_actor(org, personas) -> Actor:
    return Actor.for_membership(
        Membership.all_objects.select_related("organization", "user").get(
            organization=org, user=personas.analyst
        )
    )


def create(org, personas, dashboard_type="overview", public_id="", **extra):
    with tenant_scope(org):
        return sharing.share_link_create(
            actor=analyst_actor(org, personas),
            organization=org,
            dashboard_type=dashboard_type,
            dashboard_public_id=public_id,
            **extra,
        )


def test_analyst_creates_a_link_whose_address_is_shown_once(analyst_client, org, checkout):
    response = analyst_client.post(
        URL,
        {
            "dashboard": f"touchpoint:{checkout.public_id}",
            "label": "Board meeting",
            "expires_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 201
    token = TOKEN_URL.search(response.content).group(1).decode()
    link = ShareLink.all_objects.get(organization=org)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ShareLink.all_objects.values().get())
    handle = Handle.objects.get(kind=HandleKind.SHARE_LINK, value=link.token_hash)
    assert (handle.organization_id, handle.object_id) == (org.pk, link.pk)
    assert (link.dashboard_type, link.dashboard_public_id, link.label) == (
        "touchpoint",
        checkout.public_id,
        "Board meeting",
    )
    assert ActivityLog.all_objects.filter(action="reports.share_link.created").count() == 1
    # The list never shows it again.
    assert token.encode() not in analyst_client.get(URL).content


def test_links_last_30_days_by_default_and_at_most_a_year(org, personas, analyst_client):
    created = create(org, personas, today=date(2026, 3, 1))
    local_expiry = timezone.localtime(created.link.expires_at, org.zone)
    assert (local_expiry.date(), local_expiry.hour) == (date(2026, 4, 1), 0)
    too_late = (timezone.localdate() + timedelta(days=400)).isoformat()
    response = analyst_client.post(URL, {"dashboard": "overview", "expires_on": too_late})
    assert response.status_code == 400
    assert b"at most a year" in response.content
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert (
        analyst_client.post(URL, {"dashboard": "overview", "expires_on": yesterday}).status_code
        == 400
    )


def test_shared_dashboard_opens_without_signing_in_and_counts_each_view(
    org, personas, checkout, analyst_client
):
    created = create(org, personas, "touchpoint", checkout.public_id)
    visitor = Client()
    page = visitor.get(f"/share/{created.token}/")
    assert page.status_code == 200
    assert b"Checkout" in page.content
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert page["Referrer-Policy"] == "no-referrer"
    assert b'class="org-nav"' not in page.content
    assert b"Sign out" not in page.content
    visitor.get(f"/share/{created.token}/")
    assert ShareLinkView.all_objects.filter(share_link=created.link).count() == 2
    listing = analyst_client.get(URL)
    assert re.search(rb"<td>2</td>", listing.content)


def test_shared_overview_shows_nothing_of_another_organization(
    org, personas, checkout, rival_touchpoint
):
    created = create(org, personas)
    page = Client().get(f"/share/{created.token}/")
    assert page.status_code == 200
    assert b"Rival" not in page.content
    assert rival_touchpoint.public_id.encode() not in page.content


def test_expired_revoked_and_unknown_links_answer_404(org, personas, analyst_client):
    expired = create(org, personas)
    ShareLink.all_objects.filter(pk=expired.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert Client().get(f"/share/{expired.token}/").status_code == 404

    revoked = create(org, personas)
    assert Client().get(f"/share/{revoked.token}/").status_code == 200
    response = analyst_client.post(f"{URL}{revoked.link.public_id}/revoke/")
    assert response.status_code == 302
    assert Client().get(f"/share/{revoked.token}/").status_code == 404
    assert not Handle.objects.filter(kind=HandleKind.SHARE_LINK, object_id=revoked.link.pk).exists()
    assert ActivityLog.all_objects.filter(action="reports.share_link.revoked").count() == 1

    assert Client().get("/share/not-a-token/").status_code == 404
    assert Client().get(f"/share/{'x' * 300}/").status_code == 404
    # Failed attempts are not views.
    assert ShareLinkView.all_objects.filter(share_link=expired.link).count() == 0


def test_link_to_a_deleted_touchpoint_answers_404(org, personas, checkout):
    created = create(org, personas, "touchpoint", checkout.public_id)
    MeasurementPlan.all_objects.filter(touchpoint=checkout).delete()
    checkout.delete()
    assert Client().get(f"/share/{created.token}/").status_code == 404


def test_a_dashboard_of_another_organization_cannot_be_shared(
    analyst_client, org, personas, rival_touchpoint
):
    response = analyst_client.post(
        URL,
        {
            "dashboard": f"touchpoint:{rival_touchpoint.public_id}",
            "expires_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert not ShareLink.all_objects.exists()


def test_viewer_cannot_manage_share_links(viewer_client, org, personas):
    created = create(org, personas)
    assert viewer_client.get(URL).status_code == 403
    assert viewer_client.post(URL, {"dashboard": "overview"}).status_code == 403
    assert viewer_client.post(f"{URL}{created.link.public_id}/revoke/").status_code == 403
    assert Client().get(f"/share/{created.token}/").status_code == 200


def test_outsider_gets_404_for_share_link_pages(outsider_client, org, personas):
    created = create(org, personas)
    assert outsider_client.get(URL).status_code == 404
    assert outsider_client.post(URL, {}).status_code == 404
    assert outsider_client.post(f"{URL}{created.link.public_id}/revoke/").status_code == 404
    assert ShareLink.all_objects.get(pk=created.link.pk).revoked_at is None


def test_share_link_list_costs_the_same_queries_however_many_links(
    analyst_client, org, personas, checkout, django_assert_max_num_queries
):
    for index in range(8):
        created = create(
            org,
            personas,
            "touchpoint" if index % 2 else "overview",
            checkout.public_id if index % 2 else "",
        )
        ShareLinkView.all_objects.create(organization=org, share_link=created.link)
    with django_assert_max_num_queries(12):
        response = analyst_client.get(URL)
    assert response.status_code == 200
    assert response.content.count(b"/revoke/") == 8


def test_sweep_forgets_tokens_of_links_expired_a_month_ago(org, personas):
    from reports.tasks import sweep_exports

    old, recent = create(org, personas), create(org, personas)
    ShareLink.all_objects.filter(pk=old.link.pk).update(
        expires_at=timezone.now() - timedelta(days=31)
    )
    ShareLink.all_objects.filter(pk=recent.link.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    sweep_exports()
    assert list(
        Handle.objects.filter(kind=HandleKind.SHARE_LINK).values_list("object_id", flat=True)
    ) == [recent.link.pk]
    assert ShareLink.all_objects.filter(pk=old.link.pk).exists()  # kept with its view count


def test_shared_page_links_to_no_member_page(org, personas, checkout):
    for dashboard in [("overview", ""), ("touchpoint", checkout.public_id)]:
        created = create(org, personas, *dashboard)
        page = Client().get(f"/share/{created.token}/")
        links = re.findall(rb'href="(/[^"]*)"', page.content)
        assert [link for link in links if link.startswith(b"/o/")] == []
        assert b'<meta name="robots" content="noindex' in page.content
