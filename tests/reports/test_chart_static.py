"""plotly.js is served from the installed plotly package through our static files, not a CDN."""

from pathlib import Path

import plotly
import pytest
from django.contrib.staticfiles import finders

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def test_plotly_js_is_found_in_the_installed_plotly_package():
    assert Path(finders.find("vendor/plotly/plotly.min.js")) == PLOTLY_JS
    assert finders.find("vendor/plotly/LICENSE")
    assert finders.find("js/charts.js")


def test_only_plotly_js_is_published_not_the_rest_of_the_package_data():
    listed = {
        f"{storage.prefix}/{path}" if getattr(storage, "prefix", None) else path
        for finder in finders.get_finders()
        for path, storage in finder.list(None)
    }

    assert "vendor/plotly/plotly.min.js" in listed
    assert not finders.find("vendor/plotly/widgetbundle.js")
    assert not [path for path in listed if path.startswith("vendor/plotly/package_data")]
    assert not [path for path in listed if "widgetbundle" in path or "datasets" in path]


@pytest.mark.django_db
def test_browser_gets_plotly_js_and_our_chart_script_from_static(client):
    response = client.get("/static/vendor/plotly/plotly.min.js")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == PLOTLY_JS.read_bytes()
    assert client.get("/static/js/charts.js").status_code == 200


def test_a_missing_package_file_fails_the_system_check_instead_of_a_broken_page(settings):
    from cxplatform.staticfiles import PackageFileFinder

    settings.STATIC_PACKAGE_FILES = {
        "vendor/plotly/plotly.min.js": ("plotly", "package_data/plotly.min.js"),
        "vendor/gone/gone.js": ("no_such_package_here", "gone.js"),
    }
    finder = PackageFileFinder()

    [error] = finder.check()
    assert "vendor/gone/gone.js" in error.msg
    assert finder.find("vendor/gone/gone.js") == []
    assert Path(finder.find("vendor/plotly/plotly.min.js")) == PLOTLY_JS
