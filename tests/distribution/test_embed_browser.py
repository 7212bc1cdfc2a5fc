"""In Chromium: a company shows a survey on its own website through `/embed.js`, inline in a page or
as a slide-in when the site says a customer is leaving the checkout; a website the organization
has not allowed gets nothing and cannot frame the survey either.

Our app is pytest-django's live server (http://localhost:<port>). The company's shop and a
stranger's site are small servers of their own on 127.0.0.1, each on its own port: three origins.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from surveys.models import Response, Survey
from surveys.templates_library import RECOMMEND
from tenancy.models import Organization
from tests.factories import OrganizationFactory
from tests.surveys.factories import make_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = RECOMMEND["en"]
STORE = "helsinki-kamppi"
EXIT_EVENT = "checkout-exit"
# Long enough for a survey that was going to appear (its configuration comes from the live
# server on the same machine) to have appeared.
SETTLE_MS = 700


@dataclass
class Website:
    """A site of its own origin serving `pages` (path -> HTML)."""

    origin: str = ""
    pages: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.origin + path


@pytest.fixture
def websites() -> Iterator[Callable[[], Website]]:
    """Starts websites, each on 127.0.0.1 and a port of its own (so an origin of its own)."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> Website:
        site = Website()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                html = site.pages.get(urlsplit(self.path).path)
                body = (html or "Not found").encode()
                self.send_response(404 if html is None else 200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        site.origin = f"http://127.0.0.1:{server.server_address[1]}"
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def survey(transactional_db) -> Survey:
    organization = OrganizationFactory(name="Kenkä Oy", slug="kenka")
    return make_survey(organization, name="Checkout")


def allow(survey: Survey, *origins: str) -> None:
    Organization.objects.filter(pk=survey.organization_id).update(
        embed_allowed_origins=list(origins)
    )


def shop_page(live_server, *, heading: str, body: str = "", **data: str) -> str:
    """A company's page with our script tag; `data` become its data- attributes
    (underscores in the names become dashes)."""
    attributes = " ".join(
        f'data-{name.replace("_", "-")}="{escape(value)}"' for name, value in data.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title></head><body><h1>{heading}</h1>{body}"
        f'<script src="{live_server.url}/embed.js" {attributes}></script></body></html>'
    )


def script_ran(page: Page) -> None:
    page.wait_for_function("() => window.cxFeedback !== undefined")


def eventually(page: Page, check: Callable[[], bool], timeout: float = 5.0) -> bool:
    # Waiting through the page, not time.sleep: Playwright delivers events only while it runs.
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


def fits_in(frame: Locator, inside: Locator) -> bool:
    """The element is within the frame's box: the frame is tall enough to show it unscrolled."""
    outer, inner = frame.bounding_box(), inside.bounding_box()
    return bool(outer and inner) and inner["y"] + inner["height"] <= outer["y"] + outer["height"]


def test_a_shop_shows_the_survey_in_its_page_and_the_answer_is_stored_with_the_page(
    live_server, websites, survey, laptop_page: Page
):
    shop = websites()
    allow(survey, shop.origin)
    shop.pages["/checkout/done"] = shop_page(
        live_server,
        heading="Order received",
        body='<div id="feedback"></div>',
        survey=survey.link_slug,
        mode="inline",
        target="#feedback",
        hidden_store=STORE,
    )
    page = laptop_page
    # The query string can hold personal data: only the path goes with the answer.
    page.goto(shop.url("/checkout/done?order=1042&email=anna%40example.com"))

    iframe = page.locator("#feedback iframe")
    frame = page.frame_locator("#feedback iframe")
    expect(frame.get_by_text(QUESTION)).to_be_visible()
    frame.get_by_role("radio", name="9", exact=True).check()
    liked = frame.get_by_label("Liked (en)")
    expect(liked).to_be_visible()
    liked.fill("Quick delivery")
    send = frame.get_by_role("button", name="Send")
    # The frame grows with the follow-up question: the whole survey shows, nothing cut off.
    assert eventually(page, lambda: fits_in(iframe, send))
    send.click()

    expect(frame.get_by_text("Thanks (en)")).to_be_visible()
    response = Response.all_objects.get()
    assert response.survey_id == survey.pk
    assert response.channel == "embed"
    assert response.hidden_fields == {"page": "/checkout/done", "store": STORE}
    # The shop's page remembers the answer, so its slide-ins of this survey stay away.
    assert page.evaluate(
        "slug => JSON.parse(localStorage.getItem('cxfeedback:' + slug)).answered > 0",
        survey.link_slug,
    )


def test_a_slide_in_opens_when_the_customer_leaves_the_checkout_and_not_again_for_days(
    live_server, websites, survey, laptop_page: Page
):
    shop = websites()
    allow(survey, shop.origin)
    shop.pages["/checkout"] = shop_page(
        live_server,
        heading="Checkout",
        body='<button type="button">Back to cart</button>',
        survey=survey.link_slug,
        mode="slide-in",
        trigger="event",
        event=EXIT_EVENT,
        days_between="30",
    )
    page = laptop_page
    panel = page.get_by_role("dialog")
    page.goto(shop.url("/checkout"))
    script_ran(page)
    page.wait_for_timeout(SETTLE_MS)
    expect(panel).to_have_count(0)

    back = page.get_by_role("button", name="Back to cart")
    back.focus()
    page.evaluate("name => window.cxFeedback.trigger(name)", EXIT_EVENT)
    expect(panel).to_be_visible()
    expect(panel.frame_locator("iframe").get_by_text(QUESTION)).to_be_visible()
    expect(panel).to_be_focused()
    expect(panel.get_by_role("button", name="Close")).to_be_visible()
    # At the bottom right of a wide screen, once it has slid in.
    page.wait_for_function(
        """() => {
            const host = [...document.querySelectorAll("*")].find((e) => e.shadowRoot);
            const panel = host && host.shadowRoot.querySelector("[role=dialog]");
            const box = panel && panel.getBoundingClientRect();
            return box && box.bottom <= innerHeight + 0.5 && box.left > innerWidth / 2;
        }"""
    )
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(back).to_be_focused()

    page.reload()
    script_ran(page)
    page.evaluate("name => window.dispatchEvent(new CustomEvent(name))", EXIT_EVENT)
    page.wait_for_timeout(SETTLE_MS)
    expect(panel).to_have_count(0)

    # A "give feedback" button of the site's own still opens it. Escape pressed in the survey
    # closes it too, as does its Close button.
    page.evaluate("slug => window.cxFeedback.show(slug)", survey.link_slug)
    expect(panel).to_be_visible()
    panel.frame_locator("iframe").get_by_role("radio", name="7", exact=True).focus()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    page.evaluate("slug => window.cxFeedback.show(slug)", survey.link_slug)
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_have_count(0)


def test_a_survey_for_other_pages_shows_nothing_and_a_phone_gets_a_bottom_sheet(
    live_server, websites, survey, phone_page: Page
):
    shop = websites()
    allow(survey, shop.origin)
    for path in ("/products/boots", "/cart/"):
        shop.pages[path] = shop_page(
            live_server,
            heading="Shop",
            survey=survey.link_slug,
            mode="slide-in",
            pages="/checkout*,/cart",
        )
    page = phone_page
    page.emulate_media(reduced_motion="reduce")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/e/" in request.url else 0)
    panel = page.get_by_role("dialog")

    page.goto(shop.url("/products/boots"))
    script_ran(page)
    page.wait_for_timeout(SETTLE_MS)
    expect(panel).to_have_count(0)
    assert asked == []

    page.goto(shop.url("/cart/"))
    expect(panel).to_be_visible()
    viewport, box = page.viewport_size, panel.bounding_box()
    assert (box["x"], box["width"]) == (0, viewport["width"])
    assert box["y"] + box["height"] == pytest.approx(viewport["height"], abs=1)

    frame = panel.frame_locator("iframe")
    frame.get_by_role("radio", name="3", exact=True).check()
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("Thanks (en)")).to_be_visible()
    # The sheet leaves by itself a moment after the thanks.
    expect(panel).to_have_count(0, timeout=6_000)
    assert Response.all_objects.get().hidden_fields == {"page": "/cart/"}


