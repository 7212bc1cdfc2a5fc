"""The dashboards benchmark still runs: a quick run against real services, both sizes.

It uses its own database (`cxplatform_bench_dashboards_test`, dropped afterwards) so it never
disturbs the figures of a `make bench` running at the same time, and never the test database.
"""

import os

import pytest

from bench import server
from bench.bench_dashboards import PAGES
from bench.environment import drop_database
from bench.runner import run

DATABASE = "cxplatform_bench_dashboards_test"


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_dashboards_benchmark_times_every_page_at_both_sizes_and_stops_its_server(
    bench_database,
):
    outcome = run(
        only=["dashboards"], quick=True, database_name=bench_database, echo=lambda *_: None
    )

    rows = {result.name: result for result in outcome.results}
    expected = {"dashboards.grow"} | {
        f"dashboards.{page.key}.{figure}"
        for page in PAGES
        for figure in ("small_p95", "large_p95", "ratio")
    }
    assert expected <= set(rows)
    assert {"overview", "touchpoint", "touchpoint_12m", "journey"} <= {p.key for p in PAGES}
    assert {"survey_list", "survey_results", "responses"} <= {p.key for p in PAGES}
    assert all(result.figure > 0 for result in outcome.results), outcome.results
    # Errors would mean a page answered something else than 200 (a lost session, a 500).
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert "1,000 responses stored" in rows["dashboards.overview.small_p95"].notes
    assert "5,000 responses stored" in rows["dashboards.overview.large_p95"].notes
    assert "goal <= 300 ms" in rows["dashboards.touchpoint.large_p95"].notes
    assert "SQL queries" in rows["dashboards.touchpoint.ratio"].notes
    assert not server.started_groups, "a gunicorn process group is still running"
    assert "`dashboards`" in outcome.document
