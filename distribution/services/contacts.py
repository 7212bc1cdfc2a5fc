"""Every write to contacts. CSV imports are in `distribution.services.importing`."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ConflictError
from core.services import activity_record
from distribution.enums import Channel, ConsentSource
from distribution.models import Contact
from distribution.normalize import (
    DEFAULT_PHONE_REGION,
    normalize_attributes,
    normalize_email,
    normalize_language,
    normalize_phone,
)
from distribution.selectors import contact_activity, contact_invitations, contact_responses
from distribution.services.events import contact_webhook_data
from distribution.services.invitations import unlink_contact
from surveys.api import AnswerSerializer
from tenancy.actors import Actor
from webhooks.enums import EventType
from webhooks.services import event_emit

PROFILE_FIELDS = ("external_id", "name", "email", "phone", "preferred_language", "attributes")
CONSENT_FIELDS = ("email_consent", "sms_consent")
OPT_OUT_FIELDS = ("email_opted_out", "sms_opted_out")


def clean_profile(data: dict[str, Any], *, phone_region: str = DEFAULT_PHONE_REGION) -> dict:
    """Normalise the profile fields present in `data`; raises ApplicationError naming the field."""
    cleaned: dict[str, Any] = {}
    for field in PROFILE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "email":
            value = normalize_email(value)
        elif field == "phone":
            value = normalize_phone(value, phone_region)
        elif field == "preferred_language":
            value = normalize_language(value)
        elif field == "attributes":
            value = normalize_attributes(value)
        else:
            value = (value or "").strip()
            limit = Contact._meta.get_field(field).max_length
            if len(value) > limit:
                raise ApplicationError(
                    _("At most %(n)s characters.") % {"n": limit},
                    code="too_long",
                    extra={"field": field},
                )
        cleaned[field] = value
    return cleaned


def _check_not_duplicate(*, organization, contact: Contact | None, profile: dict) -> None:
    """Refuse a profile whose external id, email or phone belongs to another contact (409)."""
    keys = [(field, profile.get(field)) for field in ("external_id", "email", "phone")]
    keys = [(field, value) for field, value in keys if value]
    if not keys:
        return
    match = Q()
    for field, value in keys:
        match |= Q(**{field: value})
    others = Contact.objects.filter(organization=organization).filter(match)
    if contact is not None:
        others = others.exclude(pk=contact.pk)
    existing = others.only("public_id", "external_id", "email", "phone").first()
    if existing is None:
        return
    field = next(field for field, value in keys if getattr(existing, field) == value)
    raise ConflictError(
        _("Another contact has this %(field)s already.")
        % {"field": Contact._meta.get_field(field).verbose_name},
        code="duplicate_contact",
        extra={"field": field, "contact": existing.public_id},
    )


def _apply_consent(contact: Contact, channel: str, given: bool, source: str, now) -> bool:
    if bool(getattr(contact, f"{channel}_consent")) == given:
        return False
    setattr(contact, f"{channel}_consent", given)
    setattr(contact, f"{channel}_consent_at", now if given else None)
    setattr(contact, f"{channel}_consent_source", source if given else "")
    return True


def _apply_opt_out(contact: Contact, channel: str, opted_out: bool, reason: str, now) -> bool:
    if (getattr(contact, f"{channel}_opted_out_at") is not None) == opted_out:
        return False
    setattr(contact, f"{channel}_opted_out_at", now if opted_out else None)
    setattr(contact, f"{channel}_opt_out_reason", reason[:200] if opted_out else "")
    return True


def _check_source(source: str) -> str:
    if source not in ConsentSource.values:
        raise ApplicationError(
            _("Unknown consent source."), code="invalid_source", extra={"field": "consent_source"}
        )
    return source


@transaction.atomic
def contact_create(
    *,
    actor: Actor | None,
    organization,
    external_id: str = "",
    name: str = "",
    email: str = "",
    phone: str = "",
    preferred_language: str = "",
    attributes: dict | None = None,
    email_consent: bool = False,
    sms_consent: bool = False,
    consent_source: str = ConsentSource.FORM,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> Contact:
    """Create a contact. Raises ApplicationError for invalid fields, ConflictError (409) when the
    external id, email or phone belongs to another contact."""
    _check_source(consent_source)
    profile = clean_profile(
        {
            "external_id": external_id,
            "name": name,
            "email": email,
            "phone": phone,
            "preferred_language": preferred_language,
            "attributes": attributes,
        },
        phone_region=phone_region,
    )
    if not (profile["name"] or profile["email"] or profile["phone"] or profile["external_id"]):
        raise ApplicationError(
            _("Give at least a name, an email, a phone number or an external id."),
            code="empty_contact",
        )
    _check_not_duplicate(organization=organization, contact=None, profile=profile)
    contact = Contact(organization=organization, **profile)
    now = timezone.now()
    _apply_consent(contact, Channel.EMAIL, email_consent, consent_source, now)
    _apply_consent(contact, Channel.SMS, sms_consent, consent_source, now)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        # Two requests raced past the check with the same external id; the constraint decided.
        raise ConflictError(
            _("Another contact has this external id already."),
            code="duplicate_contact",
            extra={"field": "external_id"},
        ) from None
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.contact.created",
        target=contact,
        data={"consent": {"email": email_consent, "sms": sms_consent}, "source": consent_source},
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: Actor | None,
    organization,
    contact: Contact,
    consent_source: str = ConsentSource.FORM,
    opt_out_reason: str = "",
    phone_region: str = DEFAULT_PHONE_REGION,
    **changes: Any,
) -> Contact:
    """Change the fields given in `changes` (profile fields, `email_consent`, `sms_consent`,
    `email_opted_out`, `sms_opted_out`); others stay. The audit entry lists field names, never
    values. Raises ApplicationError / ConflictError like `contact_create`."""
    unknown = set(changes) - set(PROFILE_FIELDS) - set(CONSENT_FIELDS) - set(OPT_OUT_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="unknown_fields",
        )
    _check_source(consent_source)
    contact = Contact.objects.select_for_update().get(pk=contact.pk, organization=organization)
    profile = clean_profile(changes, phone_region=phone_region)
    _check_not_duplicate(organization=organization, contact=contact, profile=profile)
    changed = [field for field, value in profile.items() if getattr(contact, field) != value]
    for field in changed:
        setattr(contact, field, profile[field])
    if "email" in changed and contact.email_bounced_at is not None:
        contact.email_bounced_at, contact.email_bounce_reason = None, ""  # a new address to try
    now = timezone.now()
    for channel in Channel.values:
        if changes.get(f"{channel}_consent") is not None and _apply_consent(
            contact, channel, bool(changes[f"{channel}_consent"]), consent_source, now
        ):
            changed.append(f"{channel}_consent")
        if changes.get(f"{channel}_opted_out") is not None and _apply_opt_out(
            contact, channel, bool(changes[f"{channel}_opted_out"]), opt_out_reason, now
        ):
            changed.append(f"{channel}_opted_out")
    if not changed:
        return contact
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ConflictError(
            _("Another contact has this external id already."),
            code="duplicate_contact",
            extra={"field": "external_id"},
        ) from None
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.contact.updated",
        target=contact,
        data={"fields": changed, "source": consent_source},
    )
    for channel in Channel.values:
        if f"{channel}_opted_out" in changed and changes[f"{channel}_opted_out"]:
            event_emit(
                organization=organization,
                type=EventType.CONTACT_UNSUBSCRIBED,
                data=_unsubscribed_webhook_data(contact, channel),
            )
    return contact


def _unsubscribed_webhook_data(contact: Contact, channel: str) -> dict:
    """The `data` of a `contact.unsubscribed` webhook event (docs/webhooks.md)."""
    return {
        "contact": contact_webhook_data(contact),
        "channel": channel,
        "reason": getattr(contact, f"{channel}_opt_out_reason"),
        "unsubscribed_at": getattr(contact, f"{channel}_opted_out_at").isoformat(),
    }


@transaction.atomic
def contact_set_consent(
    *, actor: Actor | None, organization, contact: Contact, channel: str, given: bool, source: str
) -> Contact:
    """Give or withdraw consent for one channel; doing it twice changes nothing."""
    return contact_update(
        actor=actor,
        organization=organization,
        contact=contact,
        consent_source=source,
        **{f"{Channel(channel).value}_consent": given},
    )


@transaction.atomic
def contact_opt_out(
    *, actor: Actor | None, organization, contact: Contact, channel: str, reason: str
) -> Contact:
    """Stop every later send on `channel` (unsubscribe link, SMS STOP, a request by phone).

    Idempotent: the first opt-out's time and reason are kept."""
    return contact_update(
        actor=actor,
        organization=organization,
        contact=contact,
        opt_out_reason=reason,
        **{f"{Channel(channel).value}_opted_out": True},
    )


