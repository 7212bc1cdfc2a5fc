"""The app shell in a real browser: sign in on a phone, move by keyboard, switch language, sign out."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_create
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNER_EMAIL = "owner@demo.example"
DEMO_PASSWORD = "demo-owner-2026"
SCREENSHOT = "/tmp/shell-phone.png"


@pytest.fixture
def demo(transactional_db):
    """An organization like the demo's: an owner who signs in with email and password, and staff."""
    owner = user_create(email=OWNER_EMAIL, password=DEMO_PASSWORD, full_name="Olivia Omistaja")
    organization = organization_create(name="Demo Retail Oy", slug="demo", owner=owner)
    with tenant_scope(organization):
        for email, role in [
            ("cx@demo.example", Role.CX_MANAGER),
            ("viewer@demo.example", Role.VIEWER),
        ]:
            membership_add(
                actor=Actor.system(organization),
                organization=organization,
                user=user_create(email=email, password=DEMO_PASSWORD),
                role=role,
            )
    return organization


def sign_in(page: Page, email: str = OWNER_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            tag: el.tagName.toLowerCase(),
            text: (el.innerText || el.value || "").trim(),
            className: el.className || "",
            inNav: !!el.closest("nav.org-nav"),
            visible: (() => { const r = el.getBoundingClientRect();
                              return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0; })(),
          };
        }"""
    )


def horizontal_overflow(page: Page) -> int:
    # Mobile emulation widens innerWidth with the content; the viewport we set does not move.
    return page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]


def test_owner_signs_in_on_a_phone_moves_by_keyboard_switches_language_and_signs_out(
    demo, phone_page: Page
):
    page = phone_page
    sign_in(page)

    expect(page).to_have_url(re.compile(r"/o/demo/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo Retail Oy")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert horizontal_overflow(page) <= 0, "the overview scrolls sideways on a phone"

    # Keyboard: the first Tab lands on the skip link, which becomes visible; the navigation follows.
    page.keyboard.press("Tab")
    first = focused(page)
    assert "skip-link" in first["className"], first
    assert first["visible"], "the skip link stays off-screen when focused"
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused(page)["inNav"]:
            break
    else:
        pytest.fail("the main navigation is not reachable with Tab")
    while focused(page)["text"] != "Members":
        page.keyboard.press("Tab")
        assert focused(page)["inNav"], "Tab left the navigation before reaching Members"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/o/demo/members/$"))
    expect(page.get_by_role("link", name="Members")).to_have_attribute("aria-current", "page")

    # Language: Finnish from the switcher; the page comes back in Finnish on the same address.
    page.locator("#language-select").select_option("fi")
    page.locator("form.language-switcher button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/o/demo/members/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("#language-select")).to_have_value("fi")

    # Sign out (whatever the button says in Finnish): back at sign-in, still in Finnish.
    page.locator("form[action='/accounts/logout/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    page.goto("/o/demo/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/o/demo/$"))


def test_pages_of_the_shell_fit_a_phone_without_sideways_scrolling(demo, phone_page: Page):
    page = phone_page
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/o/demo/$"))
    for path in ("/o/demo/members/", "/o/demo/api-keys/", "/o/demo/activity/", "/o/demo/settings/"):
        page.goto(path)
        assert horizontal_overflow(page) <= 0, f"{path} scrolls sideways on a phone"
        touch_targets = page.evaluate(
            """() => [...document.querySelectorAll('nav.org-nav a, button')]
                .filter(el => el.offsetParent !== null)
                .map(el => el.getBoundingClientRect().height)"""
        )
        assert min(touch_targets) >= 24, f"{path} has buttons or links too small to tap"


def test_a_wrong_password_is_announced_on_the_sign_in_page(demo, laptop_page: Page):
    page = laptop_page
    sign_in(page, password="not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(OWNER_EMAIL)
