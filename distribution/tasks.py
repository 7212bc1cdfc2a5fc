import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core import monitoring
from core.scoping import tenant_scope, unscoped
from core.tasks import TenantTask
from distribution.enums import CampaignStatus, Channel, ImportStatus, InvitationStatus, SkipReason
from distribution.models import Campaign, ContactImport, Invitation
from distribution.services import configuration, invitations, sms
from distribution.services.importing import contact_import_run, contact_imports_due_q
from distribution.services.messaging import (
    EmailTransport,
    PermanentSendError,
    SmsTransport,
    TransientSendError,
)
from tenancy.models import Organization

logger = logging.getLogger(__name__)
MAX_SEND_RETRIES = 5


# typing=False: TenantTask.__call__ takes `organization_id` and passes `organization`, so Celery's
# check of the arguments against this signature would refuse every call at apply_async.
@shared_task(base=TenantTask, acks_late=True, typing=False)
def import_contacts(*, organization, import_id: int) -> int | None:
    """Import one uploaded CSV (see distribution.services.importing); returns the rows processed."""
    contact_import = contact_import_run(organization=organization, import_id=import_id)
    return contact_import.processed_rows if contact_import else None


@shared_task
def sweep_contact_imports() -> int:
    """Periodic: send again the task of an import that never started (the broker was down) or
    whose worker died; the run's compare-and-swap lets only one worker have it."""
    with unscoped():
        due = list(
            ContactImport.all_objects.filter(contact_imports_due_q()).values_list(
                "organization_id", "id"
            )[:100]
        )
    for organization_id, import_id in due:
        import_contacts.apply_async(
            kwargs={"organization_id": organization_id, "import_id": import_id}
        )
    return len(due)


@shared_task
def purge_stale_import_drafts() -> int:
    """Delete drafts nobody mapped within a day: their stored CSV holds personal data."""
    cutoff = timezone.now() - timezone.timedelta(days=1)
    with unscoped():
        deleted, _ = ContactImport.all_objects.filter(
            status=ImportStatus.DRAFT, created_at__lt=cutoff
        ).delete()
    return deleted


def _transport_send(invitation: Invitation, organization):
    try:
        if invitation.channel == Channel.SMS:
            sender = configuration.sms_sender_for(organization)
            # Kept before sending: a reply comes to this number and is matched by it.
            Invitation.objects.filter(pk=invitation.pk).update(sender=sender)
            replies = configuration.sender_takes_replies(sender)
            return SmsTransport().send(invitation, organization, sender=sender, replies=replies)
        return EmailTransport().send(invitation, organization)
    except (TransientSendError, PermanentSendError):
        monitoring.count(
            "provider_errors", "twilio" if invitation.channel == Channel.SMS else "email"
        )
        raise


def _backoff(retries: int) -> int:
    return min(3600, settings.INVITATION_RETRY_SECONDS * 2**retries)


@shared_task(base=TenantTask, bind=True, acks_late=True, typing=False, max_retries=MAX_SEND_RETRIES)
def send_invitation(self, *, organization, invitation_id: int) -> str:
    """Claim one invitation (queued -> sending; only one worker gets it), check consent, opt-out
    and the frequency rules again, send, record the outcome. Transient provider errors put it
    back to queued and retry with backoff; permanent ones record it as failed."""
    invitation = invitations.invitation_claim(
        organization=organization, invitation_id=invitation_id
    )
    if invitation is None:
        return "not claimed"
    contact = invitation.contact
    if not invitation.survey.is_open:
        reason = SkipReason.SURVEY_CLOSED
    else:
        reason = invitations.contact_skip_reason(
            organization=organization,
            contact=contact,
            survey=invitation.survey,
            channel=invitation.channel,
            exclude=invitation,
        )
    if reason or invitation.personal_link is None:
        invitations.invitation_record(
            invitation=invitation,
            status=InvitationStatus.SKIPPED,
            skip_reason=reason or SkipReason.CONTACT_ERASED,
        )
        return "skipped"
    invitation.address = contact.address_for(invitation.channel)
    Invitation.objects.filter(pk=invitation.pk).update(address=invitation.address)
    try:
        result = _transport_send(invitation, organization)
    except TransientSendError as error:
        countdown = _backoff(self.request.retries)
        retry_at = timezone.now() + timedelta(seconds=countdown)
        invitations.invitation_release(invitation=invitation, error=str(error), retry_at=retry_at)
        if self.request.retries >= self.max_retries:
            logger.warning("invitation %s: giving up for now: %s", invitation.public_id, error)
            return "deferred"
        # Celery sends the task again after the countdown. The arguments are named because the
        # request holds TenantTask's `organization` object, which cannot be serialized. Tasks run
        # eagerly (tests, the embedded mode) send nothing: the invitation waits for the sweep.
        kwargs = {"organization_id": organization.pk, "invitation_id": invitation_id}
        self.retry(kwargs=kwargs, countdown=countdown, throw=False)
        return "retrying"
    except PermanentSendError as error:
        invitations.invitation_record(
            invitation=invitation, status=InvitationStatus.FAILED, reason=str(error)
        )
        return "failed"
    invitations.invitation_record(
        invitation=invitation,
        status=InvitationStatus.SENT,
        provider_message_id=result.provider_message_id,
    )
    return "sent"


