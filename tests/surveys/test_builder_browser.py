"""In a real browser: a CX manager builds and publishes an NPS survey on a laptop, and a
respondent answers it on a phone through the anonymous link."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from surveys.models import Answer, Response, Survey
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create
from tests.surveys.factories import make_touchpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CX_EMAIL = "cx@demo.example"
PASSWORD = "demo-cx-2026-builder"
FINNISH_TEXT = "Kuinka todennäköisesti suosittelisit Demo Retailia ystävällesi?"


@pytest.fixture
def demo(transactional_db):
    owner = user_create(email="owner@demo.example", password=PASSWORD)
    organization = organization_create(name="Demo Retail Oy", slug="demo", owner=owner)
    with tenant_scope(organization):
        membership_add(
            actor=Actor.system(organization),
            organization=organization,
            user=user_create(email=CX_EMAIL, password=PASSWORD, full_name="Cecilia CX"),
            role=Role.CX_MANAGER,
        )
    touchpoint = make_touchpoint(organization, "Checkout")
    return organization, touchpoint


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_manager_builds_and_publishes_an_nps_survey_and_a_respondent_answers_on_a_phone(
    demo, laptop_page: Page, phone_page: Page
):
    _organization, touchpoint = demo
    page = laptop_page
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(CX_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/o/demo/$"))

    # The list, then a new survey from the NPS template attached to the touchpoint.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Surveys")
    page.get_by_role("link", name="New survey").click()
    page.get_by_role("radio", name=re.compile(r"^Net Promoter Score")).check()
    page.get_by_label("Name").fill("Checkout NPS")
    page.get_by_label("Touchpoint").select_option(touchpoint.public_id)
    page.get_by_role("button", name="Create survey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout NPS")
    expect(page.get_by_text("Draft of version 1: not published yet.")).to_be_visible()

    # Edit the first question's Finnish text in place (HTMX), languages side by side.
    page.get_by_role("link", name="Edit question 1").click()
    finnish = page.get_by_label("Question (Finnish)")
    expect(finnish).to_be_visible()
    boxes = [
        page.get_by_label(f"Question ({name})").bounding_box()
        for name in ("Finnish", "Swedish", "English")
    ]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"], "languages are not side by side"
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    finnish.fill(FINNISH_TEXT)
    page.screenshot(path="/tmp/builder.png", full_page=True)
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("#questions .question-card").first).to_contain_text(FINNISH_TEXT)
    expect(page.locator("#builder-status")).to_have_text("Question 1 saved.")
    assert horizontal_overflow(page) <= 0

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Version 1 is published.")).to_be_visible()
    survey = Survey.all_objects.get(name="Checkout NPS")
    assert survey.touchpoint_id == touchpoint.pk and survey.current_version.number == 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Edit: start version 2").click()
    page.get_by_role("link", name="Edit question 2").click()
    expect(page.get_by_label("Question (Swedish)")).to_be_visible()
    assert horizontal_overflow(page) <= 0, "the builder scrolls sideways on a phone"
    page.screenshot(path="/tmp/builder-phone.png", full_page=True)

    # The respondent: the anonymous link on a phone, switched to Finnish.
    phone = phone_page
    phone.goto(f"/s/{survey.link_slug}/")
    phone.get_by_role("link", name="suomi").tap()
    expect(phone.locator("html")).to_have_attribute("lang", "fi")
    expect(phone.get_by_role("group", name=re.compile(FINNISH_TEXT))).to_be_visible()
    follow_up = phone.get_by_label("Mitä meidän pitäisi parantaa?")
    expect(follow_up).to_be_hidden()
    phone.locator("label.scale-option", has=phone.locator("input[value='3']")).first.tap()
    expect(follow_up).to_be_visible()
    follow_up.fill("Kassalla oli jonoa.")
    assert horizontal_overflow(phone) <= 0, "the survey scrolls sideways on a phone"
    phone.screenshot(path="/tmp/respond-phone.png", full_page=True)
    phone.get_by_role("button", name="Lähetä").or_(phone.get_by_role("button", name="Send")).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Kiitos palautteestasi!")

    response = Response.all_objects.get(survey=survey)
    assert response.version_id == survey.current_version_id
    assert (response.language, response.channel, response.touchpoint_id) == (
        "fi",
        "web",
        touchpoint.pk,
    )
    answers = {a.question.key: a for a in Answer.all_objects.filter(response=response)}
    assert answers["score"].value_int == 3
    assert answers["improve"].value_text == "Kassalla oli jonoa."
