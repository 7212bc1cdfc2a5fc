"""Outgoing webhooks: endpoints, the events they are sent, one delivery row per event and
endpoint (the outbox the sender claims from) and the log of every attempt.

Every table is keyed by `(organization_id, id)` from its first migration (core.tenant_keys);
foreign keys between them are composite, declared `db_constraint=False` here.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import PublicIdField, TenantModel, TimeStampedModel
from webhooks.enums import DUE_STATUSES, DeliveryStatus, EventType


def tenant_fk(to: str, *, on_delete=models.CASCADE) -> models.ForeignKey:
    """A foreign key to another tenant table; TenantKeys adds the composite constraint."""
    return models.ForeignKey(to, on_delete=on_delete, related_name="+", db_constraint=False)


def public_id_unique(model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["organization", "public_id"], name=f"{model}_public_id")


class WebhookEndpoint(TenantModel, TimeStampedModel):
    """A URL of the organization's that receives the events it subscribes to, signed with its
    secret (Standard Webhooks). After a rotation the previous secret signs too, until
    `previous_secret_expires_at`."""

    public_id = PublicIdField(prefix="whe", unique=False)
    url = models.CharField(_("URL"), max_length=2048)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    include_contact_details = models.BooleanField(
        _("include contact email and phone"),
        default=False,
        help_text=_("Off by default: payloads name a contact by id only."),
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Claimed by the task that emails the admins, so a task run twice emails once.
    disabled_notified_at = models.DateTimeField(null=True, blank=True)
    # Set by the first failure after a success, cleared by a success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [public_id_unique("webhook_endpoint")]
        indexes = [models.Index(fields=["organization", "active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.public_id

    def secrets_now(self, now=None) -> list[str]:
        """The secrets that sign a message now: the current one, and the previous one during
        the overlap after a rotation."""
        now = now or timezone.now()
        found = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at is not None and self.previous_secret_expires_at > now
        ):
            found.append(self.previous_secret)
        return found


class EventFeed(TenantModel, TimeStampedModel):
    """The organization's events feed switch. While on, every event is recorded (and kept 30
    days) for clients that poll the `events/` API instead of receiving webhooks; while off, an
    event is recorded only when an active endpoint subscribes to its type."""

    public_id = PublicIdField(prefix="feed", unique=False)
    enabled = models.BooleanField(_("keep an events feed"), default=False)

    class Meta:
        constraints = [
            public_id_unique("event_feed"),
            models.UniqueConstraint(fields=["organization"], name="event_feed_one"),
        ]

    def __str__(self) -> str:
        return self.public_id


class WebhookEvent(TenantModel):
    """Something that happened, as sent to endpoints: `payload` is the event's `data`.

    Contact email and phone are not in `payload`; they are kept apart in `contact_details`, only
    when an endpoint that includes them subscribed, and added to that endpoint's body. Kept 30
    days (also as the events feed of the API)."""

    public_id = PublicIdField(prefix="evt", unique=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(default=dict)
    contact_details = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [public_id_unique("webhook_event")]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="webhook_event_org_created"),
            models.Index(fields=["organization", "type", "-created_at"], name="webhook_event_type"),
            models.Index(fields=["created_at"], name="webhook_event_created"),
        ]

    def __str__(self) -> str:
        return self.public_id


class WebhookDelivery(TenantModel):
    """One event to one endpoint: claimed by a lease (`claimed_until`) before each attempt, so a
    task run twice, or a task and the sweep, never send it twice at the same time."""

    public_id = PublicIdField(prefix="whd", unique=False)
    event = tenant_fk("webhooks.WebhookEvent")
    endpoint = tenant_fk("webhooks.WebhookEndpoint")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_response_excerpt = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            public_id_unique("webhook_delivery"),
            models.UniqueConstraint(
                fields=["organization", "event", "endpoint"], name="webhook_delivery_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "endpoint", "-created_at"], name="webhook_delivery_endpoint"
            ),
            models.Index(
                fields=["next_attempt_at", "organization"],
                name="webhook_delivery_due",
                condition=Q(status__in=DUE_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class WebhookAttempt(TenantModel):
    """One try at a delivery: the delivery log of an endpoint. Kept 30 days."""

    RESPONSE_EXCERPT = 1000

    public_id = PublicIdField(prefix="wha", unique=False)
    delivery = tenant_fk("webhooks.WebhookDelivery")
    endpoint = tenant_fk("webhooks.WebhookEndpoint")
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=RESPONSE_EXCERPT, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [public_id_unique("webhook_attempt")]
        indexes = [
            models.Index(
                fields=["organization", "endpoint", "-started_at"], name="webhook_attempt_endpoint"
            ),
            models.Index(fields=["organization", "delivery"], name="webhook_attempt_delivery"),
            models.Index(fields=["started_at"], name="webhook_attempt_started"),
        ]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def __str__(self) -> str:
        return self.public_id
