"""The metrics benchmarks still run: a quick run of all three against real services.

It uses its own database (`cxplatform_bench_metrics_test`, dropped afterwards) so it never
disturbs the figures of a `make bench` running at the same time, and never the test database.
"""

import os

import pytest

from bench import server
from bench.environment import drop_database
from bench.runner import run

DATABASE = "cxplatform_bench_metrics_test"
BENCHMARKS = ["metrics_rollup_vs_raw", "metrics_api_scaling", "metrics_worker_throughput"]


@pytest.fixture
def bench_database():
    yield DATABASE
    drop_database(os.environ["DATABASE_URL"], DATABASE)


def test_quick_metrics_benchmarks_agree_with_raw_answers_and_stop_their_processes(
    bench_database,
):
    outcome = run(only=BENCHMARKS, quick=True, database_name=bench_database, echo=lambda *_: None)

    rows = {result.name: result for result in outcome.results}
    assert {
        "metrics.seed_responses",
        "metrics.rebuild_rollups",
        "metrics_rollup_vs_raw.rollup_p50",
        "metrics_rollup_vs_raw.rollup_p95",
        "metrics_rollup_vs_raw.raw_p50",
        "metrics_rollup_vs_raw.ratio",
        "metrics_api_scaling.small_p50",
        "metrics_api_scaling.large_p50",
        "metrics_api_scaling.ratio",
        "metrics_worker_throughput.batched_1_process",
        "metrics_worker_throughput.batched_2_processes",
        "metrics_worker_throughput.per_response_1_process",
        "metrics_worker_throughput.per_response_2_processes",
        "metrics_worker_throughput.ratio",
    } <= set(rows)
    assert all(result.figure > 0 for result in outcome.results), outcome.results
    # Errors would mean the rollups and the raw answers disagree, a request failed, or the
    # worker left responses unprocessed or counted them wrong.
    assert all(result.errors == 0 for result in outcome.results), outcome.results
    assert "NPS" in rows["metrics_rollup_vs_raw.rollup_p50"].notes
    assert not server.started_groups, "a gunicorn or Celery process group is still running"
    assert "`metrics_worker_throughput`" in outcome.document
