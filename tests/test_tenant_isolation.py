"""Every URL of an organization, page or API, answers 404 to another organization's people and keys.

The URL lists are read from the URL configuration, so a new page or endpoint is covered the day
it is added. Paths with object ids are filled with ids of real objects of `acme` where the app's
own tests create them; here every route without an object id is checked.
"""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import MemberInvitation
from alerts.models import Alert
from alerts.services.cases import case_create
from alerts.services.rules import improvement_create, root_cause_create, rule_create
from core.scoping import tenant_scope
from distribution.models import (
    Campaign,
    ContactImport,
    Invitation,
    KioskDevice,
    SurveyEmailTemplate,
)
from reports.models import Digest, ExportJob, ShareLink
from surveys.models import ResponseImport
from surveys.services import response_submit
from tenancy.actors import Actor
from tenancy.models import Membership
from tests.distribution.factories import ContactFactory, SegmentFactory
from tests.factories import make_api_key
from tests.journeys.factories import MeasurementPlanFactory
from tests.surveys.factories import make_survey
from webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix=""):
    for pattern in patterns:
        piece = str(pattern.pattern)
        if piece.startswith("^"):  # a router's regex route: "^members/$"
            piece = piece[1:].removesuffix("$")
        route = prefix + piece
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _org_routes(starting: str) -> list[str]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if not route.startswith(starting) or "<" in route.replace("<slug:org_slug>", ""):
            continue
        if "\\" in route or "(?P" in route or "[" in route:
            continue  # DRF's format-suffix variants and id patterns
        routes.append("/" + route.replace("<slug:org_slug>", "acme"))
    return sorted(set(routes))


PAGE_URLS = _org_routes("o/<slug:org_slug>/")
API_URLS = _org_routes("api/v1/orgs/<slug:org_slug>/")


def test_the_url_lists_are_not_empty():
    assert "/o/acme/" in PAGE_URLS
    assert "/api/v1/orgs/acme/" in API_URLS
    assert len(API_URLS) >= 8


@pytest.mark.parametrize("url", API_URLS)
def test_api_key_of_another_organization_gets_404(personas, outsider_api, url):
    assert outsider_api.get(url).status_code == 404
    assert outsider_api.post(url, {}, format="json").status_code == 404


@pytest.mark.parametrize("url", PAGE_URLS)
def test_member_of_another_organization_gets_404_on_every_page(personas, outsider_client, url):
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {}).status_code == 404


def _detail_routes(starting: str) -> list[str]:
    """Routes with exactly one object id, as "/.../<resource>/{id}/..." templates."""
    found = []
    for route in _walk(get_resolver().url_patterns):
        if not route.startswith(starting) or "\\." in route:
            continue
        route = route.replace("<slug:org_slug>", "acme")
        route = route.replace("(?P<public_id>[^/.]+)", "{id}").replace("<str:public_id>", "{id}")
        if route.count("{id}") == 1 and "<" not in route and "(?P" not in route:
            found.append("/" + route)
    return sorted(set(found))


