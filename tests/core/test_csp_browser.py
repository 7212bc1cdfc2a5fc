"""The Content-Security-Policy holds in Chromium: the respondent page, a dashboard with plotly
charts, the survey builder with its preview and the API documentation all work with zero
violations (no inline script, nothing from elsewhere)."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from tenancy.services import organization_create
from tests.reports.dashboard_support import (
    RANGE,
    add_touchpoint,
    answer_many,
    at,
    make_journey,
    nps_survey,
    rebuild,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "manager@shop.example"
PASSWORD = "strict-policy-2026"

# Playwright's init scripts run outside the page's policy, so this listener sees every violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def shop(transactional_db):
    user = user_create(email=EMAIL, password=PASSWORD, full_name="Mia Manager")
    organization = organization_create(name="Shop Oy", slug="shop", owner=user)
    organization_create(name="Outlet Oy", slug="outlet", owner=user)
    touchpoint = add_touchpoint(make_journey(organization), name="Checkout", target="30")
    survey = nps_survey(touchpoint)
    for month in (1, 2, 3):
        answer_many(survey, [10, 10, 9, 8, 7, 3, 10, 9, 6, 10], at(2025, month, 10))
    rebuild(organization)
    return touchpoint, survey


@pytest.fixture
def page(laptop_page: Page) -> Page:
    laptop_page.add_init_script(RECORD_VIOLATIONS)
    laptop_page.console_messages = []
    laptop_page.on("console", lambda message: laptop_page.console_messages.append(message.text))
    return laptop_page


def violations(page: Page) -> list[str]:
    recorded = page.evaluate("window.__cspViolations || []")
    console = [text for text in page.console_messages if "Content Security Policy" in text]
    return recorded + console


def sign_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/o/"))


def test_pages_send_a_strict_policy(client, shop):
    _touchpoint, survey = shop
    policy = client.get(f"/s/{survey.link_slug}/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


def test_the_respondent_page_shows_follow_ups_with_no_violation(page: Page, shop):
    _touchpoint, survey = shop
    page.goto(f"/s/{survey.link_slug}/?lang=en")
    page.get_by_role("radio", name="3").check()
    # static/js/respond.js ran: the follow-up for a low score appears at once.
    expect(page.locator("#q-improve")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thanks", exact=False).first).to_be_visible()
    assert violations(page) == []


def test_a_dashboard_draws_its_charts_with_no_violation(page: Page, shop):
    touchpoint, _survey = shop
    sign_in(page)
    url = f"/o/shop/reports/touchpoints/{touchpoint.public_id}/?{RANGE}&period=month"
    page.goto(url, timeout=30_000)  # plotly.js is 4.6 MB
    figure = page.locator("figure", has=page.locator("[data-chart]")).first
    expect(figure.locator(".main-svg").first).to_be_visible()
    with page.expect_download() as download:
        figure.get_by_role("button", name=re.compile("PNG")).click()
    assert download.value.suggested_filename.endswith(".png")
    assert violations(page) == []


def test_the_builder_and_its_preview_frame_load_with_no_violation(page: Page, shop):
    _touchpoint, survey = shop
    sign_in(page)
    page.goto(f"/o/shop/surveys/{survey.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(survey.name)
    page.goto(f"/o/shop/surveys/{survey.public_id}/preview/")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("radio", name="3")).to_be_visible()
    frame.get_by_role("radio", name="3").check()
    expect(frame.locator("#q-improve")).to_be_visible()
    assert violations(page) == []


def test_the_organization_switcher_works_without_inline_script(page: Page, shop):
    sign_in(page)
    page.goto("/o/shop/")
    page.get_by_label("Organization").select_option(label="Outlet Oy")
    expect(page).to_have_url(re.compile(r"/o/outlet/$"))
    assert violations(page) == []


def test_the_api_documentation_loads_with_no_violation(page: Page, shop):
    page.goto("/api/v1/docs/")
    expect(page.get_by_text("cxplatform API").first).to_be_visible()
    page.goto("/api/v1/redoc/")
    # Redoc's bundle is large and renders the whole schema before showing anything.
    expect(page.get_by_text("cxplatform API").first).to_be_visible(timeout=30_000)
    assert violations(page) == []
