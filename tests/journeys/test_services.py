from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.exceptions import ApplicationError
from core.models import ActivityLog
from journeys import services
from journeys.enums import JourneyStatus, target_status
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from surveys.models import Survey
from surveys.services import response_submit
from tests.factories import UserFactory
from tests.journeys.factories import (
    JourneyFactory,
    MeasurementPlanFactory,
    StageFactory,
    TouchpointFactory,
)
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db


def positions(rows) -> list[tuple[str, int]]:
    return [(row.name, row.position) for row in rows]


def test_creating_a_journey_with_stages_and_touchpoints_is_audited(scoped, cx_actor, personas):
    journey = services.journey_create(
        actor=cx_actor, organization=scoped, name="B2B", segment="Key accounts"
    )
    stage = services.stage_create(actor=cx_actor, journey=journey, name="Purchase")
    touchpoint = services.touchpoint_create(
        actor=cx_actor, stage=stage, name="Sales call", channel="phone", owner=personas.analyst
    )
    services.measurement_plan_create(actor=cx_actor, touchpoint=touchpoint, metric="nps")
    assert journey.public_id.startswith("jny_") and stage.public_id.startswith("stg_")
    assert touchpoint.public_id.startswith("tp_") and touchpoint.journey == journey
    assert touchpoint.is_digital is False  # the phone channel decided
    actions = set(ActivityLog.objects.values_list("action", flat=True))
    assert actions == {
        "journeys.journey.created",
        "journeys.stage.created",
        "journeys.touchpoint.created",
        "journeys.measurement_plan.created",
    }
    assert ActivityLog.objects.filter(actor_user=personas.cx_manager).count() == 4


def test_new_stages_and_touchpoints_go_last(scoped, cx_actor, stages):
    stage = services.stage_create(actor=cx_actor, journey=stages[0].journey, name="Repurchase")
    first = services.touchpoint_create(actor=cx_actor, stage=stage, name="A")
    second = services.touchpoint_create(actor=cx_actor, stage=stage, name="B", channel="chat")
    assert stage.position == 3
    assert (first.position, second.position) == (0, 1)
    assert second.is_digital is True


def test_owner_must_be_a_member(scoped, cx_actor, stages, personas):
    stranger = UserFactory()
    with pytest.raises(ApplicationError) as refused:
        services.touchpoint_create(actor=cx_actor, stage=stages[0], name="X", owner=stranger)
    assert refused.value.extra == {"field": "owner"}
    with pytest.raises(ApplicationError):
        services.touchpoint_create(
            actor=cx_actor, stage=stages[0], name="X", owner=personas.outsider
        )


def test_stage_move_swaps_neighbours_and_keeps_positions_dense(scoped, cx_actor, stages):
    services.stage_move(actor=cx_actor, stage=stages[2], direction="up")
    services.stage_move(actor=cx_actor, stage=stages[0], direction="up")  # at the top: no change
    ordered = Stage.objects.filter(journey=stages[0].journey).order_by("position")
    assert positions(ordered) == [("Awareness", 0), ("Support", 1), ("Purchase", 2)]
    assert ActivityLog.objects.filter(action="journeys.stage.moved").count() == 1


def test_touchpoint_move_skips_archived_neighbours(scoped, cx_actor, stages):
    _a, b, c = (TouchpointFactory(stage=stages[0], name=n) for n in "abc")
    services.touchpoint_archive(actor=cx_actor, touchpoint=b)
    services.touchpoint_move(actor=cx_actor, touchpoint=c, direction="up")
    ordered = Touchpoint.objects.filter(stage=stages[0]).order_by("position")
    assert positions(ordered) == [("c", 0), ("b", 1), ("a", 2)]
    services.touchpoint_move(actor=cx_actor, touchpoint=c, direction="up")  # first already
    assert positions(Touchpoint.objects.filter(stage=stages[0]).order_by("position"))[0] == (
        "c",
        0,
    )


def test_invalid_direction_is_refused(scoped, cx_actor, stages):
    with pytest.raises(ApplicationError):
        services.stage_move(actor=cx_actor, stage=stages[0], direction="sideways")


