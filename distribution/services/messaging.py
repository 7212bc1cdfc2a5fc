"""What an invitation says and how it leaves: one transport per channel.

`EmailTransport` sends through Django's email API (SMTP locally, django-anymail in production);
`SmsTransport` through the twilio SDK, whose base URL a setting can point at a local fake.
Both raise `TransientSendError` (retry later) or `PermanentSendError` (record as failed).
"""

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from distribution.enums import Channel
from distribution.models import Invitation, SurveyEmailTemplate
from surveys.instruments import SCORE_TYPES, scale_of

# v2: tokens of the old salt carried internal ids and never expired; they no longer verify.
UNSUBSCRIBE_SALT = "distribution.unsubscribe.v2"

DEFAULT_TEXTS = {
    "fi": {
        "subject": "Kerro mielipiteesi: %(org)s",
        "intro": "Kiitos, että asioit kanssamme. Vastaaminen vie minuutin.",
        "answer": "Vastaa kyselyyn",
        "unsubscribe": "En halua enää kyselyitä sähköpostilla",
        "sms": "%(org)s: Miten onnistuimme? Vastaa numerolla tai %(url)s",
        "sms_link": "%(org)s: Miten onnistuimme? Vastaa täällä: %(url)s",
        "link_only": "Tähän numeroon lähetettyjä vastauksia ei lueta. Vastaa viestin linkin kautta.",
        "followup": "Kiitos! Kerro vielä lyhyesti miksi.",
        "thanks": "Kiitos vastauksestasi!",
        "help": "Vastaa numerolla %(low)s-%(high)s. Lopeta viestit: LOPETA",
        "stopped": "Et saa enää tekstiviestejä meiltä. Palaa: START",
        "started": "Tekstiviestit palautettu. Lopeta: LOPETA",
    },
    "sv": {
        "subject": "Berätta vad du tycker: %(org)s",
        "intro": "Tack för att du handlade hos oss. Det tar en minut att svara.",
        "answer": "Svara på enkäten",
        "unsubscribe": "Jag vill inte få fler enkäter per e-post",
        "sms": "%(org)s: Hur lyckades vi? Svara med en siffra eller %(url)s",
        "sms_link": "%(org)s: Hur lyckades vi? Svara här: %(url)s",
        "link_only": "Svar till det här numret läses inte. Svara via länken i meddelandet.",
        "followup": "Tack! Berätta gärna kort varför.",
        "thanks": "Tack för ditt svar!",
        "help": "Svara med en siffra %(low)s-%(high)s. Avsluta: SLUTA",
        "stopped": "Du får inga fler sms från oss. Återuppta: START",
        "started": "Sms återupptagna. Avsluta: SLUTA",
    },
    "en": {
        "subject": "Tell us what you think: %(org)s",
        "intro": "Thank you for choosing us. Answering takes a minute.",
        "answer": "Answer the survey",
        "unsubscribe": "Stop sending me surveys by email",
        "sms": "%(org)s: How did we do? Reply with a number or %(url)s",
        "sms_link": "%(org)s: How did we do? Answer here: %(url)s",
        "link_only": "Replies to this number are not read. Please answer through the link.",
        "followup": "Thanks! Tell us briefly why.",
        "thanks": "Thank you for your answer!",
        "help": "Reply with a number %(low)s-%(high)s. To stop: STOP",
        "stopped": "You will get no more texts from us. Reply START to resume.",
        "started": "Texts resumed. Reply STOP to stop.",
    },
}
SMS_SEGMENT = 160


class TransientSendError(Exception):
    """The provider could not take the message now; try again later."""


class PermanentSendError(Exception):
    """The provider refused the message for good (bad address, blocked): record it."""


@dataclass
class SendResult:
    provider_message_id: str = ""


def texts_for(language: str) -> dict[str, str]:
    return DEFAULT_TEXTS.get(language) or DEFAULT_TEXTS["en"]


def public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def survey_url(token: str, **query) -> str:
    url = public_url(reverse("surveys:respond_personal", args=[token]))
    return f"{url}?{urlencode(query)}" if query else url


def unsubscribe_token(contact_public_id: str) -> str:
    """The email unsubscribe link's token: the contact's public id, dated and signed."""
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(contact_public_id)


def read_unsubscribe_token(token: str) -> str:
    """The contact's public id. Raises signing.BadSignature for a forged, altered or old-format
    token, and its subclass SignatureExpired after UNSUBSCRIBE_LINK_DAYS."""
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(
        token, max_age=timedelta(days=settings.UNSUBSCRIBE_LINK_DAYS)
    )


def first_question(survey):
    version = survey.current_version
    if version is None:
        return None
    return version.questions.order_by("position", "id").first()


def score_links(token: str, question) -> list[dict]:
    """One link per scale value when the first question is a score question."""
    if question is None or question.type not in SCORE_TYPES:
        return []
    scale = scale_of(question)
    if not scale or None in scale:
        return []
    return [
        {"value": value, "url": survey_url(token, score=value)}
        for value in range(scale[0], scale[1] + 1)
    ]


