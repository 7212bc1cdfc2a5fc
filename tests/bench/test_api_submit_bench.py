"""The response-submit benchmark still runs: a quick run against a real gunicorn.

It uses its own database (`cxplatform_bench_submit_test`, dropped afterwards) so it never
disturbs the figures of a `make bench` running at the same time, and never the test database.
"""

import os

import pytest

from bench import server
from bench.environment import drop_database
from bench.runner import run

DATABASE = "cxplatform_bench_submit_test"


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_submit_benchmark_measures_bare_insert_submit_and_bulk(bench_database):
    outcome = run(
        only=["api_submit"], quick=True, database_name=bench_database, echo=lambda *_: None
    )

    rows = {result.name: result for result in outcome.results}
    assert set(rows) == {
        "api_submit.bare_insert",
        "api_submit.submit",
        "api_submit.ratio",
        "api_submit.statements",
        "api_submit.bulk",
    }
    assert all(result.figure > 0 for result in outcome.results), outcome.results
    # Errors would mean an answer other than 201 (200 for bulk), or a probe that failed.
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert rows["api_submit.statements"].figure <= 6
    assert "goal >= 0.25" in rows["api_submit.ratio"].notes
    assert not server.started_groups, "a gunicorn process group is still running"