@pytest.fixture
def acme_objects(org, personas):
    """One object of each kind that has its own URLs, all belonging to acme."""
    plan = MeasurementPlanFactory(touchpoint__stage__journey__organization=org)
    touchpoint = plan.touchpoint
    with tenant_scope(org):
        survey = make_survey(org, touchpoint=touchpoint)
        response = response_submit(
            organization=org, survey=survey, answers={"score": 9}, channel="web", language="fi"
        )
    key, _ = make_api_key(org)
    member_invitation = MemberInvitation.all_objects.create(
        organization=org,
        email="new@example.com",
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    contact_import = ContactImport.all_objects.create(organization=org, filename="contacts.csv")
    response_import = ResponseImport.all_objects.create(
        organization=org, survey=survey, filename="responses.csv"
    )
    contact = ContactFactory(organization=org)
    campaign = Campaign.all_objects.create(organization=org, name="Spring", survey=survey)
    invitation = Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        channel="email",
        natural_key="isolation",
        scheduled_for=timezone.now(),
    )
    email_template = SurveyEmailTemplate.all_objects.create(
        organization=org, survey=survey, language="fi", subject="Kerro"
    )
    with tenant_scope(org):
        actor = Actor.system(org)
        rule = rule_create(
            actor=actor, organization=org, name="Low", kind="response", metric="csat", threshold=2
        )
        alert = Alert.objects.create(
            organization=org, rule=rule, kind="response", title="Low", scope_key="rsp:0"
        )
        case = case_create(actor=actor, organization=org, title="Follow up", touchpoint=touchpoint)
        cause = root_cause_create(
            actor=actor, organization=org, category="Staff", name="Rude", controllable=True
        )
        improvement = improvement_create(actor=actor, organization=org, title="Training")
    in_a_week = timezone.now() + timedelta(days=7)
    export = ExportJob.all_objects.create(organization=org, format="csv", expires_at=in_a_week)
    digest = Digest.all_objects.create(organization=org)
    share_link = ShareLink.all_objects.create(
        organization=org, token_hash="1" * 64, expires_at=in_a_week
    )
    endpoint = WebhookEndpoint.all_objects.create(
        organization=org, url="https://hooks.example.com/", events=["case.created"], secret="x"
    )
    event = WebhookEvent.all_objects.create(organization=org, type="case.created")
    kiosk = KioskDevice.all_objects.create(organization=org, name="Exit", survey=survey)
    return {
        "alert-rules": rule.public_id,
        "rules": rule.public_id,
        "alerts": alert.public_id,
        "cases": case.public_id,
        "root-causes": cause.public_id,
        "improvements": improvement.public_id,
        "exports": export.public_id,
        "digests": digest.public_id,
        "share-links": share_link.public_id,
        # The same word names member invitations on pages and survey invitations in the API.
        "page:invitations": member_invitation.public_id,
        "api:invitations": invitation.public_id,
        "campaigns": campaign.public_id,
        "email-templates": email_template.public_id,
        "imports": contact_import.public_id,
        "response-imports": response_import.public_id,
        "journeys": touchpoint.journey.public_id,
        "stages": touchpoint.stage.public_id,
        "touchpoints": touchpoint.public_id,
        "measurement-plans": plan.public_id,
        "surveys": survey.public_id,
        "responses": response.public_id,
        "contacts": contact.public_id,
        "segments": SegmentFactory(organization=org).public_id,
        "members": Membership.all_objects.get(organization=org, user=personas.viewer).public_id,
        "api-keys": key.public_id,
        "webhooks": endpoint.public_id,
        "events": event.public_id,
        "kiosks": kiosk.public_id,
        "kiosk-devices": kiosk.public_id,
    }


def _fill(template: str, objects: dict) -> str | None:
    resource = template.split("{id}")[0].rstrip("/").rsplit("/", 1)[-1]
    kind = "api" if template.startswith("/api/") else "page"
    found = objects.get(f"{kind}:{resource}") or objects.get(resource)
    return template.replace("{id}", found) if found else None


def test_every_object_route_is_filled(acme_objects):
    """A new kind of object with its own URLs needs an object here, or it would be skipped."""
    unfilled = [t for t in API_DETAILS + PAGE_DETAILS if _fill(t, acme_objects) is None]
    assert unfilled == []


API_DETAILS = _detail_routes("api/v1/orgs/<slug:org_slug>/")
PAGE_DETAILS = _detail_routes("o/<slug:org_slug>/")


def test_detail_routes_are_found():
    assert any("/touchpoints/{id}/" in route for route in API_DETAILS)
    assert any("/journeys/{id}/" in route for route in PAGE_DETAILS)


@pytest.mark.parametrize("template", API_DETAILS)
def test_api_key_of_another_organization_gets_404_for_every_object(
    acme_objects, outsider_api, template
):
    url = _fill(template, acme_objects)
    if url is None:
        pytest.skip(f"no object of that kind made here: {template}")
    assert outsider_api.get(url).status_code == 404
    assert outsider_api.post(url, {}, format="json").status_code == 404
    assert outsider_api.patch(url, {}, format="json").status_code == 404
    assert outsider_api.delete(url).status_code == 404


@pytest.mark.parametrize("template", PAGE_DETAILS)
def test_member_of_another_organization_gets_404_for_every_object_page(
    acme_objects, outsider_client, template
):
    url = _fill(template, acme_objects)
    if url is None:
        pytest.skip(f"no object of that kind made here: {template}")
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {}).status_code == 404
