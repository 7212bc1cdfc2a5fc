from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    RESPONSE_SUBMITTED = "response.submitted", _("A response was submitted")
    ALERT_CREATED = "alert.created", _("An alert was raised")
    CASE_CREATED = "case.created", _("A follow-up case was opened")
    CASE_UPDATED = "case.updated", _("A follow-up case changed")
    CONTACT_UNSUBSCRIBED = "contact.unsubscribed", _("A contact unsubscribed")
    INVITATION_FAILED = "invitation.failed", _("An invitation could not be delivered")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # not tried yet
    FAILED = "failed", _("Failed, will retry")  # the last attempt failed; next_attempt_at is set
    SUCCEEDED = "succeeded", _("Delivered")
    DEAD = "dead", _("Given up")  # retries ran out, or the endpoint was disabled


# The statuses the sweep sends when their time comes.
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