def test_moving_a_touchpoint_to_another_stage_closes_the_gap(scoped, cx_actor, stages):
    a = TouchpointFactory(stage=stages[0], name="a")
    TouchpointFactory(stage=stages[0], name="b")
    TouchpointFactory(stage=stages[0], name="c")
    TouchpointFactory(stage=stages[1], name="d")
    services.touchpoint_update(actor=cx_actor, touchpoint=a, stage=stages[1])
    assert positions(Touchpoint.objects.filter(stage=stages[0]).order_by("position")) == [
        ("b", 0),
        ("c", 1),
    ]
    assert positions(Touchpoint.objects.filter(stage=stages[1]).order_by("position")) == [
        ("d", 0),
        ("a", 1),
    ]
    log = ActivityLog.objects.get(action="journeys.touchpoint.updated")
    assert log.data["changes"]["stage"] == [stages[0].public_id, stages[1].public_id]


def test_touchpoint_cannot_move_to_a_stage_of_another_journey(scoped, cx_actor, touchpoint, org):
    other_stage = StageFactory(journey=JourneyFactory(organization=org))
    with pytest.raises(ApplicationError) as refused:
        services.touchpoint_update(actor=cx_actor, touchpoint=touchpoint, stage=other_stage)
    assert refused.value.extra == {"field": "stage"}


def test_deleting_a_stage_renumbers_the_rest(scoped, cx_actor, stages, touchpoint):
    services.stage_delete(actor=cx_actor, stage=stages[1])
    assert positions(Stage.objects.order_by("position")) == [("Awareness", 0), ("Support", 1)]
    assert not Touchpoint.objects.exists() and not MeasurementPlan.objects.exists()


def test_deleting_a_touchpoint_without_feedback_works_and_is_audited(
    scoped, cx_actor, stages, touchpoint
):
    later = TouchpointFactory(stage=stages[1], name="later")
    services.touchpoint_delete(actor=cx_actor, touchpoint=touchpoint)
    later.refresh_from_db()
    assert later.position == 0
    log = ActivityLog.objects.get(action="journeys.touchpoint.deleted")
    assert log.object_id == touchpoint.public_id


def test_deleting_a_touchpoint_with_responses_is_refused(scoped, cx_actor, touchpoint):
    survey = make_survey(scoped)  # not attached: only the response points at the touchpoint
    response_submit(
        organization=scoped,
        survey=survey,
        answers={"score": 9},
        channel="web",
        language="fi",
        touchpoint=touchpoint,
    )
    with pytest.raises(ApplicationError) as refused:
        services.touchpoint_delete(actor=cx_actor, touchpoint=touchpoint)
    assert refused.value.code == "touchpoint_has_responses"
    assert "Archive" in refused.value.message
    assert Touchpoint.objects.filter(pk=touchpoint.pk).exists()


def test_deleting_a_touchpoint_a_survey_points_at_is_refused(scoped, cx_actor, touchpoint):
    """Any PROTECT relation refuses the delete; surveys.Survey.touchpoint is one."""
    Survey.all_objects.create(organization=scoped, name="Checkout", touchpoint=touchpoint)
    for delete in (
        lambda: services.touchpoint_delete(actor=cx_actor, touchpoint=touchpoint),
        lambda: services.stage_delete(actor=cx_actor, stage=touchpoint.stage),
        lambda: services.journey_delete(actor=cx_actor, journey=touchpoint.journey),
    ):
        with pytest.raises(ApplicationError) as refused:
            delete()
        assert refused.value.code == "touchpoint_in_use"
        assert "Archive it instead" in refused.value.message
    assert Touchpoint.objects.filter(pk=touchpoint.pk).exists()
    assert not ActivityLog.objects.filter(action__endswith="deleted").exists()


def test_archive_and_restore_are_idempotent_and_audited(scoped, cx_actor, journey, touchpoint):
    services.journey_archive(actor=cx_actor, journey=journey)
    services.journey_archive(actor=cx_actor, journey=journey)
    services.touchpoint_archive(actor=cx_actor, touchpoint=touchpoint)
    services.touchpoint_archive(actor=cx_actor, touchpoint=touchpoint)
    assert journey.status == JourneyStatus.ARCHIVED and touchpoint.is_archived
    services.journey_restore(actor=cx_actor, journey=journey)
    services.touchpoint_restore(actor=cx_actor, touchpoint=touchpoint)
    actions = list(ActivityLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "journeys.journey.archived",
        "journeys.touchpoint.archived",
        "journeys.journey.restored",
        "journeys.touchpoint.restored",
    ]


