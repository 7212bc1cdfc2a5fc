from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import ApiKey, MemberInvitation, hash_secret
from core import handles
from core.models import HandleKind


def api_key_list(*, organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).select_related("created_by")


def access_api_key(*, organization, public_id: str) -> ApiKey:
    api_key = api_key_list(organization=organization).filter(public_id=public_id).first()
    if api_key is None:
        raise Http404
    return api_key


def invitation_open_list(*, organization) -> QuerySet[MemberInvitation]:
    return MemberInvitation.objects.filter(
        organization=organization, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def access_invitation(*, organization, public_id: str) -> MemberInvitation:
    invitation = MemberInvitation.objects.filter(
        organization=organization, public_id=public_id
    ).first()
    if invitation is None:
        raise Http404
    return invitation


def invitation_for_token(token: str) -> MemberInvitation | None:
    """The invitation an emailed link carries (looked up across tenants: the link names no organization)."""
    found = handles.resolve(HandleKind.MEMBER_INVITATION, hash_secret(token))
    if found is None:
        return None
    return (
        MemberInvitation.all_objects.select_related("organization", "invited_by")
        .filter(organization_id=found.organization_id, pk=found.object_id)
        .first()
    )
