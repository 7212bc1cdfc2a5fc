"""The SQL of the hot paths, captured and checked (ARCHITECTURE.md, "Growing past one machine"):
every statement that touches a tenant table names that table's `organization_id`, so it can be
routed to one shard, and no path takes more statements than its ceiling.

A statement found without it goes in KNOWN_UNSCOPED (path -> tables) only while it is being
fixed; the test fails when a path reaches a tenant table without `organization_id` that is not
listed, when a listed one is fixed (drop it from the list), and when a path takes more statements
than its ceiling.
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import TenantModel
from distribution.services import invitations
from distribution.services.kiosk import kiosk_device_create
from metrics.services import responses_process
from surveys.models import Response
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tests.distribution.test_sharing import answer, smiley_questions, sync
from tests.surveys.factories import make_link, make_survey, make_touchpoint

pytestmark = pytest.mark.django_db

TENANT_TABLES = {
    model._meta.db_table for model in apps.get_models() if issubclass(model, TenantModel)
}
TABLE = re.compile(r'(?:FROM|JOIN|UPDATE|INTO)\s+"(\w+)"', re.IGNORECASE)
# Most statements a path may take (its figure when the guard was written). A respondent's link
# names no organization: its first statement resolves the slug or token in the handle
# directory (core.handles), so that every later one reaches a single organization.
CEILINGS = {
    "api_submit": 4,
    "form_submit": 5,
    "personal_link_open": 5,
    "personal_link_submit": 7,
    "process_responses": 14,
    "metrics_api": 3,
    "kpis_api": 3,
    "responses_api": 4,
    "kiosk_sync": 8,
}
# path -> tenant tables some statement of it reaches without organization_id (to fix).
KNOWN_UNSCOPED: dict[str, set[str]] = {}


@dataclass
class Path:
    statements: list[str]

    def unscoped(self) -> set[str]:
        missing = set()
        for sql in self.statements:
            if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                continue
            for table in set(TABLE.findall(sql)) & TENANT_TABLES:
                if not _names_organization(sql, table):
                    missing.add(table)
        return missing


def _names_organization(sql: str, table: str) -> bool:
    qualified = f'"{table}"."organization_id"'
    insert = re.search(rf'INSERT INTO "{table}" \([^)]*"organization_id"', sql, re.IGNORECASE)
    return qualified in sql or insert is not None


def capture(action) -> Path:
    with CaptureQueriesContext(connection) as captured:
        action()
    return Path([query["sql"] for query in captured.captured_queries])


@pytest.fixture
def survey(org):
    return make_survey(org, touchpoint=make_touchpoint(org))


@pytest.fixture
def paths(org, survey, write_api, read_api, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    found: dict[str, Path] = {}
    body = {"survey": survey.public_id, "answers": [{"question": "score", "value": 9}],
            "language": "fi"}  # fmt: skip
    write_api.post("/api/v1/orgs/acme/responses/", body, format="json")  # warm caches
    found["api_submit"] = capture(
        lambda: write_api.post("/api/v1/orgs/acme/responses/", body, format="json")
    )
    client = Client()
    form = {"score": "9", "seen": "score,improve,liked", "submission": uuid.uuid4().hex}
    found["form_submit"] = capture(lambda: client.post(f"/s/{survey.link_slug}/", form))
    link = make_link(survey)
    found["personal_link_open"] = capture(lambda: client.get(f"/r/{link.token}/"))
    found["personal_link_submit"] = capture(
        lambda: client.post(f"/r/{link.token}/", {"score": "3", "seen": "score,improve,liked"})
    )
    ids = list(Response.all_objects.filter(organization=org).values_list("pk", flat=True))
    with tenant_scope(org):
        found["process_responses"] = capture(
            lambda: responses_process(organization=org, response_ids=ids)
        )
    today = timezone.localdate().isoformat()
    metrics = f"/api/v1/orgs/acme/metrics/?metric=nps&start={today}&end={today}"
    read_api.get(metrics)
    found["metrics_api"] = capture(lambda: read_api.get(metrics))
    found["kpis_api"] = capture(lambda: read_api.get("/api/v1/orgs/acme/kpis/"))
    found["responses_api"] = capture(lambda: read_api.get("/api/v1/orgs/acme/responses/"))
    found["kiosk_sync"] = _kiosk_sync(org)
    return found


def _kiosk_sync(org) -> Path:
    kiosk_survey = make_survey(org, name="Exit", questions=smiley_questions())
    with tenant_scope(org):
        _, token = kiosk_device_create(
            actor=Actor.system(org), organization=org, name="Exit", survey=kiosk_survey
        )
    sync(token, [answer(3)])  # warm the survey's definition
    return capture(lambda: sync(token, [answer(4), answer(2)]))


def test_every_hot_path_was_captured(paths):
    assert set(paths) == set(CEILINGS)
    assert all(path.statements for path in paths.values())


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_no_hot_path_exceeds_its_statement_ceiling(paths, name):
    assert len(paths[name].statements) <= CEILINGS[name], "\n".join(paths[name].statements)


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_hot_path_statements_name_the_organization_of_every_tenant_table(paths, name):
    found = paths[name].unscoped()
    known = KNOWN_UNSCOPED.get(name, set())
    assert found - known == set(), f"{name}: tenant tables reached without organization_id"
    assert known - found == set(), f"{name}: fixed, drop from KNOWN_UNSCOPED"


def test_the_check_sees_a_statement_without_the_organization():
    unscoped = Path(
        ['SELECT "surveys_survey"."id" FROM "surveys_survey" WHERE "surveys_survey"."id" = 1']
    )
    scoped = Path(
        [
            'SELECT "surveys_survey"."id" FROM "surveys_survey" WHERE ("surveys_survey"."organization_id" = 1)'
        ]
    )
    assert unscoped.unscoped() == {"surveys_survey"}
    assert scoped.unscoped() == set()


def test_the_invitation_sweep_works_organization_by_organization(org, survey):
    make_link(survey)
    with tenant_scope(org):
        swept = capture(lambda: invitations.invitations_mark_opened(organization=org))
        caught_up = capture(lambda: invitations.answered_invitations_catch_up(organization=org))
    assert swept.statements and caught_up.statements
    assert swept.unscoped() == set() and caught_up.unscoped() == set()
