"""Every main page fits a 390 px phone and a 1366 px laptop without sideways scrolling, and the
respondent's scale buttons are big enough to tap.

An organization seeded like the demo (its journeys, surveys with two months of answers, contacts,
campaigns, cases, keys) plus a survey holding every question type. One browser, one sign-in and
one page for all the pages at both sizes.
"""

import re
from collections import defaultdict

import pytest
from playwright.sync_api import Page, expect

from accounts.services import api_key_create, invitation_create, user_create
from alerts.demo import load_demo_alerts
from alerts.models import Alert, AlertRule, Case
from distribution.demo import load_demo_distribution
from distribution.models import Campaign, Contact
from journeys.demo import load_demo_journeys
from journeys.models import Journey, MeasurementPlan, Touchpoint
from metrics.rollups import rollups_rebuild
from surveys.demo import TEMPLATE_FOR_METRIC, demo_responses_create, demo_surveys_create
from surveys.enums import QuestionType
from surveys.models import Response, Survey
from surveys.services import survey_import, survey_publish
from surveys.templates_library import LIKELY_LABELS, RECOMMEND, THANK_YOU
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create
from webhooks.enums import EventType
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "layout-owner-2026"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
MIN_TARGET = 44  # CSS px, WCAG 2.5.5
MIN_GAP = 4


def _texts(word: str) -> dict[str, str]:
    return {"fi": f"{word} (fi)", "sv": f"{word} (sv)", "en": word}


def _labels(low: str, high: str) -> dict[str, dict[str, str]]:
    return {language: {"min": low, "max": high} for language in ("fi", "sv", "en")}


def _choices(*words: str) -> list[dict]:
    return [{"value": f"c{number}", "texts": _texts(word)} for number, word in enumerate(words)]


def every_question_type() -> list[dict]:
    """One question of each type, none conditional, so the respondent page shows them all."""
    return [
        {"key": "nps", "type": "nps", "texts": RECOMMEND, "labels": LIKELY_LABELS},
        {"key": "csat", "type": "csat", "texts": _texts("How satisfied were you?"),
         "labels": _labels("Very dissatisfied", "Very satisfied")},
        {"key": "ces", "type": "ces", "texts": _texts("You made it easy for me."),
         "labels": _labels("Strongly disagree", "Strongly agree")},
        {"key": "ces_legacy", "type": "ces_legacy", "texts": _texts("How much effort was it?"),
         "labels": _labels("Very low effort", "Very high effort")},
        {"key": "womi", "type": "womi", "texts": RECOMMEND,
         "texts_secondary": _texts("How likely are you to discourage others?"),
         "labels": LIKELY_LABELS},
        {"key": "yes_no", "type": "yes_no", "texts": _texts("Was this useful?")},
        {"key": "smiley", "type": "smiley", "texts": _texts("How was your visit?")},
        {"key": "rating", "type": "rating", "texts": _texts("Rate the store"),
         "scale_min": 1, "scale_max": 10, "labels": _labels("Poor", "Excellent")},
        {"key": "single", "type": "single_choice", "texts": _texts("What did you buy?"),
         "choices": _choices("Clothes", "Shoes", "Accessories and jewellery")},
        {"key": "multiple", "type": "multiple_choice", "texts": _texts("What did you notice?"),
         "choices": _choices("Queues", "Prices", "Friendly staff")},
        {"key": "text", "type": "text", "texts": _texts("Anything else?")},
    ]  # fmt: skip


def all_types_survey(organization, actor) -> Survey:
    definition = {
        "format": "cxplatform.survey",
        "format_version": 1,
        "name": "Every question type",
        "languages": ["fi", "sv", "en"],
        "default_language": "fi",
        "intro": {},
        "thank_you": THANK_YOU,
        "questions": every_question_type(),
    }
    with tenant_scope(organization):
        survey = survey_import(
            actor=actor, organization=organization, data=definition, name="Every question type"
        )
        survey_publish(actor=actor, survey=survey)
    return survey


@pytest.fixture
def respondent_survey(transactional_db):
    owner = user_create(email="owner@layout.example", password=PASSWORD)
    organization = organization_create(name="Layout Oy", slug="layout", owner=owner)
    return all_types_survey(organization, Actor.system(organization))


