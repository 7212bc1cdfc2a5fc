"""In a real browser: the kiosk page on a tablet at a store exit. Customers tap a face and maybe
write a follow-up; answers wait on the device while it is offline and are stored exactly once when
it is back; a revoked device stops asking; the faces fit a phone and a tablet."""

import json
import os
import re
from collections.abc import Callable
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from distribution.services.kiosk import kiosk_device_create, kiosk_device_revoke
from surveys.models import Answer, Response
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("CXP_SCREENSHOTS", "")
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
QUESTION_FI = "How was your visit (fi)"
QUESTION_EN = "How was your visit (en)"
FOLLOW_UP_EN = "What should we improve (en)"
THANKS_EN = "Thanks (en)"


def make_kiosk(organization, follow_up: dict) -> tuple:
    """A published smiley survey whose follow-up is asked after the two unhappy faces, and a
    kiosk device asking it; returns (organization, device, page address)."""
    survey = make_survey(
        organization,
        name="Store exit",
        touchpoint=make_touchpoint(organization, "Kamppi store"),
        questions=[
            {"key": "q1", "type": "smiley", "texts": texts("How was your visit"), "required": True},
            {"key": "q2", "condition": {"question": "q1", "op": "lte", "value": 2}, **follow_up},
        ],
    )
    with tenant_scope(organization):
        device, token = kiosk_device_create(
            actor=Actor.system(organization),
            organization=organization,
            name="Kamppi exit",
            survey=survey,
        )
    return organization, device, f"/k/{token}/"


@pytest.fixture
def kiosk(org):
    return make_kiosk(org, {"type": "text", "texts": texts("What should we improve")})


