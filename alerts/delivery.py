"""Sending one `Notification`: claim it, render it in the recipient's language, hand it to its
channel (email, Twilio SMS, a Slack or Teams incoming webhook), record the outcome.

Safe to run twice: the claim is a compare-and-swap from pending (or a stale sending), and a sent
row is never sent again. Transient failures raise `RetryLater` for the task's backoff.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.enums import CaseEventKind, DeliveryStatus, NotificationChannel, NotificationPurpose
from alerts.models import CaseEvent, Notification
from core import monitoring
from core.safe_http import OutboundHTTPError, post_json
from distribution.services.messaging import (
    PermanentSendError,
    TransientSendError,
    email_send,
    public_url,
    sms_send,
)

logger = logging.getLogger(__name__)

# A row left in `sending` this long was claimed by a worker that died.
STALE_CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 8


class RetryLater(Exception):
    """A transient failure: the task retries with backoff."""


def _claim(organization_id: int, notification_id: int) -> Notification | None:
    now = timezone.now()
    claimed = (
        Notification.objects.filter(organization_id=organization_id, pk=notification_id)
        .filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=DeliveryStatus.SENDING, claimed_at=now)
    )
    if claimed != 1:
        return None
    return (
        Notification.objects.filter(organization_id=organization_id, pk=notification_id)
        .select_related("alert", "case", "case__touchpoint", "alert__touchpoint", "alert__rule")
        .first()
    )


def notification_send(*, organization, notification_id: int) -> str:
    """Send the notification once. Returns its final or current status."""
    notification = _claim(organization.pk, notification_id)
    if notification is None:
        return "not_claimed"
    notification.attempts += 1
    try:
        with translation.override(notification.language or "en"):
            provider_id = SENDERS[notification.channel](notification, organization)
    except (TransientSendError, RetryLater) as error:
        monitoring.count("provider_errors", notification.channel)
        _record(notification, DeliveryStatus.PENDING, error)
        if notification.attempts >= MAX_ATTEMPTS:
            _record(notification, DeliveryStatus.FAILED, error)
            return DeliveryStatus.FAILED
        raise RetryLater(str(error)) from error
    except PermanentSendError as error:
        monitoring.count("provider_errors", notification.channel)
        _record(notification, DeliveryStatus.FAILED, error)
        return DeliveryStatus.FAILED
    except Exception as error:
        # A defect, not the channel: count the attempt and let the resend sweep try again
        # later, until the attempts run out.
        final = notification.attempts >= MAX_ATTEMPTS
        _record(notification, DeliveryStatus.FAILED if final else DeliveryStatus.PENDING, error)
        raise
    notification.status = DeliveryStatus.SENT
    notification.sent_at = timezone.now()
    notification.provider_id = (provider_id or "")[:100]
    notification.last_error = ""
    notification.save(update_fields=["status", "sent_at", "provider_id", "last_error", "attempts"])
    if notification.case_id is not None:
        CaseEvent.objects.create(
            organization_id=notification.organization_id,
            case_id=notification.case_id,
            kind=(
                CaseEventKind.RECOVERY
                if notification.purpose == NotificationPurpose.RECOVERY
                else CaseEventKind.ESCALATED
                if notification.purpose == NotificationPurpose.ESCALATION
                else CaseEventKind.NOTIFIED
            ),
            actor_label="system",
            data={"channel": notification.channel, "to": _masked(notification)},
        )
    return DeliveryStatus.SENT


def _masked(notification: Notification) -> str:
    if notification.channel in (NotificationChannel.SLACK, NotificationChannel.TEAMS):
        return notification.get_channel_display()
    return notification.recipient


def _record(notification: Notification, status: str, error: Exception) -> None:
    notification.status = status
    notification.last_error = str(error)[:500]
    notification.save(update_fields=["status", "last_error", "attempts"])


# --- rendering --------------------------------------------------------------------------------


def _case_url(notification: Notification, organization) -> str:
    if notification.case_id is None:
        return public_url(reverse("alerts:alerts", args=[organization.slug]))
    return public_url(reverse("alerts:case", args=[organization.slug, notification.case.public_id]))


def _context(notification: Notification, organization) -> dict:
    alert, case = notification.alert, notification.case
    return {
        "organization": organization,
        "alert": alert,
        "case": case,
        "notification": notification,
        "url": _case_url(notification, organization),
        "touchpoint": (case.touchpoint if case else None) or (alert.touchpoint if alert else None),
    }


def _subject(notification: Notification, organization) -> str:
    case = notification.case
    if notification.purpose == NotificationPurpose.RECOVERY:
        return _("About your feedback to %(org)s") % {"org": organization.name}
    if notification.purpose == NotificationPurpose.ESCALATION:
        return _("Case %(number)s missed its service level") % {"number": case.number}
    title = notification.alert.title if notification.alert else ""
    if case is not None:
        return _("New case %(number)s: %(title)s") % {"number": case.number, "title": title}
    return _("Alert: %(title)s") % {"title": title}


def send_email(notification: Notification, organization) -> str:
    context = _context(notification, organization)
    template = f"alerts/email/{notification.purpose}"
    message = EmailMultiAlternatives(
        subject=_subject(notification, organization),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers={"X-Notification": notification.public_id},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    email_send(message)
    return notification.public_id


def sms_text(notification: Notification, organization) -> str:
    if notification.purpose == NotificationPurpose.RECOVERY:
        return _(
            "%(org)s: thank you for your feedback, and we are sorry we let you down. "
            "We will be in touch to put it right."
        ) % {"org": organization.name}
    case = notification.case
    head = _("Case %(number)s") % {"number": case.number} if case else _("Alert")
    return f"{head}: {notification.alert.title if notification.alert else ''} {_case_url(notification, organization)}"[
        :600
    ]


def send_sms(notification: Notification, organization) -> str:
    return sms_send(to=notification.recipient, body=sms_text(notification, organization), sender="")


def chat_text(notification: Notification, organization) -> str:
    return f"{_subject(notification, organization)}\n{_case_url(notification, organization)}"


def _post(notification: Notification, payload: dict) -> str:
    try:
        result = post_json(notification.recipient, payload)
    except OutboundHTTPError as error:  # raised for every non-2xx answer too
        if error.transient:
            raise TransientSendError(str(error)) from error
        raise PermanentSendError(str(error)) from error
    return str(result.status)


def send_chat(notification: Notification, organization) -> str:
    # Slack and Teams incoming webhooks (and Teams Workflows) accept the same text payload.
    return _post(notification, {"text": chat_text(notification, organization)})


SENDERS = {
    NotificationChannel.EMAIL: send_email,
    NotificationChannel.SMS: send_sms,
    NotificationChannel.SLACK: send_chat,
    NotificationChannel.TEAMS: send_chat,
}
