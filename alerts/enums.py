"""Choices of the alerts app: rule kinds and conditions, alert and case states, priorities."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    RESPONSE = "response", _("Each response: a low score or chosen words")
    NEGATIVE_SHARE = "negative_share", _("Share of negative answers rises")
    NPS_DROP = "nps_drop", _("NPS drops against the last 28 days")
    VOLUME_DROP = "volume_drop", _("Responses stop coming in")


AGGREGATE_KINDS = frozenset({RuleKind.NEGATIVE_SHARE, RuleKind.NPS_DROP, RuleKind.VOLUME_DROP})


class ConditionMetric(models.TextChoices):
    """What a response condition (and a negative answer of an aggregate rule) looks at."""

    NPS = "nps", _("NPS (0-10)")
    CSAT = "csat", _("CSAT (1-5)")
    CES = "ces", _("CES 2.0 (1-7)")
    CES_LEGACY = "ces_legacy", _("CES legacy (1-5 effort)")
    SMILEY = "smiley", _("Smiley (1 very unhappy - 4 very happy)")
    YES_NO = "yes_no", _("Yes / no (no = 0)")
    RATING = "rating", _("Rating scale")
    TEXT = "text", _("Open answer contains words")


# The negative answer of each metric, used as the default condition of a new rule.
DEFAULT_CONDITIONS: dict[str, tuple[str, int]] = {
    ConditionMetric.NPS: ("lte", 6),
    ConditionMetric.CSAT: ("lte", 2),
    ConditionMetric.CES: ("lte", 3),
    ConditionMetric.CES_LEGACY: ("gte", 4),
    ConditionMetric.SMILEY: ("lte", 2),
    ConditionMetric.YES_NO: ("eq", 0),
    ConditionMetric.RATING: ("lte", 2),
}


class Operator(models.TextChoices):
    LTE = "lte", _("at most")
    GTE = "gte", _("at least")
    EQ = "eq", _("exactly")


class ReferenceMode(models.TextChoices):
    THRESHOLD = "threshold", _("A fixed share I set")
    BASELINE = "baseline", _("The 28 days before, plus a margin")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_CASE_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.IN_PROGRESS})

# Forward moves; any move not listed here goes back and needs a note.
CASE_FORWARD_MOVES: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CANCELLED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.RESOLVED, CaseStatus.CANCELLED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}
CASE_BACKWARD_MOVES: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset(),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.NEW}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_PROGRESS}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),
    CaseStatus.CANCELLED: frozenset({CaseStatus.NEW}),
}


class CaseEventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    ASSIGNED = "assigned", _("Assigned")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Note")
    CONTACTED = "contacted", _("Customer contacted")
    ESCALATED = "escalated", _("Escalated")
    NOTIFIED = "notified", _("Notification sent")
    RECOVERY = "recovery", _("Recovery message sent")
    IMPROVEMENT = "improvement", _("Linked to an improvement")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    IN_PERSON = "in_person", _("In person")
    OTHER = "other", _("Other")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the customer")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")
    DECLINED = "declined", _("Customer declined")


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")


class NotificationPurpose(models.TextChoices):
    ALERT = "alert", _("Alert")
    ESCALATION = "escalation", _("Escalation")
    RECOVERY = "recovery", _("Recovery message to the customer")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ImprovementStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")
