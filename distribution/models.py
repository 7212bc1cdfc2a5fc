from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import PublicIdField, TenantModel, TimeStampedModel
from distribution.enums import Channel, ConsentSource, ImportStatus
from tenancy.enums import Language


@dataclass(frozen=True)
class ConsentState:
    """One channel's consent and opt-out, as senders need them."""

    channel: str
    given: bool
    given_at: datetime | None
    source: str
    opted_out: bool
    opted_out_at: datetime | None
    opt_out_reason: str


class Contact(TenantModel, TimeStampedModel):
    """A customer we may invite: CRM-lite with per-channel consent and opt-out.

    Consent and opt-out are explicit columns per channel (two channels, read on every send), so
    an audience query excludes opted-out contacts in the same single query (`reachable_q`).
    `__str__` is the public id on purpose: the audit log copies it, and the audit log must not
    hold personal data that `contact_erase` could not reach.
    """

    public_id = PublicIdField(prefix="ct")
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164"))
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, blank=True
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    email_consent = models.BooleanField(_("email consent"), default=False)
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_source = models.CharField(
        max_length=20, choices=ConsentSource.choices, blank=True
    )
    sms_consent = models.BooleanField(_("SMS consent"), default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_source = models.CharField(max_length=20, choices=ConsentSource.choices, blank=True)

    email_opted_out_at = models.DateTimeField(_("opted out of email"), null=True, blank=True)
    email_opt_out_reason = models.CharField(max_length=200, blank=True)
    sms_opted_out_at = models.DateTimeField(_("opted out of SMS"), null=True, blank=True)
    sms_opt_out_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="contact_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(email_consent=False) | Q(email_consent_at__isnull=False),
                name="contact_email_consent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(sms_consent=False) | Q(sms_consent_at__isnull=False),
                name="contact_sms_consent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="contact_org_created"),
            models.Index(fields=["organization", "email"], name="contact_org_email"),
            models.Index(fields=["organization", "phone"], name="contact_org_phone"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or self.external_id or self.public_id

    def address_for(self, channel: str) -> str:
        return self.email if channel == Channel.EMAIL else self.phone

    def consent_for(self, channel: str) -> ConsentState:
        prefix = Channel(channel).value
        return ConsentState(
            channel=prefix,
            given=getattr(self, f"{prefix}_consent"),
            given_at=getattr(self, f"{prefix}_consent_at"),
            source=getattr(self, f"{prefix}_consent_source"),
            opted_out=getattr(self, f"{prefix}_opted_out_at") is not None,
            opted_out_at=getattr(self, f"{prefix}_opted_out_at"),
            opt_out_reason=getattr(self, f"{prefix}_opt_out_reason"),
        )

    def is_reachable_by(self, channel: str) -> bool:
        """An address, a consent and no opt-out: what a sender checks again at send time."""
        state = self.consent_for(channel)
        return bool(self.address_for(channel)) and state.given and not state.opted_out

    @property
    def reachable_channels(self) -> list[str]:
        """Labels of the channels this contact can be sent to now (for pages)."""
        return [str(label) for value, label in Channel.choices if self.is_reachable_by(value)]

    @staticmethod
    def reachable_q(channel: str) -> Q:
        """The same test as `is_reachable_by`, for one query over a whole audience."""
        prefix = Channel(channel).value
        address = "email" if prefix == Channel.EMAIL else "phone"
        return (
            ~Q(**{address: ""})
            & Q(**{f"{prefix}_consent": True})
            & Q(**{f"{prefix}_opted_out_at__isnull": True})
        )


class Segment(TenantModel, TimeStampedModel):
    """A saved filter over contacts, used as a campaign audience (see `segment_contacts`).

    `rules` is a list of `{"field", "op", "value"}` all of which must hold; the vocabulary is in
    `distribution.rules`.
    """

    public_id = PublicIdField(prefix="seg")
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    rules = models.JSONField(_("rules"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"], name="segment_org_name")]

    def __str__(self) -> str:
        return self.name


class ContactImport(TenantModel, TimeStampedModel):
    """One CSV upload: its text, the column mapping chosen, and the progress of its task.

    The CSV text lives in the database (the worker may run on another machine); it is cleared when
    the import ends, so personal data does not linger in a second place.
    """

    public_id = PublicIdField(prefix="imp")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=200)
    content = models.TextField(blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    phone_region = models.CharField(max_length=2, default="FI")
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="import_org_created")]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.PENDING, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ContactImportError(TenantModel):
    """One problem in one row of an import (the row was not imported). Holds no cell values."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="+")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [
            models.Index(
                fields=["organization", "contact_import", "row_number"], name="import_err_row"
            )
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"
