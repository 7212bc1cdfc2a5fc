from typing import Any, Protocol

from core.models import ActivityLog


class Actor(Protocol):
    """Whoever acts: a signed-in member or an API key (see tenancy.actors)."""

    user: Any
    label: str


def activity_record(
    *, organization, actor: Actor | None, action: str, target=None, data: dict | None = None
) -> ActivityLog:
    """Append one audit row. Call inside the service's transaction so it commits with the change."""
    return ActivityLog.objects.create(
        organization=organization,
        actor_user=getattr(actor, "user", None),
        actor_label=actor.label if actor else "system",
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=getattr(target, "public_id", "") if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        data=data or {},
    )
