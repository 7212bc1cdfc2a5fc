"""In a real browser: a touchpoint owner receives the case for a 1-star CSAT, contacts the
customer and resolves the case with a root cause."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from alerts.models import Case
from alerts.services.rules import root_causes_load_starter
from surveys.services.responses import response_submit
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNER_EMAIL = "store.manager@shop.example"
PASSWORD = "till-and-smile-2026"


@pytest.fixture
def shop(transactional_db, settings):
    """A shop whose store manager owns the "Store visit" touchpoint with a CSAT <= 2 rule, and a
    1-star answer submitted the real way (tasks run in-process)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    admin = user_create(email="admin@shop.example", password=PASSWORD, full_name="Aino Admin")
    organization = organization_create(name="Shop Oy", slug="shop", owner=admin)
    manager = user_create(email=OWNER_EMAIL, password=PASSWORD, full_name="Mikko Manager")
    with tenant_scope(organization):
        membership_add(
            actor=Actor.system(organization),
            organization=organization,
            user=manager,
            role=Role.CX_MANAGER,
        )
        touchpoint = owned_touchpoint(organization, manager)
        survey = csat_survey(organization, touchpoint)
        low_csat_rule(organization)
        root_causes_load_starter(
            actor=Actor.system(organization), organization=organization, industry="retail"
        )
        response_submit(
            organization=organization,
            survey=survey,
            answers={"csat": 1, "comment": "Nobody at the till for ten minutes"},
            channel="web",
            language="en",
        )
        case = Case.objects.get()
    assert case.assignee == manager
    return organization, case


def sign_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_touchpoint_owner_contacts_the_customer_and_resolves_the_case(laptop_page: Page, shop):
    organization, case = shop
    page = laptop_page
    sign_in(page)

    nav = page.locator("nav.org-nav")
    cases_link = nav.get_by_role("link", name=re.compile(r"^Cases"))
    expect(cases_link).to_contain_text("1")
    cases_link.click()

    page.get_by_role("link", name=re.compile(rf"#{case.number}")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.title)
    expect(page.get_by_text("Nobody at the till for ten minutes")).to_be_visible()

    contact = page.locator("#record-contact")
    contact.get_by_label("How").select_option(label="Phone call")
    contact.get_by_label("Outcome").select_option(label="Reached the customer")
    contact.get_by_label("Note").fill("Apologised and offered a gift card")
    contact.get_by_role("button", name="Record contact").click()
    expect(page.get_by_text("Customer contact recorded.")).to_be_visible()
    expect(page.locator(".journey-heading .badge")).to_have_text("In progress")

    resolve = page.locator("#resolve")
    resolve.get_by_label("Root cause").select_option(
        label="Too few staff on duty: long checkout queue"
    )
    resolve.get_by_label("Action taken").fill("Added a second cashier for the lunch hours")
    resolve.get_by_role("button", name="Resolve the case").click()

    expect(page.get_by_text("Case resolved.")).to_be_visible()
    expect(page.locator(".journey-heading .badge")).to_have_text("Resolved")
    expect(page.get_by_text("Too few staff on duty: long checkout queue")).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile(r"^Cases"))).not_to_contain_text("1")

    with tenant_scope(organization):
        case.refresh_from_db()
    assert case.status == "resolved" and case.first_contacted_at is not None
    assert case.root_cause.name == "Too few staff on duty: long checkout queue"


def test_rule_editor_previews_in_place_and_shows_only_what_the_kind_uses(laptop_page: Page, shop):
    page = laptop_page
    sign_in(page)
    page.goto("/o/shop/alerts/rules/new/")
    expect(page.locator('[data-part="aggregate"]')).to_be_hidden()  # a rule on each response
    page.get_by_label("Name").fill("Low CSAT")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#rule-preview")).to_contain_text(
        "Would have fired 1 time in the last 30 days."
    )
    assert page.url.endswith("/alerts/rules/new/")  # swapped in place, nothing saved
    page.get_by_label("Kind").select_option("negative_share")
    expect(page.locator('[data-part="aggregate"]')).to_be_visible()
    page.get_by_label("Metric").select_option("text")
    expect(page.get_by_label("Words")).to_be_visible()
    expect(page.get_by_label("Value")).to_be_hidden()
