"""Writes of journeys: create, update, archive and restore, delete, copy."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from journeys.enums import (
    JourneyStatus,
)
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from journeys.services._common import (
    _changed,
    _delete,
    _refuse_if_touchpoints_have_dependents,
)
from tenancy.actors import Actor
from tenancy.models import Membership, Organization


@transaction.atomic
def journey_create(
    *, actor: Actor, organization: Organization, name: str, description: str = "", segment: str = ""
) -> Journey:
    journey = Journey.objects.create(
        organization=organization, name=name, description=description, segment=segment
    )
    activity_record(
        organization=organization, actor=actor, action="journeys.journey.created", target=journey
    )
    return journey


@transaction.atomic
def journey_update(*, actor: Actor, journey: Journey, **changes: Any) -> Journey:
    """Change name, description or segment; records the changed fields."""
    unknown = set(changes) - {"name", "description", "segment"}
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here."), code="invalid_field")
    diff = _changed(journey, changes)
    if diff:
        journey.save()
        activity_record(
            organization=journey.organization,
            actor=actor,
            action="journeys.journey.updated",
            target=journey,
            data={"changes": diff},
        )
    return journey


@transaction.atomic
def journey_set_status(*, actor: Actor, journey: Journey, status: str) -> Journey:
    """Archive or restore a journey. Archiving keeps everything; doing it twice changes nothing."""
    if status not in JourneyStatus.values:
        raise ApplicationError(
            _("Unknown status."), code="invalid_status", extra={"field": "status"}
        )
    if journey.status != status:
        journey.status = status
        journey.save(update_fields=["status", "updated_at"])
        verb = "archived" if status == JourneyStatus.ARCHIVED else "restored"
        activity_record(
            organization=journey.organization,
            actor=actor,
            action=f"journeys.journey.{verb}",
            target=journey,
        )
    return journey


def journey_archive(*, actor: Actor, journey: Journey) -> Journey:
    return journey_set_status(actor=actor, journey=journey, status=JourneyStatus.ARCHIVED)


def journey_restore(*, actor: Actor, journey: Journey) -> Journey:
    return journey_set_status(actor=actor, journey=journey, status=JourneyStatus.ACTIVE)


@transaction.atomic
def journey_delete(*, actor: Actor, journey: Journey) -> None:
    """Delete the journey with its stages, touchpoints and plans.

    Raises ConflictError (`touchpoint_has_responses` / `touchpoint_in_use`) when a touchpoint
    has responses or surveys.
    """
    _refuse_if_touchpoints_have_dependents(Touchpoint.objects.filter(journey=journey))
    activity_record(
        organization=journey.organization,
        actor=actor,
        action="journeys.journey.deleted",
        target=journey,
    )
    _delete(journey)


@transaction.atomic
def journey_copy(*, actor: Actor, journey: Journey, name: str, segment: str = "") -> Journey:
    """A new active journey with copies of the stages, active touchpoints and their plans.

    Owners are kept while they are still members. External references are not copied: they
    attribute incoming feedback, and two touchpoints with one reference would split it.
    Constant number of queries (bulk inserts), whatever the journey's size.
    """
    organization = journey.organization
    stages = list(Stage.objects.filter(journey=journey).order_by("position", "id"))
    touchpoints = list(
        Touchpoint.objects.filter(journey=journey, archived_at=None).order_by("position", "id")
    )
    plans = list(MeasurementPlan.objects.filter(touchpoint__in=touchpoints))
    member_ids = set(
        Membership.objects.filter(organization=organization).values_list("user_id", flat=True)
    )

    copy = Journey.objects.create(
        organization=organization, name=name, segment=segment, description=journey.description
    )
    new_stages = Stage.objects.bulk_create(
        [
            Stage(
                organization=organization,
                journey=copy,
                name=stage.name,
                description=stage.description,
                position=position,
            )
            for position, stage in enumerate(stages)
        ]
    )
    stage_map = {old.pk: new for old, new in zip(stages, new_stages, strict=True)}
    per_stage: dict[int, int] = {}
    copies = []
    for touchpoint in touchpoints:
        position = per_stage.get(touchpoint.stage_id, 0)
        per_stage[touchpoint.stage_id] = position + 1
        copies.append(
            Touchpoint(
                organization=organization,
                journey=copy,
                stage=stage_map[touchpoint.stage_id],
                name=touchpoint.name,
                description=touchpoint.description,
                channel=touchpoint.channel,
                is_digital=touchpoint.is_digital,
                is_key=touchpoint.is_key,
                owner_id=touchpoint.owner_id if touchpoint.owner_id in member_ids else None,
                position=position,
            )
        )
    new_touchpoints = Touchpoint.objects.bulk_create(copies)
    touchpoint_map = {old.pk: new for old, new in zip(touchpoints, new_touchpoints, strict=True)}
    MeasurementPlan.objects.bulk_create(
        [
            MeasurementPlan(
                organization=organization,
                touchpoint=touchpoint_map[plan.touchpoint_id],
                metric=plan.metric,
                kpi_kind=plan.kpi_kind,
                baseline_value=plan.baseline_value,
                baseline_date=plan.baseline_date,
                target_value=plan.target_value,
                target_date=plan.target_date,
            )
            for plan in plans
        ]
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="journeys.journey.copied",
        target=copy,
        data={
            "source": journey.public_id,
            "stages": len(new_stages),
            "touchpoints": len(new_touchpoints),
            "measurement_plans": len(plans),
        },
    )
    return copy
