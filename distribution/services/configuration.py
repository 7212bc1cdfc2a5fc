"""What CX managers configure about sending: the organization's sending settings and each survey's
invitation email texts. Services (writes) and the selectors that read them for pages and the API.

Sending code reads the settings through `invitations.settings_for` and the email texts through
`messaging.render_survey_email`; nothing here caches them, so a change applies to the next
invitation queued or sent.
"""

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.services import activity_record
from distribution.models import DistributionSettings, SurveyEmailTemplate
from distribution.services.invitations import settings_for
from distribution.services.messaging import texts_for
from surveys.models import Survey
from tenancy.actors import Actor
from tenancy.enums import Language

# Contact-frequency rules (docs: METRICS.md "Contact frequency"): 0 turns a rule off; more than a
# year would silence a contact for good, which is what an opt-out is for.
DAY_BOUNDS: dict[str, tuple[int, int]] = {
    "survey_throttle_days": (0, 365),
    "quarantine_days": (0, 365),
    # A personal link must work at least a day; `_new_invitation` reads 0 as "never expires".
    "link_expiry_days": (1, 365),
}
SETTINGS_FIELDS = (*DAY_BOUNDS, "sms_sender")
# Alphanumeric sender ids: up to 11 characters (the GSM limit), not only digits, or carriers
# read them as a number.
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")
SUBJECT_MAX = SurveyEmailTemplate._meta.get_field("subject").max_length
INTRO_MAX = 2000
LANGUAGES = tuple(Language.values)
SMS_SENDER_HELP = gettext_lazy(
    "A phone number in international form (+358 40 123 4567) or a sender name of 1–11 "
    "letters and digits with at least one letter (AcmeOy)."
)


# --- sending settings --------------------------------------------------------------------------


def distribution_settings_get(*, organization) -> DistributionSettings:
    """The organization's sending settings; the defaults (unsaved) until someone changes them."""
    return settings_for(organization)


def clean_sms_sender(value: str | None) -> str:
    """A sender name as typed, or a phone number in E.164; "" means the platform's sender.

    Raises ApplicationError naming `sms_sender`."""
    refused = ApplicationError(
        str(SMS_SENDER_HELP), code="invalid_sms_sender", extra={"field": "sms_sender"}
    )
    if value is not None and not isinstance(value, str):
        raise refused
    sender = (value or "").strip()
    if not sender:
        return ""
    if any(character.isalpha() for character in sender):
        if ALPHANUMERIC_SENDER.match(sender):
            return sender
        raise refused
    number = sender.replace(" ", "").replace("-", "")
    number = "+" + number[2:] if number.startswith("00") else number
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise refused from None
    if not phonenumbers.is_valid_number(parsed):
        raise refused
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def sms_sender_for(organization) -> str:
    """What an organization's SMS go out from: its own sender, else the installation's shared
    number (`TWILIO_DEFAULT_SENDER`)."""
    return settings_for(organization).sms_sender or settings.TWILIO_DEFAULT_SENDER


def sender_takes_replies(sender: str) -> bool:
    """Whether replies to SMS sent from `sender` are read as answers: only for a phone number of
    an organization's own. A sender name cannot be answered, and the shared number texts people
    for every organization without one, so a reply to it could belong to any of them: its
    invitations carry only the link and its replies are never given to an organization."""
    return sender.startswith("+") and sender != settings.TWILIO_DEFAULT_SENDER


def _check_own_sender(organization, sender: str) -> None:
    """A number is one organization's own: replies to it are matched to that organization."""
    if not sender.startswith("+"):
        return
    taken = (
        DistributionSettings.all_objects.filter(sms_sender=sender)
        .exclude(organization=organization)
        .exists()
    )
    if taken or sender == settings.TWILIO_DEFAULT_SENDER:
        raise ApplicationError(
            _("This number cannot be your sender: use a number that only your organization uses."),
            code="sms_sender_taken",
            extra={"field": "sms_sender"},
        )


