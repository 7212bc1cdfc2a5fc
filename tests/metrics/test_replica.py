"""Lag-tolerant reads (metric series and the dashboards built on them, exports) go to a replica when one
is configured, fall back to the primary without an error when it is unreachable, and never leave
a transaction's own connection (core/replica.py)."""

import io
import logging
from datetime import date

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from core import replica
from reports.export_files import export_write
from reports.exports import response_queryset
from reports.filters import ReportFilters
from tenancy.scoping import tenant_scope
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
URL = "/api/v1/orgs/acme/metrics/"
QUERY = {"metric": "nps", "start": "2026-03-01", "end": "2026-03-31", "interval": "month"}


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup, django_db_blocker):
    """A second connection to the test database, as a streaming replica would be."""
    connections.settings[replica.REPLICA] = {
        **connections["default"].settings_dict,
        "TEST": {"MIRROR": "default"},  # flushed as the default database, never on its own
    }
    yield
    connections[replica.REPLICA].close()
    del connections.settings[replica.REPLICA]


@pytest.fixture(autouse=True)
def _fresh_check():
    replica.replica_recheck()
    yield
    connections[replica.REPLICA].close()
    replica.replica_recheck()


@pytest.fixture
def answers(scoped, submit, touchpoint, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    for score in [10, 9, 9, 7, 3, 10]:
        submit(score, at(2026, 3, 10))
    return touchpoint


@pytest.fixture
def unreachable_replica():
    working = connections.settings[replica.REPLICA]
    broken = {**working, "PORT": "1"}
    broken["OPTIONS"] = {**broken.get("OPTIONS", {}), "connect_timeout": 1}
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]
    connections.settings[replica.REPLICA] = broken
    yield
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]
    connections.settings[replica.REPLICA] = working


def test_without_a_replica_every_read_is_on_the_primary(monkeypatch):
    monkeypatch.delitem(connections.settings, replica.REPLICA)
    assert replica.lag_tolerant() == "default"


def test_metric_series_are_read_from_the_replica(answers, read_api):
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        body = read_api.get(URL, QUERY).json()
    assert body["results"][0]["n"] == 6
    assert any("metrics_daily" in query["sql"] for query in on_replica.captured_queries)


def test_inside_a_transaction_reads_stay_on_the_primary():
    with transaction.atomic():
        assert replica.lag_tolerant() == "default"
    assert replica.lag_tolerant() == "replica"


def test_an_unreachable_replica_costs_no_error_and_is_left_alone_for_a_while(
    answers, read_api, unreachable_replica, caplog
):
    with caplog.at_level(logging.WARNING, logger="core.replica"):
        first = read_api.get(URL, QUERY)
        second = read_api.get(URL, QUERY)
    assert first.status_code == second.status_code == 200
    assert first.json()["results"][0]["n"] == 6
    warnings = [r for r in caplog.records if "replica unreachable" in r.getMessage()]
    assert len(warnings) == 1  # the second read did not wait on the replica again


def test_exports_are_read_from_the_replica(answers, org):
    with tenant_scope(org):
        filters = ReportFilters(start=date(2026, 3, 1), end=date(2026, 3, 31))
        responses = response_queryset(organization=org, filters=filters)
        out = io.BytesIO()
        with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
            rows = export_write(
                organization=org,
                responses=responses,
                export_format="csv",
                contact_details=False,
                out=out,
            )
    assert rows == 6 and out.getvalue().count(b"\n") == 7
    tables = " ".join(query["sql"] for query in on_replica.captured_queries)
    assert '"surveys_response"' in tables and '"surveys_answer"' in tables