@pytest.fixture
def tablet_page(browser, live_server):
    """A landscape tablet (1024 x 768, touch) on the live server."""
    context = browser.new_context(
        viewport=TABLET, base_url=live_server.url, locale="en-GB", has_touch=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def kiosk_responses(organization) -> list[Response]:
    return list(
        Response.all_objects.filter(organization=organization, channel="kiosk").order_by("id")
    )


def answers_of(response: Response) -> dict:
    return {
        a.question.key: a.value_int if a.value_int is not None else a.value_text
        for a in Answer.all_objects.filter(response=response).select_related("question")
    }


def wait_until(page: Page, condition: Callable[[], bool], seconds: float = 15) -> None:
    """Polls a database condition while the browser and the live server go on working."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    assert condition()


def answer(page: Page, face: str, follow_up: str | None = None, taps: int = 1) -> None:
    """One customer, in English: a face (tapped `taps` times), maybe the follow-up, the thanks,
    and back to the question in the default language for the next one."""
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("heading", name=QUESTION_EN)).to_be_visible()
    page.get_by_role("button", name=face, exact=True).click(click_count=taps)
    if follow_up is not None:
        page.get_by_role("textbox", name=FOLLOW_UP_EN).fill(follow_up)
        page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name=THANKS_EN)).to_be_visible()
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()


def no_horizontal_overflow(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:  # for a person checking the layout by eye
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def queued(page: Page, device) -> list[dict]:
    raw = page.evaluate("key => localStorage.getItem(key)", f"cxkiosk:{device.public_id}:queue")
    return json.loads(raw or "[]")


def test_a_customers_face_and_follow_up_are_stored_once_and_the_kiosk_asks_again(
    kiosk, tablet_page: Page
):
    organization, device, url = kiosk
    page = tablet_page
    page.goto(url)
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    shot(page, "kiosk-question-tablet")

    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("button", name="Unhappy", exact=True).click()
    page.get_by_role("textbox", name=FOLLOW_UP_EN).fill("The self-checkout kept freezing")
    shot(page, "kiosk-follow-up-tablet")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name=THANKS_EN)).to_be_visible()

    wait_until(page, lambda: len(kiosk_responses(organization)) == 1)
    (response,) = kiosk_responses(organization)
    assert response.language == "en"
    assert response.hidden_fields["kiosk"] == device.public_id
    assert answers_of(response) == {"q1": 2, "q2": "The self-checkout kept freezing"}

    # After the thanks the next customer gets the question, in the default language again.
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.get_by_role("status")).to_have_text("")
    assert queued(page, device) == []
    assert len(kiosk_responses(organization)) == 1


def test_answers_given_offline_wait_on_the_device_and_are_stored_exactly_once_when_back_online(
    kiosk, tablet_page: Page
):
    organization, device, url = kiosk
    page = tablet_page
    page.goto(url)
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    # The service worker has kept the page and its two files for a reload without network.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        """async () => {
            const names = await caches.keys();
            if (!names.length) return false;
            const kept = await (await caches.open(names[0])).keys();
            return kept.length === 3;
        }"""
    )

    page.context.set_offline(True)
    answer(page, "Very happy", taps=3)  # a button-masher counts once
    answer(page, "Very unhappy", follow_up="Long queue")
    expect(page.get_by_role("status")).to_contain_text("2 ")
    assert len(queued(page, device)) == 2
    assert kiosk_responses(organization) == []
    shot(page, "kiosk-offline-tablet")

    # A reload while offline still shows the kiosk (from the service worker's copy) and its
    # queue. Chromium's emulated offline sometimes lets the reloaded page's sync reach the server
    # and drops only the reply: the lost-reply case, which the answers' ids make harmless.
    page.reload()
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("2 ")
    delivery = page.evaluate("performance.getEntriesByType('navigation')[0].deliveryType")
    assert delivery == "cache-storage"
    waiting = queued(page, device)
    assert len(waiting) == 2

    page.context.set_offline(False)
    wait_until(page, lambda: len(kiosk_responses(organization)) == 2)
    expect(page.get_by_role("status")).to_have_text("")
    assert queued(page, device) == []
    responses = kiosk_responses(organization)
    answers = [answers_of(r) for r in responses]
    assert sorted(answers, key=lambda a: a["q1"]) == [{"q1": 1, "q2": "Long queue"}, {"q1": 4}]

    # Exactly once: a reload sends nothing more, and the same batch sent again is a duplicate.
    page.reload()
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    again = page.evaluate(
        """async ([syncUrl, answers]) => {
            const reply = await fetch(syncUrl, {
                method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({answers}),
            });
            return (await reply.json()).results.map(r => r.status);
        }""",
        [url + "answers/", waiting],
    )
    assert again == ["duplicate", "duplicate"]
    assert len(kiosk_responses(organization)) == 2


def test_a_customer_picks_a_reason_from_big_buttons_in_their_own_language(org, tablet_page: Page):
    organization, _device, url = make_kiosk(
        org,
        {
            "type": "single_choice",
            "texts": texts("What went wrong"),
            "choices": [
                {"value": "queue", "texts": texts("Long queue")},
                {"value": "staff", "texts": texts("No staff around")},
            ],
        },
    )
    page = tablet_page
    page.goto(url)
    page.get_by_role("button", name="svenska", exact=True).click()
    page.get_by_role("button", name="Missnöjd", exact=True).click()
    expect(page.get_by_role("heading", name="What went wrong (sv)")).to_be_visible()
    reasons = page.get_by_role("group", name="What went wrong (sv)")
    reasons.get_by_role("button", name="No staff around (sv)").click()
    reasons.get_by_role("button", name="Long queue (sv)").click()
    expect(reasons.get_by_role("button", name="Long queue (sv)")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reasons.get_by_role("button", name="No staff around (sv)")).to_have_attribute(
        "aria-pressed", "false"
    )
    shot(page, "kiosk-choice-tablet")
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.get_by_role("heading", name="Thanks (sv)")).to_be_visible()

    wait_until(page, lambda: len(kiosk_responses(organization)) == 1)
    (response,) = kiosk_responses(organization)
    assert response.language == "sv"
    assert answers_of(response) == {"q1": 2, "q2": "queue"}


def test_a_revoked_kiosk_says_it_was_removed_and_stops_asking(kiosk, tablet_page: Page):
    organization, device, url = kiosk
    page = tablet_page
    page.goto(url)
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    with tenant_scope(organization):
        kiosk_device_revoke(actor=Actor.system(organization), device=device)

    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("button", name="Very happy", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("This device has been removed"))
    expect(page.get_by_role("button", name="Very happy", exact=True)).to_be_hidden()
    shot(page, "kiosk-removed-tablet")
    page.wait_for_timeout(500)
    assert kiosk_responses(organization) == []
    # Never dropped unanswered: the answer stays on the device, but nothing is sent any more.
    assert len(queued(page, device)) == 1


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone-390x844", "tablet-1024x768"])
def test_the_faces_are_big_buttons_that_fit_the_screen_and_work_from_the_keyboard(
    kiosk, browser, live_server, viewport
):
    organization, _device, url = kiosk
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, locale="en-GB", has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(url)
        page.get_by_role("button", name="English", exact=True).click()
        faces = page.locator("[data-face]")
        expect(faces).to_have_count(4)
        for name in ("Very unhappy", "Unhappy", "Happy", "Very happy"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box["width"] >= 88 and box["height"] >= 88, (name, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
            assert box["y"] + box["height"] <= viewport["height"], (name, box)  # no scrolling
        no_horizontal_overflow(page)
        shot(page, f"kiosk-question-{viewport['width']}")

        page.get_by_role("button", name="Very unhappy", exact=True).click()
        expect(page.get_by_role("textbox", name=FOLLOW_UP_EN)).to_be_visible()
        no_horizontal_overflow(page)
        shot(page, f"kiosk-follow-up-{viewport['width']}")
        page.get_by_role("button", name="Skip", exact=True).click()
        expect(page.get_by_role("heading", name=THANKS_EN)).to_be_visible()
        expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()

        happy = page.get_by_role("button", name="Erittäin tyytyväinen", exact=True)
        expect(happy).to_be_enabled()
        happy.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Thanks (fi)")).to_be_visible()
        wait_until(page, lambda: len(kiosk_responses(organization)) == 2)
        assert sorted(r.language for r in kiosk_responses(organization)) == ["en", "fi"]
    finally:
        context.close()


def test_an_abandoned_follow_up_still_counts_the_face_and_an_idle_kiosk_invites_customers(
    kiosk, tablet_page: Page
):
    organization, _device, url = kiosk
    page = tablet_page
    page.clock.install(time=datetime.now())
    page.goto(url)
    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_role("button", name="Very unhappy", exact=True).click()
    page.get_by_role("textbox", name=FOLLOW_UP_EN).fill("The queue was")

    page.clock.run_for(21_000)  # reset_seconds without a touch
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
    wait_until(page, lambda: len(kiosk_responses(organization)) == 1)
    (response,) = kiosk_responses(organization)
    assert answers_of(response) == {"q1": 1}

    page.clock.run_for(61_000)  # attract_after_seconds without a touch
    attract = page.locator("#kiosk-attract")
    expect(attract).to_be_visible()
    shot(page, "kiosk-attract-tablet")
    attract.click()
    expect(attract).to_be_hidden()
    expect(page.get_by_role("heading", name=QUESTION_FI)).to_be_visible()