def _clean_settings(organization, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(SETTINGS_FIELDS))
    if unknown:
        raise ApplicationError(
            _("Unknown setting: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_field",
            extra={"field": unknown[0]},
        )
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name == "sms_sender":
            try:
                cleaned[name] = clean_sms_sender(value)
                _check_own_sender(organization, cleaned[name])
            except ApplicationError as error:
                errors[name] = [error.message]
            continue
        low, high = DAY_BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [
                _("Enter a whole number of days from %(low)s to %(high)s.")
                % {"low": low, "high": high}
            ]
            continue
        cleaned[name] = value
    if errors:
        first = next(name for name in SETTINGS_FIELDS if name in errors)
        message = errors[first][0] if len(errors) == 1 else _("Some settings are not valid.")
        raise ApplicationError(
            message, code="invalid_settings", extra={"field": first, "fields": errors}
        )
    return cleaned


@transaction.atomic
def distribution_settings_update(
    *, actor: Actor | None, organization, **fields: Any
) -> DistributionSettings:
    """Change some of the sending settings (any of `SETTINGS_FIELDS`).

    The next invitation queued (frequency rules, link expiry) or SMS sent (sender) uses them;
    invitations already queued keep their link. Writes `distribution.settings.updated` with the
    names of the fields that changed; saving the same values changes and records nothing.
    Raises ApplicationError (`invalid_settings`, every field's errors in `extra["fields"]`)."""
    cleaned = _clean_settings(organization, fields)
    current, _created = DistributionSettings.objects.select_for_update().get_or_create(
        organization=organization
    )
    changed = sorted(name for name, value in cleaned.items() if getattr(current, name) != value)
    if not changed:
        return current
    for name in changed:
        setattr(current, name, cleaned[name])
    current.save(update_fields=[*changed, "updated_at"])
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.settings.updated",
        target=current,
        data={"fields": changed},
    )
    return current


# --- invitation email texts --------------------------------------------------------------------


@dataclass(frozen=True)
class EmailTexts:
    """One language of a survey's invitation email: what is saved ("" = the default) and the
    default it falls back to."""

    language: str
    template: SurveyEmailTemplate | None
    default_subject: str
    default_intro: str
    offered: bool  # the survey is answered in this language (else its emails use the default)

    @property
    def subject(self) -> str:
        return self.template.subject if self.template else ""

    @property
    def intro(self) -> str:
        return self.template.intro if self.template else ""

    @property
    def name(self) -> str:
        return Language(self.language).label


def default_email_texts(*, organization, language: str) -> tuple[str, str]:
    """The subject and introduction an email has when its survey has no texts of its own."""
    texts = texts_for(language)
    return texts["subject"] % {"org": organization.name}, texts["intro"]


def survey_email_template_list(*, organization, survey: Survey | None = None) -> QuerySet:
    templates = SurveyEmailTemplate.objects.filter(organization=organization).select_related(
        "survey"
    )
    if survey is not None:
        templates = templates.filter(survey=survey)
    return templates.order_by("survey__name", "survey_id", "language")


def access_survey_email_template(*, organization, public_id: str) -> SurveyEmailTemplate:
    """Raises Http404 when the template is missing or another organization's."""
    found = survey_email_template_list(organization=organization).filter(public_id=public_id)
    template = found.first()
    if template is None:
        raise Http404
    return template


def survey_email_texts(*, organization, survey: Survey) -> list[EmailTexts]:
    """fi, sv and en of the survey's invitation email, with the default texts (one query)."""
    saved = {
        template.language: template
        for template in SurveyEmailTemplate.objects.filter(organization=organization, survey=survey)
    }
    result = []
    for language in LANGUAGES:
        subject, intro = default_email_texts(organization=organization, language=language)
        result.append(
            EmailTexts(
                language=language,
                template=saved.get(language),
                default_subject=subject,
                default_intro=intro,
                offered=language in (survey.languages or []),
            )
        )
    return result


def _clean_texts(subject: str, intro: str) -> tuple[str, str]:
    # A line break in a subject would be a header injection; Django refuses it at send time.
    subject = " ".join((subject or "").split())
    intro = "\n".join(line.rstrip() for line in (intro or "").strip().splitlines())
    if len(subject) > SUBJECT_MAX:
        raise ApplicationError(
            _("The subject is at most %(n)s characters.") % {"n": SUBJECT_MAX},
            code="too_long",
            extra={"field": "subject"},
        )
    if len(intro) > INTRO_MAX:
        raise ApplicationError(
            _("The introduction is at most %(n)s characters.") % {"n": INTRO_MAX},
            code="too_long",
            extra={"field": "intro"},
        )
    if intro and not subject:
        raise ApplicationError(
            _("Write a subject too, or leave both empty to use the default texts."),
            code="subject_required",
            extra={"field": "subject"},
        )
    return subject, intro


