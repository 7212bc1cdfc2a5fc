"""What email providers report about sent invitations, through django-anymail's tracking webhooks.

Anymail verifies the webhook (basic auth with ANYMAIL_WEBHOOK_SECRET, plus the provider's own
signature where it has one) and normalises the provider's payload into an AnymailTrackingEvent;
`email_event_record` acts on it. The invitation is found by the metadata we send with every
message (`invitation`), else by the provider's message id stored at send time. Every action is
idempotent, so a provider that redelivers a webhook changes nothing the second time.

Only the configured provider's webhook is mounted (`tracking_webhook` in
`distribution.views.invitations`): anymail's views of the other providers fail while being built
(missing signing keys, boto3 not installed), so mounting them all made their URLs answer 500 to
anyone.
"""

import logging

from django.db import transaction

from core import handles
from core.models import HandleKind
from core.scoping import tenant_scope
from distribution.enums import Channel, InvitationStatus
from distribution.models import Invitation
from distribution.services.contacts import contact_mark_bounced, contact_opt_out
from distribution.services.invitations import invitation_delivery_update

logger = logging.getLogger(__name__)

# anymail's normalised reject reasons that mean the address itself is bad.
UNDELIVERABLE_REASONS = {"bounced", "invalid"}
# ...and those that mean the person does not want our email.
UNWANTED_REASONS = {"spam", "unsubscribed"}


def _invitation_for(*, metadata: dict, message_id: str) -> Invitation | None:
    invitations = Invitation.all_objects.filter(channel=Channel.EMAIL).select_related(
        "organization", "contact"
    )
    public_id = (metadata or {}).get("invitation")
    if public_id:
        return invitations.filter(public_id=str(public_id)).first()
    found = handles.resolve(HandleKind.PROVIDER_MESSAGE, message_id.strip("<>"))
    if found is None:
        return None
    return invitations.filter(organization_id=found.organization_id, pk=found.object_id).first()


def _describe(event_type: str, *parts: str | None) -> str:
    detail = "; ".join(part for part in parts if part)
    return f"email {event_type}: {detail}" if detail else f"email {event_type}"


def email_event_record(
    *,
    event_type: str,
    message_id: str = "",
    metadata: dict | None = None,
    reject_reason: str = "",
    description: str = "",
    mta_response: str = "",
) -> str:
    """Apply one provider event to its invitation and contact; returns what was done.

    delivered -> the invitation is delivered; bounced (and rejected as bounced or invalid) ->
    the invitation is bounced and the contact's address is marked undeliverable, so nothing more
    is sent to it; complained, unsubscribed (and rejected as spam) -> the contact is opted out of
    email. Other events (queued, opened, clicked, deferred, unknown) change nothing.
    """
    invitation = _invitation_for(metadata=metadata or {}, message_id=message_id or "")
    if invitation is None:
        return "unknown invitation"
    reason = _describe(event_type, reject_reason, description, mta_response)
    organization, contact = invitation.organization, invitation.contact
    with tenant_scope(organization), transaction.atomic():
        if event_type == "delivered":
            invitation_delivery_update(invitation=invitation, status=InvitationStatus.DELIVERED)
            return "delivered"
        bounced = event_type == "bounced" or (
            event_type == "rejected" and reject_reason in UNDELIVERABLE_REASONS
        )
        unwanted = event_type in ("complained", "unsubscribed") or (
            event_type == "rejected" and reject_reason in UNWANTED_REASONS
        )
        if event_type in ("bounced", "rejected", "failed"):
            status = InvitationStatus.BOUNCED if bounced else InvitationStatus.FAILED
            invitation_delivery_update(invitation=invitation, status=status, reason=reason)
        if contact is None:  # erased: nothing personal left to mark
            return event_type
        if bounced:
            contact_mark_bounced(organization=organization, contact=contact, reason=reason)
            return "bounced"
        if unwanted:
            contact_opt_out(
                actor=None,
                organization=organization,
                contact=contact,
                channel=Channel.EMAIL,
                reason=reason[:200],
            )
            return "opted out"
    return event_type


def on_tracking_event(sender, event, esp_name: str, **kwargs) -> None:
    """Receiver of anymail's `tracking` signal (connected in DistributionConfig.ready)."""
    done = email_event_record(
        event_type=event.event_type or "",
        message_id=event.message_id or "",
        metadata=event.metadata or {},
        reject_reason=event.reject_reason or "",
        description=event.description or "",
        mta_response=event.mta_response or "",
    )
    logger.info(
        "%s %s event for message %s: %s", esp_name, event.event_type, event.message_id, done
    )
