from celery import shared_task
from django.utils import timezone

from accounts.emails import send_invitation_email
from accounts.models import MemberInvitation
from core.scoping import unscoped
from core.tasks import TenantTask


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_member_invitation(*, organization, invitation_id: int, token: str) -> None:
    invitation = MemberInvitation.objects.filter(
        pk=invitation_id, organization=organization
    ).first()
    if invitation is None or not invitation.is_open:
        return
    send_invitation_email(invitation, token)


@shared_task
def purge_expired_invitations() -> int:
    """Delete invitations that expired more than 30 days ago (they can never be used)."""
    cutoff = timezone.now() - timezone.timedelta(days=30)
    with unscoped():
        deleted, _ = MemberInvitation.all_objects.filter(
            accepted_at=None, expires_at__lt=cutoff
        ).delete()
    return deleted
