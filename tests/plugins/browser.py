"""Playwright on Debian's Chromium for browser tests.

Browser tests take `phone_page` or `laptop_page` (each on a fresh context whose base URL is
pytest-django's `live_server`, so `page.goto("/accounts/login/")` works) and are marked
`@pytest.mark.browser`. The browser is /usr/bin/chromium, installed by scripts/test.sh; we never
run `playwright install`. Without it the browser tests fail with a message saying so.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio loop running in the test thread for the whole session,
# which makes Django refuse ORM calls there ("You cannot call this from an async context").
# Tests and the live server are synchronous code, so the check does not apply to them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 850}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at Debian's Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing, so the browser tests cannot run. Install it with "
            "`sudo apt-get install chromium` (make test does this when run as root); "
            "never `playwright install`.",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


def _page(browser, live_server, viewport: dict, **context_args):
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, locale="en-GB", **context_args
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page (390 x 844, touch) on the live server."""
    context, page = _page(browser, live_server, PHONE, has_touch=True, is_mobile=True)
    yield page
    context.close()


@pytest.fixture
def laptop_page(browser, live_server):
    """A laptop-sized page (1366 x 850) on the live server."""
    context, page = _page(browser, live_server, LAPTOP)
    yield page
    context.close()