def test_a_website_that_is_not_allowed_shows_nothing_and_cannot_frame_the_survey(
    live_server, websites, survey, laptop_page: Page
):
    shop, stranger = websites(), websites()
    allow(survey, shop.origin)
    survey_url = f"{live_server.url}/s/{survey.link_slug}/?channel=embed&embed=1&lang=en"
    for site in (shop, stranger):
        site.pages["/framed"] = f'<!doctype html><iframe src="{escape(survey_url)}"></iframe>'
    stranger.pages["/"] = shop_page(
        live_server,
        heading="Not our shop",
        body='<div id="feedback"></div>',
        survey=survey.link_slug,
        target="#feedback",
    )
    page = laptop_page
    ours = []
    page.on("console", lambda message: ours.append(message) if "cxFeedback" in message.text else 0)

    with page.expect_console_message(lambda message: "cxFeedback" in message.text) as warning:
        page.goto(stranger.url("/"))
    assert warning.value.type == "warning"
    expect(page.locator("iframe")).to_have_count(0)

    # The allowed shop can frame the survey page itself; the stranger's frame stays empty.
    page.goto(shop.url("/framed"))
    expect(page.frame_locator("iframe").get_by_text(QUESTION)).to_be_visible()
    page.goto(stranger.url("/framed"))
    page.wait_for_timeout(SETTLE_MS)
    expect(page.frame_locator("iframe").get_by_text(QUESTION)).to_have_count(0)
    assert len(ours) == 1  # one warning, no retries
    assert not Response.all_objects.exists()
