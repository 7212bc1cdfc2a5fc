"""The alerts benchmark still runs: a quick run against a real gunicorn, worker and SMTP sink.

It uses its own database (`cxplatform_bench_alerts_test`, dropped afterwards) so it never
disturbs the figures of a `make bench` running at the same time, and never the test database.
Only that it ran and produced figures is checked, not how fast.
"""

import os

import pytest

from bench import server
from bench.environment import drop_database
from bench.runner import run

DATABASE = "cxplatform_bench_alerts_test"


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_alerts_benchmark_sees_every_low_score_become_a_case_and_an_email(bench_database):
    outcome = run(only=["alerts"], quick=True, database_name=bench_database, echo=lambda *_: None)

    rows = {result.name: result for result in outcome.results}
    for phase in ("idle", "loaded"):
        for kind in ("case", "email"):
            for statistic in ("p50", "p95", "max"):
                assert rows[f"alerts.{phase}.{kind}_{statistic}"].figure > 0, rows
    assert rows["alerts.loaded.background_rate"].figure > 0
    # An error is a POST that failed or a low score whose case or email never came.
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert "idle baseline" in rows["alerts.loaded.email_p95"].notes
    assert not server.started_groups, "a gunicorn or Celery process group is still running"
    assert "`alerts`" in outcome.document
