import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import (
    HandleKind,
    HandleOwner,
    ImportProgress,
    PublicIdField,
    TenantModel,
    TimeStampedModel,
)
from distribution.enums import (
    CampaignChannel,
    CampaignStatus,
    Channel,
    ConsentSource,
    ImportStatus,
    InvitationStatus,
    SkipReason,
)
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

    public_id = PublicIdField(prefix="ct", unique=False)
    # Written in bulk: the creation time gets no index of its own (see DropPatternIndex too).
    created_at = models.DateTimeField(auto_now_add=True)
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
    # Set by the email provider's bounce webhook; cleared when the email address changes.
    email_bounced_at = models.DateTimeField(_("email bounced"), null=True, blank=True)
    email_bounce_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="contact_public_id"),
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
        if channel == Channel.EMAIL and self.email_bounced_at is not None:
            return False
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
        reachable = (
            ~Q(**{address: ""})
            & Q(**{f"{prefix}_consent": True})
            & Q(**{f"{prefix}_opted_out_at__isnull": True})
        )
        if prefix == Channel.EMAIL:
            reachable &= Q(email_bounced_at__isnull=True)
        return reachable


class Segment(TenantModel, TimeStampedModel):
    """A saved filter over contacts, used as a campaign audience (see `segment_contacts`).

    `rules` is a list of `{"field", "op", "value"}` all of which must hold; the vocabulary is in
    `distribution.rules`.
    """

    public_id = PublicIdField(prefix="seg", unique=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    rules = models.JSONField(_("rules"), default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="segment_public_id"),
        ]
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"], name="segment_org_name")]

    def __str__(self) -> str:
        return self.name


class ContactImport(TenantModel, TimeStampedModel, ImportProgress):
    """One CSV upload: its text, the column mapping chosen, and the progress of its task.

    The CSV text lives in the database (the worker may run on another machine); it is cleared when
    the import ends, so personal data does not linger in a second place.
    """

    public_id = PublicIdField(prefix="imp", unique=False)
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
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="contactimport_public_id"
            ),
        ]
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="import_org_created")]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.PENDING, ImportStatus.RUNNING)


