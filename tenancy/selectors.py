from django.db.models import QuerySet
from django.http import Http404

from core.models import ActivityLog
from tenancy.models import Membership, Organization


def organization_for_slug(slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()


def membership_for_user(*, user, organization_slug: str) -> Membership | None:
    """The user's membership in the organization with this slug, or None (looked up across tenants)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.all_objects.select_related("organization", "user")
        .filter(user=user, organization__slug=organization_slug)
        .first()
    )


def memberships_of_user(user) -> list[Membership]:
    """Every organization the user belongs to, for the organization switcher."""
    return list(
        Membership.all_objects.select_related("organization")
        .filter(user=user)
        .order_by("organization__name")
    )


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def access_membership(*, organization: Organization, public_id: str) -> Membership:
    membership = membership_list(organization=organization).filter(public_id=public_id).first()
    if membership is None:
        raise Http404
    return membership


def activity_list(*, organization: Organization):
    return ActivityLog.objects.filter(organization=organization).select_related("actor_user")
