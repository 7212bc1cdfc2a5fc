"""The two import benchmarks still run: quick runs through a real gunicorn and worker.

They use their own database (`cxplatform_bench_imports_test`, dropped afterwards), never the
test database nor a `make bench` running at the same time. Only that they ran without errors
and produced figures is checked, not how fast.
"""

import os

import pytest

from bench import server
from bench.environment import drop_database
from bench.runner import run

DATABASE = "cxplatform_bench_imports_test"


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_import_benchmarks_import_every_row_and_report_the_copy_floor(bench_database):
    outcome = run(
        only=["contacts_import", "response_import"],
        quick=True,
        database_name=bench_database,
        echo=lambda *_: None,
    )

    rows = {result.name: result for result in outcome.results}
    for phase in ("create", "update"):
        assert rows[f"contacts_import.{phase}"].figure > 0, rows
        assert rows[f"contacts_import.{phase}_copy_floor"].figure > 0, rows
        assert rows[f"contacts_import.{phase}_ratio"].figure > 0, rows
    assert rows["response_import.rows_per_second"].figure > 0, rows
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert not server.started_groups, "a gunicorn or Celery process group is still running"
