"""Writes of stages: create, rename, move, delete (positions stay dense)."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from journeys.models import Journey, Stage, Touchpoint
from journeys.services._common import (
    _changed,
    _delete,
    _refuse_if_touchpoints_have_dependents,
    _renumber,
    _swap_with_neighbour,
)
from tenancy.actors import Actor


@transaction.atomic
def stage_create(*, actor: Actor, journey: Journey, name: str, description: str = "") -> Stage:
    """Add a stage at the end of the journey."""
    # Lock the journey so two stages added at once don't take the same position.
    Journey.objects.select_for_update().filter(
        organization_id=journey.organization_id, pk=journey.pk
    ).first()
    last = Stage.objects.filter(journey=journey).aggregate(last=Max("position"))["last"]
    stage = Stage.objects.create(
        organization=journey.organization,
        journey=journey,
        name=name,
        description=description,
        position=0 if last is None else last + 1,
    )
    activity_record(
        organization=journey.organization,
        actor=actor,
        action="journeys.stage.created",
        target=stage,
        data={"journey": journey.public_id},
    )
    return stage


@transaction.atomic
def stage_update(*, actor: Actor, stage: Stage, **changes: Any) -> Stage:
    unknown = set(changes) - {"name", "description"}
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here."), code="invalid_field")
    diff = _changed(stage, changes)
    if diff:
        stage.save()
        activity_record(
            organization=stage.organization,
            actor=actor,
            action="journeys.stage.updated",
            target=stage,
            data={"changes": diff},
        )
    return stage


@transaction.atomic
def stage_move(*, actor: Actor, stage: Stage, direction: str) -> Stage:
    """Swap the stage with its neighbour; at either end nothing changes. Positions stay dense."""
    stages = list(
        Stage.objects.select_for_update()
        .filter(organization_id=stage.organization_id, journey_id=stage.journey_id)
        .order_by("position", "id")
    )
    if _swap_with_neighbour(stages, stage, direction):
        _renumber(Stage, stages)
        stage.position = next(s.position for s in stages if s.pk == stage.pk)
        activity_record(
            organization=stage.organization,
            actor=actor,
            action="journeys.stage.moved",
            target=stage,
            data={"direction": direction, "position": stage.position},
        )
    return stage


@transaction.atomic
def stage_delete(*, actor: Actor, stage: Stage) -> None:
    """Delete the stage and its touchpoints; the later stages close the gap.

    Raises ConflictError (`touchpoint_has_responses` / `touchpoint_in_use`) when one of its
    touchpoints has responses or surveys.
    """
    _refuse_if_touchpoints_have_dependents(Touchpoint.objects.filter(stage=stage))
    siblings = list(
        Stage.objects.select_for_update()
        .filter(organization_id=stage.organization_id, journey_id=stage.journey_id)
        .order_by("position", "id")
    )
    activity_record(
        organization=stage.organization,
        actor=actor,
        action="journeys.stage.deleted",
        target=stage,
        data={"journey": stage.journey.public_id},
    )
    deleted_pk = stage.pk  # delete() sets pk to None
    _delete(stage)
    _renumber(Stage, [s for s in siblings if s.pk != deleted_pk])
