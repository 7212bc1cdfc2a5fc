from django.db import models
from django.utils.translation import gettext_lazy as _

from core.channels import InvitationChannel

# How an invitation goes out; values and labels from the one vocabulary in core.
Channel = InvitationChannel


class ConsentSource(models.TextChoices):
    """How a consent was given (kept with the consent, as GDPR asks us to be able to show)."""

    FORM = "form", _("Form in this app")
    IMPORT = "import", _("CSV import")
    API = "api", _("API")
    CRM = "crm", _("CRM")
    SURVEY = "survey", _("Survey answer")
    OTHER = "other", _("Other")


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for column mapping")
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportTarget(models.TextChoices):
    """What a CSV column can be mapped to (attributes are `attr:<name>`)."""

    IGNORE = "", _("Ignore this column")
    EXTERNAL_ID = "external_id", _("External id (CRM)")
    NAME = "name", _("Name")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    LANGUAGE = "preferred_language", _("Preferred language")
    EMAIL_CONSENT = "email_consent", _("Email consent (yes/no)")
    SMS_CONSENT = "sms_consent", _("SMS consent (yes/no)")
    EMAIL_OPT_OUT = "email_opted_out", _("Opted out of email (yes/no)")
    SMS_OPT_OUT = "sms_opted_out", _("Opted out of SMS (yes/no)")
    ATTRIBUTE = "attribute", _("Attribute (named after the column)")


class RuleField(models.TextChoices):
    """Fields a segment rule can test; attributes are `attr.<name>`."""

    LANGUAGE = "preferred_language", _("Preferred language")
    EMAIL_CONSENT = "consent.email", _("Email consent")
    SMS_CONSENT = "consent.sms", _("SMS consent")
    EMAIL_REACHABLE = "reachable.email", _("Reachable by email")
    SMS_REACHABLE = "reachable.sms", _("Reachable by SMS")


class RuleOperator(models.TextChoices):
    EQUALS = "eq", _("equals")
    NOT_EQUALS = "ne", _("does not equal")
    EXISTS = "exists", _("is set")
    IS = "is", _("is")


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SKIPPED = "skipped", _("Skipped")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    OPENED = "opened", _("Opened")
    ANSWERED = "answered", _("Answered")


class SkipReason(models.TextChoices):
    """Why an invitation was not sent (the order is the order the rules are checked in)."""

    CONTACT_ERASED = "contact_erased", _("Contact erased")
    OPTED_OUT = "opted_out", _("Opted out")
    NO_CONSENT = "no_consent", _("No consent")
    NO_ADDRESS = "no_address", _("No address for the channel")
    UNDELIVERABLE = "undeliverable", _("Email address bounced")
    THROTTLED = "throttled", _("Invited to this survey recently")
    QUARANTINED = "quarantined", _("Invited to any survey recently")
    SURVEY_CLOSED = "survey_closed", _("Survey not open")


class CampaignChannel(models.TextChoices):
    EMAIL = Channel.EMAIL.value, Channel.EMAIL.label
    SMS = Channel.SMS.value, Channel.SMS.label
    PREFERRED = "preferred", _("Preferred channel, other as fallback")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
