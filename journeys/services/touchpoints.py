"""Writes of touchpoints: create, update, move, archive, restore, delete."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from journeys.enums import (
    DIGITAL_CHANNELS,
    Channel,
)
from journeys.models import Stage, Touchpoint
from journeys.services._common import (
    _changed,
    _check_owner,
    _delete,
    _refuse_if_touchpoints_have_dependents,
    _renumber,
    _swap_with_neighbour,
)
from tenancy.actors import Actor


def _next_touchpoint_position(stage: Stage) -> int:
    last = Touchpoint.objects.filter(stage=stage).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@transaction.atomic
def touchpoint_create(
    *,
    actor: Actor,
    stage: Stage,
    name: str,
    description: str = "",
    channel: str = Channel.OTHER,
    is_digital: bool | None = None,
    is_key: bool = False,
    owner=None,
    external_ref: str = "",
) -> Touchpoint:
    """Add a touchpoint at the end of the stage. `is_digital=None` lets the channel decide.

    Raises ApplicationError (field `owner`) when the owner is not a member.
    """
    organization = stage.organization
    _check_owner(organization, owner)
    if channel not in Channel.values:
        raise ApplicationError(
            _("Unknown channel."), code="invalid_channel", extra={"field": "channel"}
        )
    Stage.objects.select_for_update().filter(pk=stage.pk).first()
    touchpoint = Touchpoint.objects.create(
        organization=organization,
        journey_id=stage.journey_id,
        stage=stage,
        name=name,
        description=description,
        channel=channel,
        is_digital=channel in DIGITAL_CHANNELS if is_digital is None else is_digital,
        is_key=is_key,
        owner=owner,
        external_ref=external_ref.strip(),
        position=_next_touchpoint_position(stage),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="journeys.touchpoint.created",
        target=touchpoint,
        data={"stage": stage.public_id, "journey": stage.journey.public_id},
    )
    return touchpoint


@transaction.atomic
def touchpoint_update(*, actor: Actor, touchpoint: Touchpoint, **changes: Any) -> Touchpoint:
    """Change fields; a new `stage` (of the same journey) puts the touchpoint at its end.

    Raises ApplicationError for an owner who is not a member or a stage of another journey.
    """
    allowed = {
        "name", "description", "channel", "is_digital", "is_key", "owner", "external_ref", "stage",
    }  # fmt: skip
    if set(changes) - allowed:
        raise ApplicationError(_("These fields cannot be changed here."), code="invalid_field")
    organization = touchpoint.organization
    if "owner" in changes:
        _check_owner(organization, changes["owner"])
    if "channel" in changes and changes["channel"] not in Channel.values:
        raise ApplicationError(
            _("Unknown channel."), code="invalid_channel", extra={"field": "channel"}
        )
    if "external_ref" in changes:
        changes["external_ref"] = (changes["external_ref"] or "").strip()
    new_stage = changes.pop("stage", None)
    old_stage_id = touchpoint.stage_id
    if new_stage is not None and new_stage.pk != old_stage_id:
        if new_stage.journey_id != touchpoint.journey_id:
            raise ApplicationError(
                _("A touchpoint moves only between stages of its own journey."),
                code="other_journey",
                extra={"field": "stage"},
            )
        Stage.objects.select_for_update().filter(
            organization_id=new_stage.organization_id, pk__in=[old_stage_id, new_stage.pk]
        ).count()
        changes["stage"] = new_stage
        changes["position"] = _next_touchpoint_position(new_stage)
    diff = _changed(touchpoint, changes)
    if diff:
        touchpoint.save()
        if "stage" in diff:
            _renumber(
                Touchpoint,
                list(Touchpoint.objects.filter(stage_id=old_stage_id).order_by("position", "id")),
            )
        diff.pop("position", None)
        activity_record(
            organization=organization,
            actor=actor,
            action="journeys.touchpoint.updated",
            target=touchpoint,
            data={"changes": diff},
        )
    return touchpoint


@transaction.atomic
def touchpoint_move(*, actor: Actor, touchpoint: Touchpoint, direction: str) -> Touchpoint:
    """Swap with the nearest active touchpoint above or below in the stage (archived ones keep
    their places out of sight). At either end nothing changes; positions stay dense."""
    rows = list(
        Touchpoint.objects.select_for_update()
        .filter(organization_id=touchpoint.organization_id, stage_id=touchpoint.stage_id)
        .order_by("position", "id")
    )
    _renumber(Touchpoint, rows)
    active = [row for row in rows if row.archived_at is None or row.pk == touchpoint.pk]
    before = [row.pk for row in active]
    if _swap_with_neighbour(active, touchpoint, direction):
        # Put the two swapped rows into each other's slots of the full list.
        slots = [i for i, row in enumerate(rows) if row.pk in before]
        for slot, row in zip(slots, active, strict=True):
            rows[slot] = row
        _renumber(Touchpoint, rows)
        touchpoint.position = next(r.position for r in rows if r.pk == touchpoint.pk)
        activity_record(
            organization=touchpoint.organization,
            actor=actor,
            action="journeys.touchpoint.moved",
            target=touchpoint,
            data={"direction": direction, "position": touchpoint.position},
        )
    return touchpoint


@transaction.atomic
def touchpoint_archive(*, actor: Actor, touchpoint: Touchpoint) -> Touchpoint:
    """Take the touchpoint off the map, keeping its history; archiving twice changes nothing."""
    if touchpoint.archived_at is None:
        touchpoint.archived_at = timezone.now()
        touchpoint.save(update_fields=["archived_at", "updated_at"])
        activity_record(
            organization=touchpoint.organization,
            actor=actor,
            action="journeys.touchpoint.archived",
            target=touchpoint,
        )
    return touchpoint


@transaction.atomic
def touchpoint_restore(*, actor: Actor, touchpoint: Touchpoint) -> Touchpoint:
    if touchpoint.archived_at is not None:
        touchpoint.archived_at = None
        touchpoint.save(update_fields=["archived_at", "updated_at"])
        activity_record(
            organization=touchpoint.organization,
            actor=actor,
            action="journeys.touchpoint.restored",
            target=touchpoint,
        )
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, actor: Actor, touchpoint: Touchpoint) -> None:
    """Delete the touchpoint and its plans; the stage's later touchpoints close the gap.

    Raises ConflictError `touchpoint_has_responses` when responses point at it, or
    `touchpoint_in_use` for any other foreign key with on_delete=PROTECT (a survey placed there):
    archive it instead.
    """
    _refuse_if_touchpoints_have_dependents([touchpoint.pk])
    siblings = list(
        Touchpoint.objects.select_for_update()
        .filter(organization_id=touchpoint.organization_id, stage_id=touchpoint.stage_id)
        .order_by("position", "id")
    )
    activity_record(
        organization=touchpoint.organization,
        actor=actor,
        action="journeys.touchpoint.deleted",
        target=touchpoint,
        data={"stage": touchpoint.stage.public_id, "journey": touchpoint.journey.public_id},
    )
    deleted_pk = touchpoint.pk  # delete() sets pk to None
    _delete(touchpoint)
    _renumber(Touchpoint, [row for row in siblings if row.pk != deleted_pk])
