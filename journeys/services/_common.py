"""Helpers the services share: change diffs, ordering, refusals of deletes."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ConflictError
from journeys.enums import Direction
from journeys.models import Touchpoint
from metrics import registry
from tenancy.models import Membership, Organization


def _changed(instance: models.Model, changes: dict[str, Any]) -> dict[str, list]:
    """Apply `changes`, returning {field: [old, new]} for the audit log (only real changes)."""
    diff = {}
    for field, value in changes.items():
        old = getattr(instance, field)
        if old != value:
            setattr(instance, field, value)
            diff[field] = [_plain(old), _plain(value)]
    return diff


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return getattr(value, "public_id", str(value.pk))
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def _protected_dependents(model: type[models.Model], objects) -> list[type[models.Model]]:
    """The models whose rows point at `objects` with PROTECT or RESTRICT.

    Generic on purpose: apps above journeys (surveys and their responses, later cases) add such
    foreign keys, and journeys must refuse the delete without importing them.
    """
    found = []
    for relation in model._meta.related_objects:
        if relation.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        manager = relation.related_model._base_manager
        if manager.filter(**{f"{relation.field.name}__in": objects}).exists():
            found.append(relation.related_model)
    return found


# Feedback itself gets its own code; anything else pointing at a touchpoint (a survey placed
# there, a personal link) is "in use". Compared by label: journeys may not import surveys.
RESPONSE_MODEL = "surveys.response"


def _in_use_error(dependents: list[type[models.Model]]) -> ConflictError:
    names = ", ".join(sorted({str(m._meta.verbose_name_plural) for m in dependents}))
    if any(m._meta.label_lower == RESPONSE_MODEL for m in dependents):
        return ConflictError(
            _(
                "This touchpoint has collected responses, which must stay attributed to it, so "
                "it cannot be deleted. Archive it instead: it leaves the journey map, its "
                "feedback and history stay, and you can restore it later."
            ),
            code="touchpoint_has_responses",
            extra={"dependents": names},
        )
    return ConflictError(
        _(
            "Other records point at this touchpoint (%(what)s), so it cannot be deleted. "
            "Archive it instead, or move those records to another touchpoint first."
        )
        % {"what": names},
        code="touchpoint_in_use",
        extra={"dependents": names},
    )


def _refuse_if_touchpoints_have_dependents(touchpoints) -> None:
    dependents = _protected_dependents(Touchpoint, touchpoints)
    if dependents:
        raise _in_use_error(dependents)


def _delete(instance: models.Model) -> None:
    # The pre-check gives the clear message; this catches a row added in between, or a
    # protected relation further down the cascade (e.g. to a measurement plan).
    try:
        instance.delete()
    except (models.ProtectedError, models.RestrictedError) as error:
        objects = (
            error.protected_objects
            if isinstance(error, models.ProtectedError)
            else (error.restricted_objects)
        )
        raise _in_use_error(list({type(o) for o in objects})) from error


def _check_owner(organization: Organization, owner) -> None:
    if owner is None:
        return
    if not Membership.objects.filter(organization=organization, user=owner).exists():
        raise ApplicationError(
            _("The owner must be a member of the organization."),
            code="owner_not_member",
            extra={"field": "owner"},
        )


def _check_value(metric: str, value: Decimal | None, field: str) -> None:
    definition = registry.get(metric)
    if value is not None and definition is not None and not definition.in_scale(value):
        raise ApplicationError(
            _("%(metric)s is between %(low)s and %(high)s.")
            % {
                "metric": definition.label,
                "low": definition.scale_min,
                "high": definition.scale_max,
            },
            code="out_of_scale",
            extra={"field": field},
        )


def _swap_with_neighbour(rows: list, row, direction: str) -> bool:
    """Swap `row`'s position with the next row in `direction`; False when it is at the end."""
    if direction not in Direction.values:
        raise ApplicationError(_("Choose up or down."), code="invalid_direction")
    index = next(i for i, r in enumerate(rows) if r.pk == row.pk)
    other = index - 1 if direction == Direction.UP else index + 1
    if other < 0 or other >= len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    return True


def _renumber(model: type[models.Model], rows: list) -> None:
    """Write dense positions 0..n-1 in list order, updating only rows that moved."""
    moved = []
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            moved.append(row)
    if moved:
        model.objects.bulk_update(moved, ["position"])