def _check_target(organization, survey: Survey, language: str) -> None:
    if survey.organization_id != organization.pk:
        raise ApplicationError(_("No such survey."), code="invalid", extra={"field": "survey"})
    if language not in LANGUAGES:
        raise ApplicationError(
            _("Use fi, sv or en."), code="invalid_language", extra={"field": "language"}
        )


def _record(organization, actor, action: str, survey: Survey, language: str, **data) -> None:
    activity_record(
        organization=organization,
        actor=actor,
        action=action,
        target=survey,
        data={"language": language, **data},
    )


@transaction.atomic
def survey_email_template_save(
    *, actor: Actor | None, organization, survey: Survey, language: str, subject: str, intro: str
) -> SurveyEmailTemplate | None:
    """Set the survey's invitation subject and introduction in one language.

    An empty introduction uses the default one; an empty subject and introduction remove the
    texts (back to the defaults) and return None. Writes `distribution.email_template.saved`
    (or `.deleted`) only when something changed. Raises ApplicationError naming the field."""
    _check_target(organization, survey, language)
    subject, intro = _clean_texts(subject, intro)
    existing = (
        SurveyEmailTemplate.objects.select_for_update()
        .filter(organization=organization, survey=survey, language=language)
        .first()
    )
    if not subject:
        if existing is not None:
            survey_email_template_delete(actor=actor, organization=organization, template=existing)
        return None
    if existing is None:
        template, created = SurveyEmailTemplate.objects.select_for_update().get_or_create(
            organization=organization,
            survey=survey,
            language=language,
            defaults={"subject": subject, "intro": intro},
        )
    else:
        template, created = existing, False
    if created:
        changed = ["intro", "subject"]
    else:
        changed = [
            name
            for name, value in (("intro", intro), ("subject", subject))
            if getattr(template, name) != value
        ]
        if not changed:
            return template
        template.subject, template.intro = subject, intro
        template.save(update_fields=[*changed, "updated_at"])
    _record(
        organization,
        actor,
        "distribution.email_template.saved",
        survey,
        language,
        template=template.public_id,
        fields=changed,
    )
    return template


@transaction.atomic
def survey_email_template_create(
    *, actor: Actor | None, organization, survey: Survey, language: str, subject: str, intro: str
) -> SurveyEmailTemplate:
    """A new subject and introduction for one language of a survey (the API's POST).

    Raises ApplicationError `email_template_exists` when the language already has texts (one
    per survey and language), and the errors of `survey_email_template_save`."""
    _check_target(organization, survey, language)
    subject, intro = _clean_texts(subject, intro)
    if not subject:
        raise ApplicationError(
            _("Write a subject."), code="subject_required", extra={"field": "subject"}
        )
    exists = ApplicationError(
        _("This survey already has its own email texts in this language; change or delete them."),
        code="email_template_exists",
        extra={"field": "language"},
    )
    if SurveyEmailTemplate.objects.filter(
        organization=organization, survey=survey, language=language
    ).exists():
        raise exists
    try:
        with transaction.atomic():
            template = SurveyEmailTemplate.objects.create(
                organization=organization,
                survey=survey,
                language=language,
                subject=subject,
                intro=intro,
            )
    except IntegrityError:  # a concurrent create won; the unique constraint decided
        raise exists from None
    _record(
        organization,
        actor,
        "distribution.email_template.saved",
        survey,
        language,
        template=template.public_id,
        fields=["intro", "subject"],
    )
    return template


@transaction.atomic
def survey_email_template_delete(
    *, actor: Actor | None, organization, template: SurveyEmailTemplate
) -> None:
    """Remove a language's own texts: its emails use the default texts again.

    Writes `distribution.email_template.deleted`."""
    survey, language, public_id = template.survey, template.language, template.public_id
    template.delete()
    _record(
        organization,
        actor,
        "distribution.email_template.deleted",
        survey,
        language,
        template=public_id,
    )
