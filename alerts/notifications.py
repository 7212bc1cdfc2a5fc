"""Which messages an alert, a breach or a recovery sends, written as `Notification` rows.

Rows are made in the transaction that raised the alert, with a natural key unique per
organization, so a task run twice finds its row instead of sending again; `alerts.delivery`
sends them after commit.
"""

from django.db import IntegrityError, transaction

from alerts.enums import NotificationChannel, NotificationPurpose
from alerts.models import Alert, AlertRule, Case, MemberAlertSettings, Notification


def _create(organization_id: int, key: str, **fields) -> Notification | None:
    """Insert one row under its natural key; None when it exists (already sent or queued)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(organization_id=organization_id, key=key, **fields)
    except IntegrityError:
        return None


def _recipient_user(alert: Alert, case: Case | None):
    if case is not None and case.assignee_id is not None:
        return case.assignee
    touchpoint = alert.touchpoint
    return touchpoint.owner if touchpoint is not None else None


def _language_of(user) -> str:
    return (getattr(user, "language", "") or "en")[:2]


def notifications_for_alert(*, rule: AlertRule, alert: Alert, case: Case | None):
    """The owner's email and SMS and the chat webhooks the rule names."""
    organization_id = alert.organization_id
    user = _recipient_user(alert, case)
    made = []
    if user is not None and rule.notify_email and user.email:
        made.append(
            _create(
                organization_id,
                f"alert:{alert.pk}:email:{user.pk}",
                purpose=NotificationPurpose.ALERT,
                channel=NotificationChannel.EMAIL,
                recipient=user.email,
                recipient_user=user,
                language=_language_of(user),
                alert=alert,
                case=case,
            )
        )
    if user is not None and rule.notify_sms:
        phone = (
            MemberAlertSettings.objects.filter(organization_id=organization_id, user=user)
            .values_list("sms_phone", flat=True)
            .first()
        )
        if phone:
            made.append(
                _create(
                    organization_id,
                    f"alert:{alert.pk}:sms:{user.pk}",
                    purpose=NotificationPurpose.ALERT,
                    channel=NotificationChannel.SMS,
                    recipient=phone,
                    recipient_user=user,
                    language=_language_of(user),
                    alert=alert,
                    case=case,
                )
            )
    for channel, url in (
        (NotificationChannel.SLACK, rule.slack_webhook_url),
        (NotificationChannel.TEAMS, rule.teams_webhook_url),
    ):
        if url:
            made.append(
                _create(
                    organization_id,
                    f"alert:{alert.pk}:{channel}",
                    purpose=NotificationPurpose.ALERT,
                    channel=channel,
                    recipient=url,
                    alert=alert,
                    case=case,
                )
            )
    return [notification for notification in made if notification is not None]


def recovery_notification(*, rule: AlertRule, alert: Alert, case: Case | None, facts):
    """The customer's recovery message: at most once per response, in their language, only on a
    channel they consented to and have not opted out of (their invitation's channel first)."""
    contact = facts.contact
    if not rule.recovery_message or contact is None:
        return None
    response = facts.response
    preferred = [response.channel] if response.channel in ("email", "sms") else []
    for channel in [*preferred, "email", "sms"]:
        if not contact.is_reachable_by(channel):
            continue
        address = contact.email if channel == "email" else contact.phone
        if not address:
            continue
        return _create(
            alert.organization_id,
            f"recovery:{response.pk}",
            purpose=NotificationPurpose.RECOVERY,
            channel=channel,
            recipient=address,
            language=response.language or contact.preferred_language or "en",
            alert=alert,
            case=case,
        )
    return None


def escalation_notification(*, case: Case, recipient, breach: str) -> Notification | None:
    """One email to the escalation contact per breach (`first_contact` or `resolution`)."""
    if recipient is None or not recipient.email:
        return None
    return _create(
        case.organization_id,
        f"escalation:{case.pk}:{breach}",
        purpose=NotificationPurpose.ESCALATION,
        channel=NotificationChannel.EMAIL,
        recipient=recipient.email,
        recipient_user=recipient,
        language=_language_of(recipient),
        alert_id=case.alert_id,
        case=case,
    )
