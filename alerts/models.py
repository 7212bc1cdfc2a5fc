"""Alert rules, the alerts they raise, and the follow-up cases that close the loop.

Every table here is keyed by organization at the database (core.tenant_keys): foreign keys to
other tenant tables are declared `db_constraint=False` and made composite in the migrations.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.enums import (
    AlertStatus,
    CaseEventKind,
    CaseStatus,
    ConditionMetric,
    DeliveryStatus,
    ImprovementStatus,
    NotificationChannel,
    NotificationPurpose,
    Operator,
    Priority,
    ReferenceMode,
    RuleKind,
)
from core.models import PublicIdField, TenantModel, TimeStampedModel


def tenant_fk(to: str, *, null: bool = False, on_delete=models.CASCADE, related_name: str = "+"):
    """A foreign key to another tenant table; TenantKeys adds the composite constraint."""
    return models.ForeignKey(
        to,
        null=null,
        blank=null,
        on_delete=on_delete,
        related_name=related_name,
        db_constraint=False,
    )


def public_id_unique(model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["organization", "public_id"], name=f"{model}_public_id")


class AlertRule(TenantModel, TimeStampedModel):
    """When to raise an alert, in which scope, and what to do then."""

    public_id = PublicIdField(prefix="arl", unique=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    is_active = models.BooleanField(_("active"), default=True)

    # Scope: the narrowest one set applies; none means the whole organization.
    journey = tenant_fk("journeys.Journey", null=True)
    touchpoint = tenant_fk("journeys.Touchpoint", null=True)
    survey = tenant_fk("surveys.Survey", null=True)
    contact_attributes = models.JSONField(_("contact attributes"), default=dict, blank=True)
    hidden_fields = models.JSONField(_("hidden fields"), default=dict, blank=True)

    # The condition on one answer (a response rule; the negative answer of an aggregate rule).
    metric = models.CharField(
        _("metric"), max_length=20, choices=ConditionMetric.choices, default=ConditionMetric.CSAT
    )
    question_key = models.CharField(_("question key"), max_length=64, blank=True)
    operator = models.CharField(
        _("operator"), max_length=5, choices=Operator.choices, default=Operator.LTE
    )
    threshold = models.IntegerField(_("threshold"), null=True, blank=True)
    keywords = models.JSONField(_("words"), default=list, blank=True)

    # Aggregate rules.
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), default=24 * 60)
    reference_mode = models.CharField(
        _("reference"), max_length=10, choices=ReferenceMode.choices, default=ReferenceMode.BASELINE
    )
    reference_rate = models.DecimalField(
        _("reference share of negative answers"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
    )
    baseline_margin = models.DecimalField(
        _("margin over the baseline"), max_digits=5, decimal_places=4, default=0.05
    )
    alpha = models.DecimalField(
        _("significance (alpha)"), max_digits=6, decimal_places=5, default=0.001
    )
    min_n = models.PositiveIntegerField(_("minimum answers"), default=10)
    drop_points = models.DecimalField(
        _("NPS drop (points)"), max_digits=5, decimal_places=1, default=15
    )
    volume_ratio = models.DecimalField(
        _("volume below (share of usual)"), max_digits=4, decimal_places=3, default=0.2
    )

    # Actions.
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.HIGH
    )
    open_case = models.BooleanField(_("open a follow-up case"), default=True)
    notify_email = models.BooleanField(_("email the owner"), default=True)
    notify_sms = models.BooleanField(_("text the owner"), default=False)
    slack_webhook_url = models.URLField(_("Slack incoming webhook"), max_length=500, blank=True)
    teams_webhook_url = models.URLField(
        _("Microsoft Teams incoming webhook"), max_length=500, blank=True
    )
    recovery_message = models.BooleanField(_("send the customer a recovery message"), default=False)
    cooldown_minutes = models.PositiveIntegerField(_("cooldown (minutes)"), default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [public_id_unique("alert_rule")]
        indexes = [models.Index(fields=["organization", "is_active", "kind"], name="rule_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_aggregate(self) -> bool:
        return self.kind != RuleKind.RESPONSE


class ResponseCheck(TenantModel):
    """A response whose rules were evaluated: the alerts sweep looks for responses without one."""

    response = tenant_fk("surveys.Response")
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "response"], name="response_check_once")
        ]


class RuleEvaluation(TenantModel):
    """A rule that matched a response: the unique key that makes raising its alert idempotent.
    Responses a rule did not match leave no row (their `ResponseCheck` says they were seen)."""

    rule = tenant_fk("alerts.AlertRule")
    response = tenant_fk("surveys.Response")
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule", "response"], name="rule_evaluation_once"
            )
        ]


class Alert(TenantModel):
    """A rule fired: for one response, or for a scope whose aggregate crossed its reference."""

    public_id = PublicIdField(prefix="alr", unique=False)
    rule = tenant_fk("alerts.AlertRule", null=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.HIGH)
    title = models.CharField(max_length=300)
    # What de-duplicates: `rsp:<response>` for a response rule, the scope for aggregate ones.
    scope_key = models.CharField(max_length=100)
    touchpoint = tenant_fk("journeys.Touchpoint", null=True, on_delete=models.SET_NULL)
    survey = tenant_fk("surveys.Survey", null=True, on_delete=models.SET_NULL)
    response = tenant_fk("surveys.Response", null=True, on_delete=models.SET_NULL)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)  # the moment of the evaluation
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            public_id_unique("alert"),
            # One cause raises one alert: at most one open alert per rule and scope.
            models.UniqueConstraint(
                fields=["organization", "rule", "scope_key"],
                condition=Q(status=AlertStatus.OPEN),
                name="alert_one_open_per_scope",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="alert_org_created"),
            models.Index(fields=["organization", "rule", "scope_key"], name="alert_rule_scope"),
        ]

    def __str__(self) -> str:
        return self.title


class RootCause(TenantModel, TimeStampedModel):
    """An entry of the organization's root-cause taxonomy, chosen when a case is resolved."""

    public_id = PublicIdField(prefix="rc", unique=False)
    category = models.CharField(_("category"), max_length=100)
    name = models.CharField(_("root cause"), max_length=200)
    controllable = models.BooleanField(_("controllable by us"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "name", "id"]
        constraints = [
            public_id_unique("root_cause"),
            models.UniqueConstraint(
                fields=["organization", "category", "name"], name="root_cause_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.name}"


class ImprovementItem(TenantModel, TimeStampedModel):
    """The outer loop: a fix for a cause that several cases share."""

    public_id = PublicIdField(prefix="imp", unique=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    root_cause = tenant_fk("alerts.RootCause", null=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ImprovementStatus.choices,
        default=ImprovementStatus.OPEN,
    )
    due_date = models.DateField(_("due"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [public_id_unique("improvement")]

    def __str__(self) -> str:
        return self.title


class Case(TenantModel, TimeStampedModel):
    """A follow-up of one alert: someone contacts the customer and resolves the cause."""

    public_id = PublicIdField(prefix="cas", unique=False)
    number = models.PositiveIntegerField()  # per organization, for people ("case 42")
    alert = tenant_fk("alerts.Alert", null=True, on_delete=models.SET_NULL)
    response = tenant_fk("surveys.Response", null=True, on_delete=models.SET_NULL)
    touchpoint = tenant_fk("journeys.Touchpoint", null=True, on_delete=models.SET_NULL)
    contact = tenant_fk("distribution.Contact", null=True, on_delete=models.SET_NULL)
    title = models.CharField(_("title"), max_length=300)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_contact_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    root_cause = tenant_fk("alerts.RootCause", null=True, on_delete=models.PROTECT)
    controllable = models.BooleanField(null=True, blank=True)
    action_taken = models.TextField(_("action taken"), blank=True)
    improvement = tenant_fk(
        "alerts.ImprovementItem", null=True, on_delete=models.SET_NULL, related_name="cases"
    )
    first_contact_escalated_at = models.DateTimeField(null=True, blank=True)
    resolution_escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            public_id_unique("case"),
            models.UniqueConstraint(fields=["organization", "number"], name="case_number"),
            models.UniqueConstraint(
                fields=["organization", "alert"],
                condition=Q(alert__isnull=False),
                name="case_one_per_alert",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="case_org_status"),
            models.Index(fields=["organization", "assignee", "status"], name="case_org_assignee"),
            models.Index(fields=["organization", "touchpoint", "status"], name="case_org_tp"),
            models.Index(fields=["organization", "contact"], name="case_org_contact"),
            models.Index(fields=["organization", "response"], name="case_org_response"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS)


class CaseEvent(TenantModel):
    """The case's timeline: every assignment, status change, note, contact and notification."""

    case = tenant_fk("alerts.Case", related_name="events")
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "case", "created_at"], name="case_event")]


class CaseSettings(TenantModel, TimeStampedModel):
    """The organization's service levels for cases, in business hours of its calendar."""

    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("default assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Gets cases of touchpoints that have no owner."),
    )
    escalation_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalation contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Told when a case misses its service level and its owner has no contact."),
    )
    holiday_country = models.CharField(_("public holidays of"), max_length=2, default="FI")
    workdays = models.JSONField(_("working days"), default=list)  # 0 = Monday
    day_start = models.TimeField(_("working day starts"), default="08:00")
    day_end = models.TimeField(_("working day ends"), default="16:00")
    # Hours per priority: {"urgent": [first contact, resolution], ...}
    sla_hours = models.JSONField(_("service levels"), default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="case_settings_one_per_org")
        ]


class MemberAlertSettings(TenantModel):
    """A member's own alert settings: the number their SMS alerts go to and whom to tell when
    one of their cases misses its service level."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sms_phone = models.CharField(_("mobile number for SMS alerts"), max_length=20, blank=True)
    escalation_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalation contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="member_alert_settings_once"
            )
        ]


class Notification(TenantModel):
    """One message to send (an alert to an owner, an escalation, a recovery message).

    `key` is the natural key of the intent, unique per organization, so a task run twice
    never sends twice; the sender claims `pending -> sending` with a compare-and-swap.
    """

    public_id = PublicIdField(prefix="ntf", unique=False)
    key = models.CharField(max_length=200)
    purpose = models.CharField(max_length=12, choices=NotificationPurpose.choices)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=500)  # an address, a number or a webhook URL
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=5, default="en")
    alert = tenant_fk("alerts.Alert", null=True, on_delete=models.SET_NULL)
    case = tenant_fk("alerts.Case", null=True, on_delete=models.SET_NULL)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            public_id_unique("notification"),
            models.UniqueConstraint(fields=["organization", "key"], name="notification_once"),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_unsent",
            ),
            models.Index(fields=["organization", "case"], name="notification_case"),
        ]