def render_email(invitation: Invitation, organization) -> dict:
    unsubscribe = public_url(
        reverse(
            "distribution:unsubscribe",
            args=[unsubscribe_token(invitation.contact.public_id)],
        )
    )
    return render_survey_email(
        survey=invitation.survey,
        organization=organization,
        language=invitation.language or invitation.survey.default_language,
        token=invitation.personal_link.token,
        unsubscribe_url=unsubscribe,
    )


def render_survey_email(
    *, survey, organization, language: str, token: str, unsubscribe_url: str
) -> dict:
    """The invitation email of `survey` for a personal link token; the email preview page calls
    it with a sample token, so it must not need an `Invitation` row."""
    texts = dict(texts_for(language))
    custom = SurveyEmailTemplate.all_objects.filter(
        organization_id=survey.organization_id, survey=survey, language=language
    ).first()
    subject = custom.subject if custom else texts["subject"] % {"org": organization.name}
    intro = custom.intro if custom and custom.intro else texts["intro"]
    question = first_question(survey)
    links = score_links(token, question)
    labels = (question.labels or {}).get(language, {}) if question is not None else {}
    context = {
        "organization": organization,
        "language": language,
        "subject": subject,
        "intro": intro,
        "texts": texts,
        "question": question.text(language, survey.default_language) if question else "",
        "labels": labels,
        "score_links": links,
        "survey_url": survey_url(token),
        "unsubscribe_url": unsubscribe_url,
        "brand_color": organization.brand_color,
    }
    return {
        "subject": subject,
        "text": render_to_string("distribution/email/invitation.txt", context),
        "html": render_to_string("distribution/email/invitation.html", context),
        "unsubscribe_url": unsubscribe_url,
    }


def email_send(message: EmailMultiAlternatives) -> None:
    """Send one message, turning SMTP and network failures into TransientSendError (try again
    later) or PermanentSendError (5xx answers, refused recipients)."""
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentSendError(f"recipient refused: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentSendError(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise TransientSendError(f"{error.smtp_code}") from error
    except (OSError, smtplib.SMTPException) as error:
        raise TransientSendError(str(error) or type(error).__name__) from error


class EmailTransport:
    channel = Channel.EMAIL

    def send(self, invitation: Invitation, organization) -> SendResult:
        rendered = render_email(invitation, organization)
        message_id = make_msgid(idstring=invitation.public_id, domain="cxplatform")
        message = EmailMultiAlternatives(
            subject=rendered["subject"],
            body=rendered["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[invitation.address],
            headers={
                "List-Unsubscribe": f"<{rendered['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Invitation": invitation.public_id,
                "Message-ID": message_id,
            },
        )
        message.attach_alternative(rendered["html"], "text/html")
        # django-anymail hands metadata to the provider, which returns it in webhook events.
        message.metadata = {"invitation": invitation.public_id}
        message.tags = ["invitation"]
        email_send(message)
        status = getattr(message, "anymail_status", None)  # set by anymail's backends only
        provider_id = status.message_id if status is not None and status.message_id else None
        return SendResult(provider_message_id=str(provider_id or message_id.strip("<>"))[:100])


def twilio_client():
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    # The SDK waits forever by default; a hung provider must not hold a worker.
    http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS)
    client = Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
    )
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


def sms_body(invitation: Invitation, organization, *, replies: bool) -> str:
    """The invitation SMS, inviting a reply by number only when replies are read (`replies`);
    the organization name is shortened so it fits one segment."""
    text = texts_for(invitation.language)["sms" if replies else "sms_link"]
    url = survey_url(invitation.personal_link.token)
    body = text % {"org": organization.name, "url": url}
    overflow = len(body) - SMS_SEGMENT
    if overflow > 0:
        name = organization.name[: max(3, len(organization.name) - overflow)]
        body = text % {"org": name, "url": url}
    return body


def sms_send(*, to: str, body: str, sender: str, status_callback: str = "") -> str:
    """Send one SMS; returns the message sid."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    options = {"status_callback": status_callback} if status_callback else {}
    try:
        message = twilio_client().messages.create(
            to=to, from_=sender or settings.TWILIO_DEFAULT_SENDER, body=body, **options
        )
    except TwilioRestException as error:
        if error.status == 429 or error.status >= 500:
            raise TransientSendError(f"twilio {error.status}: {error.msg}") from error
        raise PermanentSendError(f"twilio {error.code or error.status}: {error.msg}") from error
    except (TwilioException, OSError) as error:
        raise TransientSendError(str(error)) from error
    return message.sid


class SmsTransport:
    channel = Channel.SMS

    def send(
        self, invitation: Invitation, organization, *, sender: str, replies: bool
    ) -> SendResult:
        callback = (
            public_url(reverse("distribution:twilio_status")) + f"?ivt={invitation.public_id}"
        )
        sid = sms_send(
            to=invitation.address,
            body=sms_body(invitation, organization, replies=replies),
            sender=sender,
            status_callback=callback,
        )
        return SendResult(provider_message_id=sid)


TRANSPORTS = {Channel.EMAIL: EmailTransport, Channel.SMS: SmsTransport}