@shared_task(base=TenantTask, acks_late=True, typing=False)
def send_reminder(*, organization, invitation_id: int) -> str:
    """One reminder to an unanswered campaign invitation (not counted by the frequency rules)."""
    invitation = (
        Invitation.objects.filter(organization=organization, pk=invitation_id)
        .select_related("contact", "survey", "personal_link", "campaign")
        .first()
    )
    if invitation is None or invitation.campaign is None or invitation.personal_link is None:
        return "gone"
    if invitation.answered_at or invitation.reminders_sent >= invitation.campaign.reminders:
        return "not due"
    contact = invitation.contact
    if contact is None or not contact.is_reachable_by(invitation.channel):
        return "unreachable"
    if not invitations.reminder_claim(invitation=invitation):
        return "not claimed"
    try:
        _transport_send(invitation, organization)
    except TransientSendError as error:
        # Given back: the sweep (every 2 minutes) sends it once the provider answers again.
        logger.warning("reminder of %s not sent yet: %s", invitation.public_id, error)
        invitations.reminder_give_back(invitation=invitation)
        return "retry later"
    except PermanentSendError as error:
        logger.warning("reminder of %s not sent: %s", invitation.public_id, error)
        return "failed"
    invitations._event(
        invitation, InvitationStatus.SENT, f"reminder {invitation.reminders_sent + 1}"
    )
    return "sent"


@shared_task(base=TenantTask, acks_late=True, typing=False)
def run_campaign(*, organization, campaign_id: int) -> int:
    """Make a campaign's invitations; each is then sent by its own `send_invitation` task."""
    return invitations.campaign_run(organization=organization, campaign_id=campaign_id)


@shared_task(base=TenantTask, acks_late=True, typing=False)
def mark_invitation_answered(*, organization, response_id: int) -> int:
    return invitations.invitations_mark_answered(
        organization_id=organization.pk, response_id=response_id
    )


# A send task not run this long after its time was lost (a Redis restart, a killed worker).
LOST_SEND_GRACE = timedelta(seconds=40)
# A running campaign touches its row every CAMPAIGN_HEARTBEAT contacts; one silent this long
# lost its task or its worker and is run again (safe: natural keys keep one invitation each).
CAMPAIGN_SILENT = timedelta(seconds=60)


@shared_task
def resend_lost_sends() -> dict[str, int]:
    """Periodic, every few seconds: send again the tasks of queued invitations that are overdue
    (the broker lost them or was down), start scheduled campaigns and restart silent ones."""
    counts = {"invitations": 0, "campaigns": 0}
    with unscoped():
        for organization_id, invitation_id in invitations.due_invitations(grace=LOST_SEND_GRACE):
            send_invitation.apply_async(
                kwargs={"organization_id": organization_id, "invitation_id": invitation_id}
            )
            counts["invitations"] += 1
        now = timezone.now()
        due = Campaign.all_objects.filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
        stuck = Campaign.all_objects.filter(
            status=CampaignStatus.SENDING, updated_at__lte=now - CAMPAIGN_SILENT
        )
        for campaign in [*due, *stuck]:
            # Claimed with a conditional UPDATE: a second sweep at the same moment (a second
            # scheduler) finds the campaign started or touched and sends nothing.
            claim = Campaign.all_objects.filter(
                pk=campaign.pk, organization_id=campaign.organization_id, status=campaign.status
            )
            if campaign.status == CampaignStatus.SCHEDULED:
                claimed = claim.update(
                    status=CampaignStatus.SENDING, started_at=now, updated_at=now
                )
            else:
                claimed = claim.filter(updated_at=campaign.updated_at).update(updated_at=now)
            if not claimed:
                continue
            run_campaign.apply_async(
                kwargs={"organization_id": campaign.organization_id, "campaign_id": campaign.pk}
            )
            counts["campaigns"] += 1
    return counts


@shared_task
def sweep_invitations() -> dict[str, int]:
    """Periodic: what `resend_lost_sends` does, then, organization by organization, mark opened
    and answered invitations and send due reminders; record SMS scores whose follow-up comment
    never came."""
    counts = {
        **resend_lost_sends(),
        "reminders": 0,
        "opened": 0,
        "answered": 0,
        "sms_completed": 0,
    }
    for invitation in sms.sms_waiting_overdue():
        counts["sms_completed"] += sms.sms_complete_waiting(invitation=invitation)
    for organization in Organization.objects.filter(pk__in=invitations.organizations_to_sweep()):
        with tenant_scope(organization):
            counts["opened"] += invitations.invitations_mark_opened(organization=organization)
            counts["answered"] += invitations.answered_invitations_catch_up(
                organization=organization
            )
            for invitation in invitations.reminders_due(organization=organization):
                send_reminder.apply_async(
                    kwargs={"organization_id": organization.pk, "invitation_id": invitation.pk}
                )
                counts["reminders"] += 1
    return counts