class ContactImportError(TenantModel):
    """One problem in one row of an import (the row was not imported). Holds no cell values."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
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


class DistributionSettings(TenantModel, TimeStampedModel):
    """Sending settings of one organization (contact-frequency rules, link expiry, SMS sender)."""

    public_id = PublicIdField(prefix="dset", unique=False)
    survey_throttle_days = models.PositiveIntegerField(
        _("days between invitations to the same survey"), default=30
    )
    quarantine_days = models.PositiveIntegerField(
        _("days between invitations to any survey"), default=30
    )
    link_expiry_days = models.PositiveIntegerField(
        _("days a personal link stays valid"), default=30
    )
    sms_sender = models.CharField(
        _("SMS sender id or number"), max_length=20, blank=True, help_text=_("E.164 or 11 letters")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="distributionsettings_public_id"
            ),
            models.UniqueConstraint(fields=["organization"], name="distribution_settings_one"),
        ]

    def __str__(self) -> str:
        return self.public_id


class Campaign(TenantModel, TimeStampedModel):
    """A survey sent to an audience (a segment or a list of contacts), now or later."""

    public_id = PublicIdField(prefix="cmp", unique=False)
    name = models.CharField(_("name"), max_length=200)
    survey = models.ForeignKey(
        "surveys.Survey",
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    contact_ids = models.JSONField(_("contacts"), default=list, blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL
    )
    scheduled_for = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    reminders = models.PositiveSmallIntegerField(_("reminders"), default=0)
    reminder_after_days = models.PositiveSmallIntegerField(_("remind after days"), default=3)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="campaign_public_id"
            ),
        ]
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="campaign_org_created"),
            models.Index(fields=["status", "scheduled_for"], name="campaign_status_due"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(TenantModel, TimeStampedModel):
    """One invitation to one contact: the delivery row every send claims before sending.

    `natural_key` is unique per organization: `cmp:<campaign>:<contact>` for campaigns,
    `trg:<survey>:<contact>:<event>` for triggered ones, so retries never make a second row.
    `address` and `hidden_fields` are personal copies that `contact_erase` blanks.
    """

    public_id = PublicIdField(prefix="ivt", unique=False)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        db_constraint=False,
    )
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
        db_constraint=False,
    )
    personal_link = models.ForeignKey(
        "surveys.PersonalLink",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        related_query_name="invitation",
        # The unique (organization, personal_link) constraint is its index.
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    hidden_fields = models.JSONField(default=dict, blank=True)
    natural_key = models.CharField(max_length=300)
    scheduled_for = models.DateTimeField(_("send at"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.QUEUED,
    )
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # The number an SMS went out from: a reply comes to it, which tells whose invitation it answers.
    sender = models.CharField(max_length=20, blank=True)
    sms_state = models.CharField(max_length=20, blank=True)
    sms_state_at = models.DateTimeField(null=True, blank=True)
    # The score an SMS reply gave, kept by the conversation itself: the web page may save other
    # unfinished answers on the personal link meanwhile.
    sms_score = models.SmallIntegerField(null=True, blank=True)
    sms_help_sent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "personal_link"], name="invitation_personal_link"
            ),
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="invitation_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "natural_key"], name="invitation_natural_key"
            ),
            models.UniqueConstraint(
                fields=["organization", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="invitation_provider_message_id",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="invitation_org_created"),
            # The lost-sends sweep (every 15 s, every organization) reads only rows in flight.
            models.Index(
                fields=["scheduled_for"],
                condition=Q(status="queued"),
                name="invitation_queued",
            ),
            models.Index(
                fields=["updated_at"], condition=Q(status="sending"), name="invitation_sending"
            ),
            # The invitation sweep (every 2 minutes) works organization by organization on the
            # invitations awaiting their answer.
            models.Index(
                fields=["organization", "personal_link"],
                condition=Q(status__in=["sent", "delivered"]),
                name="invitation_awaiting",
            ),
            models.Index(fields=["organization", "contact", "sent_at"], name="invitation_org_ct"),
            models.Index(fields=["organization", "campaign", "status"], name="invitation_org_cmp"),
            models.Index(fields=["organization", "channel", "address"], name="invitation_org_addr"),
            models.Index(
                fields=["address", "sender", "-sent_at"],
                condition=Q(channel="sms"),
                name="invitation_sms_reply",
            ),
            models.Index(
                fields=["sms_state_at"],
                condition=Q(sms_state="awaiting_comment"),
                name="invitation_sms_awaiting",
            ),
            models.Index(
                fields=["scheduled_for"],
                condition=Q(status="queued"),
                name="invitation_queued_due",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class InvitationEvent(TenantModel):
    """One step of an invitation's history (queued, skipped, sent, delivered, failed, ...)."""

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="events", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=InvitationStatus.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["organization", "invitation", "created_at"], name="ivt_event_row")
        ]

    def __str__(self) -> str:
        return self.status


class SurveyEmailTemplate(TenantModel, TimeStampedModel):
    """A survey's own invitation subject and introduction in one language."""

    public_id = PublicIdField(prefix="etpl", unique=False)
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200)
    intro = models.TextField(_("introduction"), max_length=2000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="surveyemailtemplate_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "survey", "language"], name="email_template_one_per_lang"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.language}"


class InboundSms(TenantModel, HandleOwner):
    """One SMS reply, kept by Twilio's MessageSid so a redelivered webhook is not acted on twice."""

    handle_kind = HandleKind.INBOUND_SMS
    handle_field = "message_sid"

    message_sid = models.CharField(max_length=64)
    invitation = models.ForeignKey(
        Invitation, null=True, on_delete=models.SET_NULL, db_constraint=False
    )
    reply = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "message_sid"], name="inboundsms_message_sid"
            ),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.message_sid


class KioskDevice(TenantModel, TimeStampedModel):
    """A tablet that asks one survey at a touchpoint (a store exit, a service desk).

    The device proves itself with a secret token in its URL, kept only as a hash in the
    handle directory (`core_handle`, looked up before the organization is known).
    Answers closer together than `min_interval_seconds` are flagged as a button-mash, not hidden.
    """

    public_id = PublicIdField(prefix="kio", unique=False)
    name = models.CharField(_("name"), max_length=100)
    survey = models.ForeignKey(
        "surveys.Survey",
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    min_interval_seconds = models.PositiveSmallIntegerField(_("seconds between answers"), default=3)
    # The device's clock of its last answer, for the button-mash guard across syncs.
    last_answered_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="kiosk_public_id")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def kiosk_token_hash(token: str) -> str:
    """What the handle directory keeps of a kiosk's secret token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()
