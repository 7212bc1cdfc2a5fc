"""The benchmark runner still works: a quick run of the API benchmark against a real gunicorn.

It uses its own database (`cxplatform_bench_test`, dropped afterwards) so it never disturbs the
figures of a `make bench` running at the same time, and it never touches the test database.
"""

import os

import pytest

from bench import server
from bench.environment import BenchSetupError, drop_database
from bench.runner import report, run

DATABASE = "cxplatform_bench_test"


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_api_benchmark_measures_both_urls_without_errors_and_stops_its_server(
    bench_database, tmp_path
):
    outcome = run(only=["api"], quick=True, database_name=bench_database, echo=lambda *_: None)

    rows = {result.name: result for result in outcome.results}
    assert set(rows) == {"api.bare_view", "api.tenant_read", "api.tenant_to_bare_ratio"}
    assert rows["api.bare_view"].figure > 0
    assert rows["api.tenant_read"].figure > 0
    assert rows["api.tenant_to_bare_ratio"].figure > 0
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert not server.started_groups, "a gunicorn process group is still running"

    document = tmp_path / "benchmarks.md"
    report(outcome, output=document, echo=lambda *_: None)
    text = document.read_text()
    assert "`api.tenant_to_bare_ratio`" in text
    assert "PostgreSQL" in text
    assert "`make bench`" in text


def test_unknown_benchmark_is_refused_before_any_database_is_touched():
    with pytest.raises(BenchSetupError, match="Unknown benchmark"):
        run(only=["nope"], quick=True, database_name=DATABASE, echo=lambda *_: None)