def test_update_records_only_real_changes(scoped, cx_actor, journey):
    services.journey_update(actor=cx_actor, journey=journey, name=journey.name)
    assert not ActivityLog.objects.exists()
    services.journey_update(actor=cx_actor, journey=journey, segment="B2B key accounts")
    log = ActivityLog.objects.get()
    assert log.data == {"changes": {"segment": ["B2C web shop", "B2B key accounts"]}}


def test_copy_takes_stages_touchpoints_and_plans_in_constant_queries(
    scoped, cx_actor, journey, stages, personas
):
    def fill(count: int) -> None:
        for i in range(count):
            tp = TouchpointFactory(
                stage=stages[i % 3], owner=personas.analyst, external_ref=f"ref-{i}"
            )
            MeasurementPlanFactory(touchpoint=tp, metric="csat", baseline_value="70")

    fill(2)
    with CaptureQueriesContext(connection) as small:
        services.journey_copy(actor=cx_actor, journey=journey, name="Copy 1")
    fill(10)
    with CaptureQueriesContext(connection) as big:
        copy = services.journey_copy(actor=cx_actor, journey=journey, name="Copy 2", segment="B2B")
    assert len(big) == len(small)
    assert copy.segment == "B2B" and copy.status == JourneyStatus.ACTIVE
    copied = Touchpoint.objects.filter(journey=copy)
    assert copied.count() == 12
    assert {t.stage.journey_id for t in copied} == {copy.pk}
    assert {t.owner_id for t in copied} == {personas.analyst.pk}
    assert {t.external_ref for t in copied} == {""}
    assert MeasurementPlan.objects.filter(touchpoint__journey=copy).count() == 12
    assert positions(Stage.objects.filter(journey=copy).order_by("position")) == [
        ("Awareness", 0),
        ("Purchase", 1),
        ("Support", 2),
    ]
    assert sorted(Touchpoint.objects.filter(stage__journey=copy, stage__position=0).values_list(
        "position", flat=True
    )) == [0, 1, 2, 3, 4]  # fmt: skip
    assert ActivityLog.objects.filter(action="journeys.journey.copied").count() == 2


def test_copy_leaves_archived_touchpoints_behind(scoped, cx_actor, journey, touchpoint):
    services.touchpoint_archive(actor=cx_actor, touchpoint=touchpoint)
    copy = services.journey_copy(actor=cx_actor, journey=journey, name="Copy")
    assert not Touchpoint.objects.filter(journey=copy).exists()
    assert Journey.objects.count() == 2


def test_measurement_plan_checks_scale_duplicates_and_dates(scoped, cx_actor, touchpoint):
    with pytest.raises(ApplicationError) as duplicate:
        services.measurement_plan_create(actor=cx_actor, touchpoint=touchpoint, metric="ces")
    assert duplicate.value.extra == {"field": "metric"}
    with pytest.raises(ApplicationError) as out_of_scale:
        services.measurement_plan_create(
            actor=cx_actor, touchpoint=touchpoint, metric="nps", target_value=Decimal("120")
        )
    assert out_of_scale.value.extra == {"field": "target_value"}
    plan = services.measurement_plan_create(
        actor=cx_actor,
        touchpoint=touchpoint,
        metric="nps",
        baseline_value=Decimal("-12"),
        target_value=Decimal("20"),
    )
    with pytest.raises(ApplicationError):
        services.measurement_plan_update(actor=cx_actor, plan=plan, metric="ces")
    services.measurement_plan_update(actor=cx_actor, plan=plan, target_value=Decimal("25"))
    plan.refresh_from_db()
    assert plan.target_value == Decimal("25")


def test_target_status_knows_lower_is_better_for_legacy_ces():
    assert target_status(metric="nps", value=30, target=Decimal(25)) == "on_target"
    assert target_status(metric="nps", value=20, target=Decimal(25)) == "below"
    assert target_status(metric="ces_legacy", value=2.1, target=Decimal("2.5")) == "on_target"
    assert target_status(metric="csat", value=None, target=Decimal(80)) == "no_data"
    assert target_status(metric="csat", value=81, target=None) == "no_target"
