"""Escalation: tell the owner's escalation contact, once per breach, when a case misses its
first-contact or resolution time."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.enums import OPEN_CASE_STATUSES
from alerts.models import Case
from alerts.notifications import escalation_notification
from alerts.service_levels import case_settings_read, escalation_recipient

BREACHES = {
    # breach: (due field, done field, escalated marker)
    "first_contact": ("first_contact_due", "first_contacted_at", "first_contact_escalated_at"),
    "resolution": ("resolution_due", "resolved_at", "resolution_escalated_at"),
}


def overdue_cases_escalate(*, organization, now=None) -> list:
    """Claim each newly breached case with a compare-and-swap on its marker, then queue one
    notification under a natural key: a second run, or a second beat, finds nothing to claim.
    Returns the notifications made."""
    now = now or timezone.now()
    settings = case_settings_read(organization=organization)
    made = []
    for breach, (due, done, marker) in BREACHES.items():
        overdue = Case.objects.filter(
            Q(organization=organization, status__in=OPEN_CASE_STATUSES)
            & Q(**{f"{due}__lt": now, f"{done}__isnull": True, f"{marker}__isnull": True})
        ).select_related("assignee")
        for case in overdue[:500]:
            with transaction.atomic():
                claimed = Case.objects.filter(
                    organization=organization, pk=case.pk, **{f"{marker}__isnull": True}
                ).update(**{marker: now})
                if claimed != 1:
                    continue
                recipient = escalation_recipient(
                    organization=organization, owner=case.assignee, settings=settings
                )
                notification = escalation_notification(
                    case=case, recipient=recipient, breach=breach
                )
                if notification is not None:
                    made.append(notification)
    return made