@transaction.atomic
def contact_mark_bounced(*, organization, contact: Contact, reason: str) -> bool:
    """Stop sending email to the contact's address: the provider reported a hard bounce.

    Idempotent: the first bounce's time and reason are kept; returns whether anything changed.
    Changing the email address (`contact_update`) clears the mark."""
    marked = Contact.objects.filter(
        pk=contact.pk, organization=organization, email_bounced_at__isnull=True
    ).update(email_bounced_at=timezone.now(), email_bounce_reason=reason[:300])
    if marked:
        activity_record(
            organization=organization,
            actor=None,
            action="distribution.contact.email_bounced",
            target=contact,
        )
    return bool(marked)


@transaction.atomic
def contact_opt_in(*, actor: Actor | None, organization, contact: Contact, channel: str) -> Contact:
    """Withdraw an opt-out (SMS START); consent is a separate question and is not changed."""
    return contact_update(
        actor=actor,
        organization=organization,
        contact=contact,
        **{f"{Channel(channel).value}_opted_out": False},
    )


def _moment(value) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def contact_export(*, actor: Actor, organization, contact: Contact) -> dict[str, Any]:
    """Everything stored about the contact, as JSON-ready data (GDPR access request).

    Holds the profile, consent, the audit trail, every invitation with its status history, and
    every response given through one of those invitations with its answers (in the shape of the
    responses API, plus the question text in the response's language). The number of queries
    does not grow with the number of invitations or responses.

    Writes `distribution.contact.exported` to the audit log: each read of personal data is
    accounted for.
    """
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.contact.exported",
        target=contact,
    )
    consent = {}
    for channel in Channel.values:
        state = contact.consent_for(channel)
        consent[channel] = {
            "given": state.given,
            "given_at": _moment(state.given_at),
            "source": state.source,
            "opted_out": state.opted_out,
            "opted_out_at": _moment(state.opted_out_at),
            "opt_out_reason": state.opt_out_reason,
        }
    return {
        "format": "cxplatform.contact-export.v1",
        "exported_at": timezone.now().isoformat(),
        "organization": {"name": organization.name, "id": organization.public_id},
        "contact": {
            "id": contact.public_id,
            "external_id": contact.external_id,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "preferred_language": contact.preferred_language,
            "attributes": contact.attributes,
            "created_at": _moment(contact.created_at),
            "updated_at": _moment(contact.updated_at),
        },
        "consent": consent,
        "activity": [
            {
                "at": _moment(entry.created_at),
                "action": entry.action,
                "by": entry.actor_label,
                "data": entry.data,
            }
            for entry in contact_activity(organization=organization, contact=contact, limit=1000)
        ],
        "invitations": [
            _invitation_export(invitation)
            for invitation in contact_invitations(organization=organization, contact=contact)
        ],
        "responses": [
            _response_export(response)
            for response in contact_responses(organization=organization, contact=contact)
        ],
    }


