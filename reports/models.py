"""Exports, scheduled digests and read-only share links.

Every tenant table here is keyed by organization at the database (core.tenant_keys): the primary
key is `(organization_id, id)`, unique constraints include the organization, and foreign keys to
other tenant tables are declared `db_constraint=False` and made composite by the migration's
`TenantKeys` operations. A share link's token is looked up before its organization is known,
through the handle directory (core.handles; ARCHITECTURE.md, "Growing past one machine").
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import HandleKind, HandleOwner, PublicIdField, TenantModel, TimeStampedModel


def tenant_fk(to: str, *, related_name: str = "+", null: bool = False) -> models.ForeignKey:
    """A foreign key to another tenant table; the migration's TenantKeys makes it composite."""
    return models.ForeignKey(
        to,
        on_delete=models.CASCADE,
        related_name=related_name,
        null=null,
        blank=null,
        db_constraint=False,
    )


def public_id_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["organization", "public_id"], name=f"{name}_public_id")


class DashboardType(models.TextChoices):
    """The dashboards a digest or share link can point at (with a touchpoint's public id)."""

    OVERVIEW = "overview", _("Organization overview")
    TOUCHPOINT = "touchpoint", _("Touchpoint dashboard")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")
    JSONL = "jsonl", _("JSON Lines")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Cadence(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly, on Monday")
    MONTHLY = "monthly", _("Monthly, on the 1st")


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ExportJob(TenantModel, TimeStampedModel):
    """A response export too large to download at once: built by `reports.tasks.run_export`.

    `filters` holds the report filters as query parameters (`ReportFilters.params()`), so the
    worker rebuilds exactly what the member chose. The file is stored in `ExportChunk` rows, in
    the database, because workers may run on another machine than the web process that serves
    the download.
    """

    public_id = PublicIdField(prefix="exp", unique=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(_("format"), max_length=5, choices=ExportFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    include_contact_details = models.BooleanField(_("contact email and phone"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"))
    file_size = models.PositiveBigIntegerField(default=0)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [public_id_unique("export_job")]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="export_job_org_created"),
            models.Index(fields=["organization", "expires_at"], name="export_job_org_expires"),
            models.Index(fields=["organization", "status"], name="export_job_org_status"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ExportStatus.READY else 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def filename(self) -> str:
        return f"responses-{self.public_id}.{self.format}"


class ExportChunk(TenantModel):
    """One piece (at most `reports.exports.CHUNK_BYTES`) of a finished export's file, in order."""

    job = tenant_fk("reports.ExportJob", related_name="chunks")
    sequence = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "job", "sequence"], name="export_chunk_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.sequence}"


class Digest(TenantModel, TimeStampedModel):
    """A scheduled email of one dashboard's headline numbers to chosen members."""

    public_id = PublicIdField(prefix="dig", unique=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dashboard_type = models.CharField(
        _("dashboard"), max_length=20, choices=DashboardType.choices, default=DashboardType.OVERVIEW
    )
    # A touchpoint's public id for a touchpoint dashboard; empty for the overview.
    dashboard_public_id = models.CharField(max_length=32, blank=True)
    cadence = models.CharField(
        _("how often"), max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [public_id_unique("digest")]
        indexes = [models.Index(fields=["organization", "is_active"], name="digest_org_active")]

    def __str__(self) -> str:
        return self.public_id


class DigestRecipient(TenantModel):
    """A member who receives a digest (in their own language)."""

    digest = tenant_fk("reports.Digest", related_name="recipients")
    membership = tenant_fk("tenancy.Membership")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "digest", "membership"], name="digest_recipient_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.digest_id} -> {self.membership_id}"


class DigestDelivery(TenantModel):
    """The claim on one digest's period: whoever inserts it sends; everyone else skips.

    `(organization, digest, period_start)` is unique, so two beat processes, a task run twice or
    two workers racing make one row and one send. `sent_to` lists the memberships already sent,
    so a retry after a partial failure sends only to the rest.
    """

    digest = tenant_fk("reports.Digest", related_name="deliveries")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENDING
    )
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    sent_to = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "digest", "period_start"], name="digest_delivery_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.digest_id} {self.period_start}"


class ShareLink(TenantModel, HandleOwner, TimeStampedModel):
    """A read-only link to one dashboard that works without signing in, until it expires or is
    revoked. Only the SHA-256 of the token is stored; the token is shown once."""

    handle_kind = HandleKind.SHARE_LINK
    handle_field = "token_hash"

    public_id = PublicIdField(prefix="shr", unique=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dashboard_type = models.CharField(
        _("dashboard"), max_length=20, choices=DashboardType.choices, default=DashboardType.OVERVIEW
    )
    dashboard_public_id = models.CharField(max_length=32, blank=True)
    label = models.CharField(_("label"), max_length=200, blank=True)
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            public_id_unique("share_link"),
            models.UniqueConstraint(fields=["organization", "token_hash"], name="share_link_token"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="share_link_org")]

    def __str__(self) -> str:
        return self.public_id


class ShareLinkView(TenantModel):
    """One view of a shared dashboard: when, and nothing about who."""

    share_link = tenant_fk("reports.ShareLink", related_name="views")
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-viewed_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "share_link", "viewed_at"], name="share_view_link")
        ]

    def __str__(self) -> str:
        return f"{self.share_link_id} {self.viewed_at:%Y-%m-%d %H:%M}"
