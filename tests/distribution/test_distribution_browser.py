"""In a real browser on a phone: a CX manager changes the sending settings and a survey's
invitation email, and reads a contact's page with its invitation history."""

import os
import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from distribution.models import DistributionSettings, SurveyEmailTemplate
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create
from tests.distribution.factories import reachable_contact
from tests.surveys.factories import make_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CX_EMAIL = "cx@demo.example"
PASSWORD = "demo-cx-2026-sending"
SCREENSHOTS = os.environ.get("CXP_SCREENSHOTS", "")


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
    survey = make_survey(organization, name="After visit")
    contact = reachable_contact(organization, email="anna@example.com", name="Anna Asiakas")
    return organization, survey, contact


def no_horizontal_overflow(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:  # for a person checking the layout by eye
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_a_cx_manager_changes_sending_settings_and_email_texts_on_a_phone(demo, phone_page: Page):
    organization, survey, contact = demo
    page = phone_page
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(CX_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/o/demo/$"))

    page.goto("/o/demo/distribution/settings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sending settings")
    page.get_by_label("Days before any survey again").fill("45")
    page.get_by_label("SMS sender").fill("Acme Oy!")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text(re.compile("1–11 letters and digits")).first).to_be_visible()
    assert not DistributionSettings.all_objects.filter(organization=organization).exists()
    page.get_by_label("SMS sender").fill("+358 45 123 0001")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("Sending settings saved.")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "sending-settings-phone")
    saved = DistributionSettings.all_objects.get(organization=organization)
    assert (saved.quarantine_days, saved.sms_sender) == (45, "+358451230001")

    page.goto(f"/o/demo/surveys/{survey.public_id}/invitation-email/")
    page.get_by_label("Subject (Finnish)").fill("Miten käyntisi onnistui?")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("Invitation email texts saved.")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "invitation-email-phone")
    assert SurveyEmailTemplate.all_objects.get(survey=survey, language="fi").subject == (
        "Miten käyntisi onnistui?"
    )

    page.goto(f"/o/demo/contacts/{contact.public_id}/")
    expect(page.get_by_role("heading", name="Invitations")).to_be_visible()
    expect(page.get_by_text("No invitations have been sent to this contact.")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "contact-phone")