def _invitation_export(invitation) -> dict[str, Any]:
    return {
        "id": invitation.public_id,
        "survey": {"id": invitation.survey.public_id, "name": invitation.survey.name},
        "touchpoint": invitation.touchpoint.public_id if invitation.touchpoint_id else None,
        "campaign": invitation.campaign.public_id if invitation.campaign_id else None,
        "channel": invitation.channel,
        "address": invitation.address,
        "language": invitation.language,
        "hidden_fields": invitation.hidden_fields,
        "status": invitation.status,
        "skip_reason": invitation.skip_reason,
        "failure_reason": invitation.failure_reason,
        "created_at": _moment(invitation.created_at),
        "scheduled_for": _moment(invitation.scheduled_for),
        "sent_at": _moment(invitation.sent_at),
        "answered_at": _moment(invitation.answered_at),
        "reminders_sent": invitation.reminders_sent,
        "events": [
            {"status": event.status, "detail": event.detail, "at": _moment(event.created_at)}
            for event in invitation.events.all()
        ],
    }


def _response_export(response) -> dict[str, Any]:
    answers = list(response.answers.all())
    fallback = response.survey.default_language
    return {
        "id": response.public_id,
        "survey": {"id": response.survey.public_id, "name": response.survey.name},
        "touchpoint": (
            {"id": response.touchpoint.public_id, "name": response.touchpoint.name}
            if response.touchpoint_id
            else None
        ),
        "submitted_at": _moment(response.submitted_at),
        "channel": response.channel,
        "language": response.language,
        "hidden_fields": response.hidden_fields,
        "ip_address": response.ip_address,
        "user_agent": response.user_agent,
        # Answer values as the responses API gives them, so an export and the API read alike.
        "answers": [
            {**data, "text": answer.question.text(response.language, fallback)}
            for answer, data in zip(answers, AnswerSerializer(answers, many=True).data, strict=True)
        ],
    }


@transaction.atomic
def contact_erase(*, actor: Actor, organization, contact: Contact) -> str:
    """Erase the contact and its personal data (GDPR erasure); return its former public id.

    The row is deleted. The audit entry keeps only the public id (random, meaningless once the
    row is gone) and the actor; earlier audit entries of the contact never held personal data
    (see `Contact.__str__`). Invitations and responses that refer to the contact must be
    unlinked here, in this transaction: their address, hidden fields and personal link are
    blanked and the contact link nulled (`invitations.unlink_contact`); their responses stay,
    with hidden fields, IP address and user agent blanked.
    """
    public_id = contact.public_id
    # Responses are kept (anonymous) for the metrics, but they hold copies of the invitation's
    # hidden fields and maybe the respondent's IP address and browser; blank those first, while
    # the invitations still show which responses were this person's.
    contact_responses(organization=organization, contact=contact).update(
        hidden_fields={}, ip_address=None, user_agent=""
    )
    unlink_contact(organization=organization, contact=contact)
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.contact.erased",
        target=contact,
    )
    Contact.objects.filter(pk=contact.pk, organization=organization).delete()
    return public_id
