from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Membership, Organization
from tenancy.scoping import tenant_scope


@transaction.atomic
def organization_create(
    *,
    name: str,
    slug: str,
    owner,
    time_zone: str = "Europe/Helsinki",
    default_language: str = "fi",
) -> Organization:
    """Create an organization with `owner` as its first owner. Raises ApplicationError on a taken slug."""
    if Organization.objects.filter(slug=slug).exists():
        raise ApplicationError(
            _("That address is taken."), code="slug_taken", extra={"field": "slug"}
        )
    organization = Organization(
        name=name, slug=slug, time_zone=time_zone, default_language=default_language
    )
    organization.full_clean()
    organization.save()
    with tenant_scope(organization):
        membership = Membership.objects.create(
            organization=organization, user=owner, role=Role.OWNER
        )
        activity_record(
            organization=organization,
            actor=Actor.for_membership(membership),
            action="tenancy.organization.created",
            target=organization,
        )
    return organization


@transaction.atomic
def organization_update(*, actor: Actor, organization: Organization, **fields) -> Organization:
    for name, value in fields.items():
        setattr(organization, name, value)
    organization.full_clean()
    organization.save()
    activity_record(
        organization=organization,
        actor=actor,
        action="tenancy.organization.updated",
        target=organization,
        data={"fields": sorted(fields)},
    )
    return organization


def _owners_left_after(membership: Membership, new_role: str | None) -> int:
    owners = Membership.objects.filter(organization=membership.organization, role=Role.OWNER)
    remaining = owners.exclude(pk=membership.pk).count()
    return remaining + (1 if new_role == Role.OWNER else 0)


def _check_may_touch(actor: Actor, membership: Membership, new_role: str | None) -> None:
    touches_owner = membership.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and actor.role != Role.OWNER:
        raise ApplicationError(
            _("Only an owner can change an owner's role or make an owner."), code="owner_only"
        )
    if membership.role == Role.OWNER and _owners_left_after(membership, new_role) == 0:
        raise ApplicationError(_("An organization needs at least one owner."), code="last_owner")


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    """Change a member's role. Raises ApplicationError when it would leave no owner."""
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."), code="invalid_role", extra={"field": "role"})
    membership = Membership.objects.select_for_update().get(
        organization_id=membership.organization_id, pk=membership.pk
    )
    _check_may_touch(actor, membership, role)
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role", "updated_at"])
    activity_record(
        organization=membership.organization,
        actor=actor,
        action="tenancy.membership.role_changed",
        target=membership,
        data={"from": previous, "to": role, "user": membership.user.email},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    membership = Membership.objects.select_for_update().get(
        organization_id=membership.organization_id, pk=membership.pk
    )
    _check_may_touch(actor, membership, None)
    activity_record(
        organization=membership.organization,
        actor=actor,
        action="tenancy.membership.removed",
        target=membership,
        data={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def membership_add(*, actor: Actor, organization: Organization, user, role: str) -> Membership:
    """Add a user to the organization, or change nothing when they are a member already."""
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    if created:
        activity_record(
            organization=organization,
            actor=actor,
            action="tenancy.membership.added",
            target=membership,
            data={"user": user.email, "role": role},
        )
    return membership
