from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts import services  # module import: services import this module's tasks too
from accounts.emails import send_invitation_email
from accounts.models import MemberInvitation, hash_secret
from core.scoping import tenant_scope, unscoped
from core.tasks import TenantTask

# An invitation whose email task should have run by now; younger ones may still be queued.
UNSENT_GRACE = timedelta(seconds=30)


@shared_task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_member_invitation(*, organization, invitation_id: int, token: str) -> None:
    invitation = MemberInvitation.objects.filter(
        pk=invitation_id, organization=organization
    ).first()
    # A token that no longer matches was replaced by the sweep, which sent its own email.
    if invitation is None or not invitation.is_open or invitation.token_hash != hash_secret(token):
        return
    send_invitation_email(invitation, token)
    MemberInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


@shared_task
def send_unsent_invitations() -> int:
    """Email open invitations whose task never ran (broker down), each with a fresh token."""
    cutoff = timezone.now() - UNSENT_GRACE
    with unscoped():
        unsent = list(
            MemberInvitation.all_objects.select_related("organization", "invited_by").filter(
                sent_at=None,
                accepted_at=None,
                revoked_at=None,
                expires_at__gt=timezone.now(),
                created_at__lt=cutoff,
            )
        )
    sent = 0
    for invitation in unsent:
        with tenant_scope(invitation.organization):
            # Claimed before sending (a second sweep at the same moment claims nothing), and
            # given back if the email fails, so the next sweep tries again.
            claim = MemberInvitation.objects.filter(
                pk=invitation.pk, organization=invitation.organization, sent_at=None
            )
            if not claim.update(sent_at=timezone.now()):
                continue
            try:
                token = services.invitation_new_token(invitation=invitation)
                send_invitation_email(invitation, token)
            except Exception:
                MemberInvitation.objects.filter(pk=invitation.pk).update(sent_at=None)
                raise
            sent += 1
    return sent


@shared_task
def purge_expired_invitations() -> int:
    """Delete invitations that expired more than 30 days ago (they can never be used)."""
    cutoff = timezone.now() - timedelta(days=30)
    with unscoped():
        deleted, _ = MemberInvitation.all_objects.filter(
            accepted_at=None, expires_at__lt=cutoff
        ).delete()
    return deleted