@pytest.fixture
def seeded(transactional_db) -> dict[str, str]:
    """An organization like `load_demo`'s with two months of answers; returns page name -> path."""
    people = {
        key: user_create(email=f"{key}@layout.example", password=PASSWORD, full_name=name)
        for key, name in [
            ("owner", "Olivia Omistaja"),
            ("cx", "Kalle Kokemus"),
            ("analyst", "Anna-Maria Analyytikko-Virtanen"),
            ("viewer", "Ville Katsoja"),
        ]
    }
    organization = organization_create(
        name="Layout Retail Oy", slug="layout", owner=people["owner"]
    )
    actor = Actor.system(organization)
    with tenant_scope(organization):
        for key, role in [
            ("cx", Role.CX_MANAGER),
            ("analyst", Role.ANALYST),
            ("viewer", Role.VIEWER),
        ]:
            membership_add(actor=actor, organization=organization, user=people[key], role=role)
        invitation_create(
            actor=actor,
            organization=organization,
            email="a.very.long.address.for.a.new.colleague@customer-experience.example",
            role=Role.ANALYST,
        )
        api_key_create(actor=actor, organization=organization, name="Data warehouse", scope="read")
        api_key_create(
            actor=actor, organization=organization, name="Store kiosk integration", scope="write"
        )
    load_demo_journeys(organization=organization, actor=actor, owners=people)
    with tenant_scope(organization):
        measured = [
            (plan.touchpoint, plan.metric)
            for plan in MeasurementPlan.objects.filter(
                metric__in=TEMPLATE_FOR_METRIC, touchpoint__archived_at=None
            ).select_related("touchpoint")
        ]
        surveys = demo_surveys_create(
            organization=organization, actor=actor, touchpoints_with_metric=measured
        )
        demo_responses_create(organization=organization, surveys=surveys, days=60, per_day=1.0)
        rollups_rebuild(organization=organization)
    load_demo_distribution(organization=organization, actor=actor)
    with tenant_scope(organization):
        load_demo_alerts(organization=organization, actor=actor, users=people)
    everything = all_types_survey(organization, actor)

    with tenant_scope(organization):
        journey = Journey.objects.order_by("id").first()  # the web shop: eight stages
        touchpoint = Touchpoint.objects.filter(journey=journey, is_key=True).order_by("id").first()
        survey = Survey.objects.filter(touchpoint=touchpoint).first()
        response = Response.objects.filter(survey=survey).order_by("-submitted_at").first()
        campaign = Campaign.objects.order_by("id").first()
        contact = Contact.objects.filter(invitations__isnull=False).order_by("id").first()
        case = Case.objects.order_by("id").first()
        alert = Alert.objects.order_by("id").first()
        rule = AlertRule.objects.order_by("id").first()
        endpoint = endpoint_create(
            actor=actor,
            organization=organization,
            url="https://hooks.customer-experience.example/integrations/cxplatform/webhooks",
            events=list(EventType.values),
            description="Our CRM's intake of feedback events",
        )
        WebhookDelivery.objects.create(
            organization=organization,
            endpoint=endpoint,
            event=WebhookEvent.objects.create(organization=organization, type="case.updated"),
            status="failed",
            attempts=3,
            last_status_code=503,
            last_latency_ms=15000,
            last_response_excerpt="<html><body>Service temporarily unavailable" + "." * 900,
        )
    o = "/o/layout/"
    return {
        "overview": o,
        "surveys": f"{o}surveys/",
        "survey builder": f"{o}surveys/{survey.public_id}/",
        "survey builder, every type": f"{o}surveys/{everything.public_id}/",
        "survey preview": f"{o}surveys/{everything.public_id}/preview/",
        "survey results": f"{o}reports/surveys/{survey.public_id}/",
        "survey responses": f"{o}reports/surveys/{survey.public_id}/responses/",
        "response": f"{o}reports/responses/{response.public_id}/",
        "members": f"{o}members/",
        "API keys": f"{o}api-keys/",
        "webhooks": f"{o}webhooks/",
        "new webhook endpoint": f"{o}webhooks/new/",
        "webhook endpoint": f"{o}webhooks/{endpoint.public_id}/",
        "campaigns": f"{o}campaigns/",
        "campaign": f"{o}campaigns/{campaign.public_id}/",
        "campaign results": f"{o}reports/campaigns/{campaign.public_id}/",
        "contacts": f"{o}contacts/",
        "contact": f"{o}contacts/{contact.public_id}/",
        "segments": f"{o}segments/",
        "contact imports": f"{o}contacts/imports/",
        "sending settings": f"{o}distribution/settings/",
        "journeys": f"{o}journeys/",
        "journey map": f"{o}journeys/{journey.public_id}/",
        "touchpoint": f"{o}touchpoints/{touchpoint.public_id}/",
        "touchpoint dashboard": f"{o}reports/touchpoints/{touchpoint.public_id}/",
        "journey heatmap": f"{o}reports/journeys/{journey.public_id}/",
        "ranking": f"{o}reports/ranking/",
        "exports": f"{o}reports/exports/",
        "digests": f"{o}reports/digests/",
        "share links": f"{o}reports/share-links/",
        "alerts": f"{o}alerts/",
        "alert": f"{o}alerts/{alert.public_id}/",
        "alert rules": f"{o}alerts/rules/",
        "alert rule": f"{o}alerts/rules/{rule.public_id}/",
        "cases": f"{o}cases/",
        "case": f"{o}cases/{case.public_id}/",
        "root causes": f"{o}cases/root-causes/",
        "improvements": f"{o}cases/improvements/",
        "measures": f"{o}cases/measures/",
        "case settings": f"{o}cases/settings/",
        "my alert settings": f"{o}cases/my-alert-settings/",
        "settings": f"{o}settings/",
        "activity": f"{o}activity/",
        "respondent page, every question type": f"/s/{everything.link_slug}/",
    }


