"""The handle directory (`core.models.Handle`): values looked up before the organization is
known resolve here to (organization, row id); the row is then read within its organization.

Write a handle in the same transaction as its row, so the two appear and go together."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

from core.models import Handle, HandleKind

__all__ = ["HandleKind", "Resolved", "claim", "claim_many", "release", "replace", "resolve"]


@dataclass(frozen=True)
class Resolved:
    organization_id: int
    object_id: int


def resolve(kind: HandleKind, value: str) -> Resolved | None:
    if not value or len(value) > Handle._meta.get_field("value").max_length:
        return None
    found = (
        Handle.objects.filter(kind=kind, value=value)
        .values_list("organization_id", "object_id")
        .first()
    )
    return Resolved(*found) if found else None


def claim(kind: HandleKind, value: str, row: models.Model) -> None:
    """Record that `value` names `row`; an IntegrityError when another row holds it."""
    Handle.naming(kind, value, row).save(force_insert=True)


def claim_many(
    kind: HandleKind, rows: Iterable[models.Model], attribute: str, *, ignore_conflicts=False
) -> None:
    """Claim the handles of rows made in bulk. With `ignore_conflicts` a value another row
    holds already stays with it (provider message ids, which are the provider's to repeat)."""
    Handle.objects.bulk_create(
        ignore_conflicts=ignore_conflicts,
        objs=[Handle.naming(kind, getattr(row, attribute), row) for row in rows],
    )


def release(kind: HandleKind, row: models.Model) -> None:
    """Forget every handle of this kind that names `row`."""
    Handle.objects.filter(organization_id=row.organization_id, kind=kind, object_id=row.pk).delete()


def replace(kind: HandleKind, row: models.Model, value: str) -> None:
    """Point `row` at a new handle of this kind instead of its old one(s)."""
    release(kind, row)
    claim(kind, value, row)
