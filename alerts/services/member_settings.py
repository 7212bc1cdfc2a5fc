"""A member's own alert settings: the mobile number SMS alerts go to and whom to tell when one
of their cases misses its service level."""

import phonenumbers
from django.db import transaction
from django.utils.translation import gettext as _

from alerts.models import MemberAlertSettings
from core.exceptions import ApplicationError
from core.services import Actor, activity_record
from tenancy.models import Membership, Organization

# Numbers written without a country code are read as Finnish, as contacts' numbers are.
DEFAULT_REGION = "FI"
MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def sms_phone_normalize(value: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 (`+358401234567`), or "" for none. Raises ApplicationError (field
    `sms_phone`) for a number that is not a valid mobile number."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        message = _("Enter a mobile number, e.g. 040 123 4567 or +358 40 123 4567.")
        raise ApplicationError(message, "invalid_phone", {"fields": {"sms_phone": [message]}})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def member_alert_settings_update(
    *,
    actor: Actor,
    organization: Organization,
    user,
    sms_phone: str = "",
    escalation_contact=None,
) -> MemberAlertSettings:
    """Save `user`'s alert settings in `organization` (made on first save).

    The number is stored in E.164; the escalation contact must be another member. Raises
    ApplicationError `invalid_phone`, `not_a_member` or `invalid` with field errors. Writes an
    audit entry without the number itself (it is personal data).
    """
    phone = sms_phone_normalize(sms_phone)
    if escalation_contact is not None:
        if escalation_contact.pk == user.pk:
            message = _("Choose someone else than yourself.")
            raise ApplicationError(
                message, "invalid", {"fields": {"escalation_contact": [message]}}
            )
        if not Membership.objects.filter(
            organization=organization, user_id=escalation_contact.pk
        ).exists():
            message = _("Choose a member of this organization.")
            raise ApplicationError(
                message, "not_a_member", {"fields": {"escalation_contact": [message]}}
            )
    with transaction.atomic():
        row, _created = MemberAlertSettings.objects.select_for_update().get_or_create(
            organization=organization, user=user
        )
        row.sms_phone = phone
        row.escalation_contact = escalation_contact
        row.save()
        activity_record(
            organization=organization,
            actor=actor,
            action="alerts.member_settings.updated",
            data={"sms": bool(phone), "escalation_contact": bool(escalation_contact)},
        )
    return row
