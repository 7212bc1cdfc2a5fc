import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.models import ActivityLog
from journeys import selectors
from journeys.demo import load_demo_journeys
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from tenancy.actors import Actor
from tests.journeys.factories import MeasurementPlanFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_access_answers_404_for_another_organizations_objects(scoped, foreign_touchpoint):
    for access, obj in (
        (selectors.access_journey, foreign_touchpoint.journey),
        (selectors.access_stage, foreign_touchpoint.stage),
        (selectors.access_touchpoint, foreign_touchpoint),
    ):
        with pytest.raises(Http404):
            access(organization=scoped, public_id=obj.public_id)
    with pytest.raises(Http404):
        selectors.access_journey(organization=scoped, public_id="jny_missing")


def test_journey_map_loads_in_constant_queries_in_order(scoped, journey, stages, personas):
    def add(count):
        for i in range(count):
            tp = TouchpointFactory(stage=stages[i % 3], name=f"tp{i}", owner=personas.analyst)
            MeasurementPlanFactory(touchpoint=tp, metric="nps")

    add(3)
    with CaptureQueriesContext(connection) as small:
        selectors.journey_map(organization=scoped, journey=journey)
    add(27)
    with CaptureQueriesContext(connection) as big:
        stage_rows = selectors.journey_map(organization=scoped, journey=journey)
        owners = {t.owner.email for s in stage_rows for t in s.map_touchpoints}
        plans = selectors.journey_map_plans(stage_rows)
    assert len(big) == len(small) == 4
    assert owners == {personas.analyst.email} and len(plans) == 30
    assert [s.name for s in stage_rows] == ["Awareness", "Purchase", "Support"]
    positions = [t.position for t in stage_rows[0].map_touchpoints]
    assert positions == sorted(positions)


def test_journey_list_counts_stages_and_active_touchpoints(scoped, journey, stages, touchpoint):
    TouchpointFactory(stage=stages[0], archived_at="2026-01-01T00:00Z")
    row = selectors.journey_list(organization=scoped).get()
    assert (row.stage_count, row.touchpoint_count) == (3, 1)


def test_owner_lookup_finds_members_by_email_or_id_only(scoped, personas):
    assert selectors.owner_lookup(organization=scoped, reference=personas.viewer.email.upper())
    assert selectors.owner_lookup(organization=scoped, reference=personas.viewer.public_id)
    assert selectors.owner_lookup(organization=scoped, reference=personas.outsider.email) is None


def test_demo_journeys_are_realistic_and_loaded_once(org, personas):
    actor = Actor.system(org)
    owners = {"owner": personas.owner, "cx": personas.cx_manager, "analyst": personas.analyst}
    created = load_demo_journeys(organization=org, actor=actor, owners=owners)
    assert [j.name for j in created] == ["B2C web shop", "Store visit"]
    assert load_demo_journeys(organization=org, actor=actor, owners=owners) == []
    assert Journey.all_objects.count() == 2
    web = created[0]
    stage_names = Stage.all_objects.filter(journey=web).order_by("position")
    assert list(stage_names.values_list("name", flat=True)) == [
        "Awareness", "Consideration", "Purchase", "Delivery", "Use", "Support", "Repurchase",
    ]  # fmt: skip
    checkout = Touchpoint.all_objects.get(name="Web shop checkout")
    assert checkout.is_key and checkout.owner == personas.cx_manager
    metrics = set(MeasurementPlan.all_objects.values_list("metric", flat=True))
    assert {"nps", "csat", "ces"} <= metrics
    assert not MeasurementPlan.all_objects.filter(target_value=None).exists()
    assert ActivityLog.all_objects.filter(actor_label="system").count() > 50
