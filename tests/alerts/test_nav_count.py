"""The navigation's "Cases" link carries the number of open cases assigned to the signed-in
member, counted with one query per page and only on organization pages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.enums import CaseStatus
from alerts.services.cases import case_change_status
from tenancy.actors import Actor
from tests.alerts.pages_support import manual_cases
from tests.alerts.support import owned_touchpoint
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<span class="badge nav-count">(\d+)<span class="visually-hidden">')


def nav_count(client, path: str) -> int | None:
    match = BADGE.search(client.get(path).content.decode())
    return int(match.group(1)) if match else None


def test_nav_shows_my_open_cases_only(scoped, personas, cx_client, owner_client):
    journeys = reverse("journeys:journeys", args=["acme"])
    assert nav_count(cx_client, journeys) is None  # no badge for nothing
    mine = manual_cases(scoped, 3, assignee=personas.cx_manager)
    manual_cases(scoped, 2, assignee=personas.owner)
    manual_cases(scoped, 1)  # unassigned
    case_change_status(actor=Actor.system(scoped), case=mine[0], status=CaseStatus.CANCELLED)
    assert nav_count(cx_client, journeys) == 2
    assert nav_count(owner_client, journeys) == 2
    html = cx_client.get(journeys).content.decode()
    assert "open, assigned to you" in html
    assert reverse("alerts:cases", args=["acme"]) in html
    assert reverse("alerts:alerts", args=["acme"]) in html


def test_the_count_costs_one_query_per_page(scoped, personas, cx_client):
    manual_cases(scoped, 2, assignee=personas.cx_manager)
    for path in (
        reverse("journeys:journeys", args=["acme"]),
        reverse("distribution:contacts", args=["acme"]),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = cx_client.get(path)
        assert response.status_code == 200
        case_queries = [q for q in captured.captured_queries if '"alerts_case"' in q["sql"]]
        assert len(case_queries) == 1 and "COUNT(*)" in case_queries[0]["sql"]


def test_no_count_outside_organization_pages(scoped, personas):
    manual_cases(scoped, 1, assignee=personas.cx_manager)
    client = client_for(UserFactory())  # a member of no organization: the home page renders
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert not any('"alerts_case"' in q["sql"] for q in captured.captured_queries)


def test_htmx_fragments_do_not_count(scoped, personas, cx_client):
    manual_cases(scoped, 1, assignee=personas.cx_manager)
    touchpoint = owned_touchpoint(scoped, personas.cx_manager)
    with CaptureQueriesContext(connection) as captured:
        response = cx_client.get(
            reverse("alerts:touchpoint_cases", args=["acme", touchpoint.public_id]),
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert not any("COUNT(*)" in q["sql"] for q in captured.captured_queries)
