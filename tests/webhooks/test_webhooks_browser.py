"""In a real browser, on a phone: an owner adds an endpoint pointing at a local receiving server,
copies its secret (shown once), sees a respondent's answer delivered in the log, and replays it."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from tenancy.scoping import tenant_scope
from tenancy.services import organization_create
from tests.alerts.support import csat_survey, owned_touchpoint
from tests.plugins.worker import wait_for
from webhooks.models import WebhookAttempt, WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "owner@hooks.example"
PASSWORD = "signed-and-sealed-2026"


@pytest.fixture
def shop(transactional_db, settings, loopback_allowed):
    """An organization with a CSAT survey; tasks run in-process, so a delivery is sent as soon
    as the answer commits."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    owner = user_create(email=EMAIL, password=PASSWORD, full_name="Olga Owner")
    organization = organization_create(name="Hooks Oy", slug="hooks", owner=owner)
    with tenant_scope(organization):
        survey = csat_survey(organization, owned_touchpoint(organization, owner))
    return organization, survey


def sign_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/o/hooks/$"))


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_owner_adds_an_endpoint_sees_a_delivery_and_replays_it(phone_page: Page, shop, receiver):
    organization, survey = shop
    page = phone_page
    sign_in(page)

    page.goto("/o/hooks/webhooks/")
    expect(page.get_by_role("heading", name="Send events to your own systems")).to_be_visible()
    assert fits_the_screen(page)
    page.get_by_role("link", name="Add your first endpoint").click()

    page.get_by_label("URL").fill(receiver.url)
    events = page.get_by_role("group", name=re.compile("^Events"))
    events.get_by_role("checkbox", name=re.compile(r"response\.submitted")).check()
    assert fits_the_screen(page)
    page.get_by_role("button", name="Add endpoint").click()

    secret_field = page.get_by_label("Secret", exact=True)
    expect(secret_field).to_have_value(re.compile(r"^whsec_"))
    endpoint = WebhookEndpoint.all_objects.get(organization=organization)
    assert secret_field.input_value() == endpoint.secret
    # Reading the clipboard back can wait forever in a headless browser without focus; the
    # button's confirmation is what the user sees.
    page.context.grant_permissions(["clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert fits_the_screen(page)

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(receiver.url)
    expect(page.get_by_label("Secret", exact=True)).to_have_count(0)
    assert endpoint.secret not in page.content()
    expect(page.get_by_text("Nothing sent yet.")).to_be_visible()

    # A customer answers the survey on their own phone.
    respondent = page.context.new_page()
    respondent.goto(f"/s/{survey.link_slug}/?lang=en")
    respondent.locator("label.scale-option", has=respondent.locator("input[value='4']")).click()
    respondent.get_by_role("button", name="Send").click()
    assert wait_for(lambda: len(receiver.received) == 1)
    respondent.close()

    page.reload()
    log = page.get_by_role("region", name=re.compile("Deliveries to this endpoint"))
    row = log.get_by_role("row").filter(has_text="response.submitted")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")
    row.get_by_text("Show").click()
    expect(row.get_by_text("thanks!")).to_be_visible()
    assert fits_the_screen(page)

    row.get_by_role("button", name=re.compile(r"^Replay evt_")).click()
    expect(row).to_contain_text("Queued to be sent again.")
    assert wait_for(lambda: len(receiver.received) == 2)
    first, second = (r.headers["webhook-id"] for r in receiver.received)
    assert first == second
    expect(page.get_by_role("button", name=re.compile(r"^Replay evt_"))).to_be_focused()
    page.reload()
    expect(row).to_contain_text("Delivered")
    assert WebhookAttempt.all_objects.filter(endpoint_id=endpoint.pk).count() == 2
