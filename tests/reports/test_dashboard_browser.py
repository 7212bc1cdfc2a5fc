"""An analyst opens the touchpoint dashboard on a laptop and a phone: the plotly chart is drawn
from our own static files, and its table view shows the same numbers."""

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

EMAIL = "analyst@shop.example"
PASSWORD = "charts-and-tables-2026"


@pytest.fixture
def dashboard_url(transactional_db):
    user = user_create(email=EMAIL, password=PASSWORD, full_name="Ella Analyst")
    organization = organization_create(name="Shop Oy", slug="shop", owner=user)
    touchpoint = add_touchpoint(make_journey(organization), name="Checkout", target="30")
    survey = nps_survey(touchpoint)
    for month in (1, 2, 3):
        answer_many(survey, [10, 10, 9, 8, 7, 3, 10, 9, 6, 10], at(2025, month, 10))
    rebuild(organization)
    return f"/o/shop/reports/touchpoints/{touchpoint.public_id}/?{RANGE}&period=month"


def _sign_in_and_open(page: Page, url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(url)
    trend = page.locator("figure", has=page.locator("[data-chart]")).first
    # plotly.js replaced the empty plot div with its SVG: the chart was really drawn.
    expect(trend.locator(".main-svg").first).to_be_visible()
    assert errors == []


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_trend_chart_is_drawn_and_its_table_view_shows_the_numbers(request, size, dashboard_url):
    page: Page = request.getfixturevalue(f"{size}_page")
    _sign_in_and_open(page, dashboard_url)
    figure = page.locator("figure", has=page.locator("[data-chart]")).first
    figure.get_by_text("Table view").click()
    table = figure.locator("table")
    expect(table).to_be_visible()
    # Each month: 10 answers, 5 promoters and 1 detractor of 10 is NPS 40.0.
    for month in ("2025-01", "2025-02", "2025-03"):
        expect(table.locator("tr", has_text=month)).to_contain_text("40.0")
    expect(figure.get_by_role("link", name=re.compile("CSV"))).to_be_visible()
    expect(figure.get_by_role("button", name=re.compile("PNG"))).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
