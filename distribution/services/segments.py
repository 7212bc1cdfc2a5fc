"""Every write to segments: saved filters over contacts."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from distribution.models import Segment
from distribution.rules import clean_rules
from tenancy.actors import Actor


@transaction.atomic
def segment_create(
    *, actor: Actor, organization, name: str, description: str = "", rules: list | None = None
) -> Segment:
    """Save a named filter; raises ApplicationError(field="rules") for rules outside the vocabulary."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            _("Give the segment a name."), code="required", extra={"field": "name"}
        )
    segment = Segment.objects.create(
        organization=organization,
        name=name[:200],
        description=(description or "").strip()[:500],
        rules=clean_rules(rules),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.segment.created",
        target=segment,
        data={"rules": segment.rules},
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    actor: Actor,
    organization,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    rules: list | None = None,
) -> Segment:
    if name is not None:
        if not name.strip():
            raise ApplicationError(
                _("Give the segment a name."), code="required", extra={"field": "name"}
            )
        segment.name = name.strip()[:200]
    if description is not None:
        segment.description = description.strip()[:500]
    if rules is not None:
        segment.rules = clean_rules(rules)
    segment.save()
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.segment.updated",
        target=segment,
        data={"rules": segment.rules},
    )
    return segment


@transaction.atomic
def segment_delete(*, actor: Actor, organization, segment: Segment) -> None:
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.segment.deleted",
        target=segment,
    )
    segment.delete()