def sign_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@layout.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/o/layout/$"))


def page_width(page: Page, viewport: dict) -> int:
    """How wide the document is; more than the viewport means the page scrolls sideways.

    Compared with the viewport we set, not with `innerWidth`: a mobile browser widens its layout
    viewport to the content, and `innerWidth` with it, so that comparison could never fail.
    """
    assert page.evaluate("document.documentElement.clientWidth") <= viewport["width"]
    return page.evaluate("document.documentElement.scrollWidth")


def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(seeded, laptop_page: Page):
    page = laptop_page
    sign_in(page)
    too_wide = []
    for viewport in (PHONE, LAPTOP):
        page.set_viewport_size(viewport)
        for name, path in seeded.items():
            response = page.goto(path)
            assert response.status == 200, f"{name} ({path}) answered {response.status}"
            width = page_width(page, viewport)
            if width > viewport["width"]:
                too_wide.append(f"{name} is {width} px wide on a {viewport['width']} px screen")
    assert not too_wide, "\n".join(too_wide)


SCALE_BUTTONS = """() => [...document.querySelectorAll('label.scale-option')].map(label => {
  const box = label.getBoundingClientRect();
  const input = label.querySelector('input');
  return {name: input.name, value: input.value, left: box.left, right: box.right,
          top: box.top, bottom: box.bottom, width: box.width, height: box.height};
})"""


def _gap(a: dict, b: dict) -> float:
    """The free space between two boxes: the larger of their horizontal and vertical gaps."""
    horizontal = max(b["left"] - a["right"], a["left"] - b["right"])
    vertical = max(b["top"] - a["bottom"], a["top"] - b["bottom"])
    return max(horizontal, vertical)


def test_scale_buttons_are_big_enough_to_tap_and_keep_their_order(
    respondent_survey, laptop_page: Page
):
    page = laptop_page
    for viewport in (PHONE, LAPTOP):
        page.set_viewport_size(viewport)
        page.goto(f"/s/{respondent_survey.link_slug}/?lang=en")
        types = page.eval_on_selector_all("[data-type]", "els => els.map(e => e.dataset.type)")
        assert set(types) == set(QuestionType.values)
        assert page_width(page, viewport) <= viewport["width"]

        groups = defaultdict(list)
        for button in page.evaluate(SCALE_BUTTONS):
            groups[button["name"]].append(button)
        # NPS, CSAT, CES, legacy CES, the two WOMI questions, smiley and rating.
        assert len(groups) == 8, sorted(groups)
        for name, buttons in groups.items():
            where = f"{name} at {viewport['width']} px"
            for button in buttons:
                assert button["width"] >= MIN_TARGET and button["height"] >= MIN_TARGET, (
                    f"{where}: {button['value']} is {button['width']:.0f} x "
                    f"{button['height']:.0f} px"
                )
            for index, a in enumerate(buttons):
                for b in buttons[index + 1 :]:
                    assert _gap(a, b) >= MIN_GAP, f"{where}: {a['value']} and {b['value']} touch"
            # Reading order stays the scale's order: left to right, then the next row.
            positions = [(round(b["top"]), b["left"]) for b in buttons]
            assert positions == sorted(positions), where

    # On the phone the 0-10 scale takes two rows (0-5, 6-10) and stays one radio group.
    page.set_viewport_size(PHONE)
    page.goto(f"/s/{respondent_survey.link_slug}/?lang=en")
    nps = [b for b in page.evaluate(SCALE_BUTTONS) if b["name"] == "nps"]
    rows = sorted({round(b["top"]) for b in nps})
    assert len(rows) == 2
    assert [b["value"] for b in nps if round(b["top"]) == rows[0]] == [str(n) for n in range(6)]
    first = page.locator("input[name=nps][value='0']")
    first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("input[name=nps][value='1']")).to_be_checked()
    expect(page.locator("input[name=nps][value='1']")).to_be_focused()
    nps_group = page.get_by_role("group", name=RECOMMEND["en"]).first
    expect(nps_group.get_by_role("radio")).to_have_count(11)
    expect(nps_group.get_by_role("radio", name="10", exact=True)).to_have_count(1)
