"""The application's settings with the bench's URLs on top (see bench.site)."""

from cxplatform.settings import *  # noqa: F403 (the whole application, unchanged)

ROOT_URLCONF = "bench.site.urls"
