"""Two-way SMS: replies to invitations, STOP/START keywords, delivery status callbacks.

A reply is matched to the newest SMS invitation sent to that number from the number the reply
was sent to (Twilio's `From` and `To`), so organizations with numbers of their own never see
each other's replies. It is read as an answer only when it came to an organization's own number
and only that organization texted the person from it: replies to the installation's shared
number (`TWILIO_DEFAULT_SENDER`), whose invitations carry only the link, reach no organization
and get at most one "please answer through the link" a day. STOP words (in Finnish, Swedish
and English, any case, punctuation or extra words) opt the number out at once and are confirmed
once; START opts back in. Both act in every organization that texted the number from that
sender: the person cannot tell them apart, and Twilio itself blocks a sender for a number that
sent STOP. A number answers the first (score) question: it is kept on the invitation (and shown
on the personal link), the follow-up question is asked, and the next reply becomes the comment
and completes the response, whatever the web page saved meanwhile; when no comment comes within
SMS_COMMENT_WAIT_HOURS, `sms_complete_waiting` records the score alone. A reply that is not
understood gets one helpful message, then silence.
"""

import hashlib
import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.timezone import now

from core import handles
from core.exceptions import ApplicationError
from core.models import HandleKind
from core.scoping import tenant_scope
from distribution.enums import Channel, InvitationStatus
from distribution.models import Contact, InboundSms, Invitation
from distribution.services.configuration import sender_takes_replies
from distribution.services.contacts import contact_opt_in, contact_opt_out
from distribution.services.invitations import invitation_delivery_update, invitations_mark_answered
from distribution.services.messaging import texts_for
from surveys.enums import Channel as ResponseChannel
from surveys.exceptions import AnswerErrors
from surveys.instruments import SCORE_TYPES, Cleaned, condition_holds, scale_of
from surveys.services.responses import personal_link_save_partial, response_submit

STOP_WORDS = {
    "stop",
    "stopp",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "lopeta",
    "lopetus",
    "sluta",
    "avsluta",
    "avbryt",
}
START_WORDS = {"start", "unstop", "aloita", "börja", "borja"}
AWAITING_COMMENT = "awaiting_comment"
DONE = "done"
SCORE_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*(.*)$", re.S)
SID_LENGTH = InboundSms._meta.get_field("message_sid").max_length
LINK_ONLY_REPLY_SECONDS = 24 * 3600
# Twilio delivery states -> ours (queued/sending/sent/accepted change nothing).
TWILIO_STATUSES = {
    "delivered": InvitationStatus.DELIVERED,
    "undelivered": InvitationStatus.FAILED,
    "failed": InvitationStatus.FAILED,
}


def _words(body: str) -> list[str]:
    text = unicodedata.normalize("NFC", body or "").lower()
    return re.findall(r"[\wåäö]+", text)


def keyword(body: str) -> str:
    """ "stop", "start" or "" — the first word decides ("Stop please!" and "LOPETA." stop;
    a comment that only mentions stopping later in a sentence does not)."""
    words = _words(body)
    if not words:
        return ""
    if words[0] in STOP_WORDS:
        return "stop"
    if words[0] in START_WORDS and len(words) <= 2:
        return "start"
    return ""


def _sent_to(phone: str, sender: str):
    return Invitation.all_objects.filter(
        channel=Channel.SMS,
        address=phone,
        sender=sender,
        sent_at__isnull=False,
        contact__isnull=False,
    )


def _replies_read(phone: str, sender: str) -> bool:
    """A reply is an answer only when it came to an organization's own number and that one
    organization alone texted the person from it: nobody else's reply text can reach it."""
    if not sender_takes_replies(sender):
        return False
    texted_by = _sent_to(phone, sender).order_by().values_list("organization_id", flat=True)
    return len(texted_by.distinct()[:2]) == 1


def _link_only_reply(phone: str, sender: str, language: str) -> str:
    """At most once a day per person and number, so an auto-responder gets no conversation."""
    key = "sms:link-only:" + hashlib.sha256(f"{phone}|{sender}".encode()).hexdigest()[:40]
    if not cache.add(key, 1, timeout=LINK_ONLY_REPLY_SECONDS):
        return ""
    return texts_for(language)["link_only"]


def _sid_key(message_sid: str) -> str:
    """What a reply is remembered by: Twilio's sid (34 characters), or the SHA-256 of a longer
    one (64 hex characters, the column's size), so its redelivery is still recognised."""
    if len(message_sid) <= SID_LENGTH:
        return message_sid
    return hashlib.sha256(message_sid.encode()).hexdigest()


def _invitation_for(phone: str, sender: str) -> Invitation | None:
    if not phone or not sender:
        return None
    return (
        _sent_to(phone, sender)
        .select_related("organization", "contact", "survey", "personal_link")
        .order_by("-sent_at", "-id")
        .first()
    )


def _score_question(invitation: Invitation):
    version = invitation.survey.current_version
    if version is None:
        return None, []
    questions = list(version.questions.order_by("position", "id"))
    if not questions or questions[0].type not in SCORE_TYPES:
        return None, questions
    return questions[0], questions


def _follow_up(questions, score_question, score: int):
    answers = {score_question.key: (score_question.type, Cleaned(value_int=score))}
    for question in questions[1:]:
        if question.type == "text" and condition_holds(question.condition, answers):
            return question
    return None


def _kept_score(invitation: Invitation, score_question) -> int | None:
    """The score the first reply gave. Conversations begun before it was kept on the invitation
    have it only among the link's unfinished answers, where the web page may have blanked it."""
    if invitation.sms_score is not None:
        return invitation.sms_score
    value = str((invitation.personal_link.partial_answers or {}).get(score_question.key, ""))
    low, high = scale_of(score_question)
    return int(value) if value.strip().isdecimal() and low <= int(value) <= high else None


def _submit(invitation: Invitation, answers: dict, *, submitted_at=None) -> bool:
    link = invitation.personal_link
    try:
        response = response_submit(
            organization=invitation.organization,
            survey=invitation.survey,
            answers=answers,
            channel=ResponseChannel.SMS,
            language=link.language,
            personal_link=link,
            submitted_at=submitted_at,
        )
    except (AnswerErrors, ApplicationError):
        return False
    Invitation.all_objects.filter(pk=invitation.pk).update(sms_state=DONE, sms_state_at=now())
    # The response_submitted signal does this after commit too; doing it here keeps the
    # conversation's state and the invitation's status in one transaction.
    invitations_mark_answered(organization_id=invitation.organization_id, response_id=response.pk)
    return True


def _converse(invitation: Invitation, body: str) -> str:
    language = invitation.language or invitation.survey.default_language
    texts = texts_for(language)
    link = invitation.personal_link
    if link is None or invitation.sms_state == DONE or hasattr(link, "response"):
        return ""
    score_question, questions = _score_question(invitation)
    if score_question is None:
        return ""
    waiting = invitation.sms_state == AWAITING_COMMENT
    if waiting and (score := _kept_score(invitation, score_question)) is not None:
        follow = _follow_up(questions, score_question, score)
        answers = {score_question.key: str(score)}
        if follow is not None:
            answers[follow.key] = body.strip()[:5000]
        return texts["thanks"] if _submit(invitation, answers) else ""
    # Not waiting for a comment (or no score was kept): this reply should be the score.
    low, high = scale_of(score_question)
    match = SCORE_REPLY.match(body or "")
    if match and low <= int(match.group(1)) <= high:
        score = int(match.group(1))
        rest = match.group(2).strip()
        follow = _follow_up(questions, score_question, score)
        if follow is None or rest:
            answers = {score_question.key: str(score)}
            if follow is not None:
                answers[follow.key] = rest[:5000]
            return texts["thanks"] if _submit(invitation, answers) else ""
        # Shown on the web page too, next to whatever it saved before.
        saved = {**(link.partial_answers or {}), score_question.key: str(score)}
        personal_link_save_partial(link=link, answers=saved)
        Invitation.all_objects.filter(pk=invitation.pk).update(
            sms_state=AWAITING_COMMENT, sms_state_at=now(), sms_score=score
        )
        return follow.text(language, invitation.survey.default_language) or texts["followup"]
    if invitation.sms_help_sent:
        return ""
    Invitation.all_objects.filter(pk=invitation.pk).update(sms_help_sent=True)
    return texts["help"] % {"low": low, "high": high}


def _keyword_reply(phone: str, sender: str, word: str, language: str) -> str:
    texts = texts_for(language)
    organization_ids = _sent_to(phone, sender).values("organization_id")
    contacts = Contact.all_objects.filter(
        organization_id__in=organization_ids, phone=phone
    ).select_related("organization")
    changed = False
    for contact in contacts:
        was_out = contact.sms_opted_out_at is not None
        with tenant_scope(contact.organization):
            if word == "stop" and not was_out:
                contact_opt_out(
                    actor=None,
                    organization=contact.organization,
                    contact=contact,
                    channel=Channel.SMS,
                    reason="SMS STOP reply",
                )
                changed = True
            elif word == "start" and was_out:
                contact_opt_in(
                    actor=None,
                    organization=contact.organization,
                    contact=contact,
                    channel=Channel.SMS,
                )
                changed = True
    if not changed:
        return ""  # confirmed once: a second STOP (or START) gets no answer
    return texts["stopped"] if word == "stop" else texts["started"]


def inbound_sms(
    *, message_sid: str, from_number: str, to_number: str, body: str
) -> tuple[str, bool]:
    """Act on one inbound SMS; returns (reply text or "", replayed). Idempotent per sid."""
    if not message_sid:
        return "", False  # Twilio always sends one; without it a redelivery could not be told
    sid = _sid_key(message_sid)
    replayed = _inbound_reply(sid)
    if replayed is not None:
        return replayed, True
    invitation = _invitation_for(from_number, to_number)
    if invitation is None:
        return "", False
    word = keyword(body)
    language = invitation.language or invitation.survey.default_language
    if not word and not _replies_read(from_number, to_number):
        if invitation.contact.sms_opted_out_at is not None:
            return "", False
        return _link_only_reply(from_number, to_number, language), False
    organization = invitation.organization
    with tenant_scope(organization), transaction.atomic():
        try:
            with transaction.atomic():
                record = InboundSms.all_objects.create(
                    organization=organization, message_sid=sid, invitation=invitation
                )
        except IntegrityError:
            return _inbound_reply(sid) or "", True
        invitation = Invitation.all_objects.select_for_update().get(
            organization_id=invitation.organization_id, pk=invitation.pk
        )
        if word:
            reply = _keyword_reply(from_number, to_number, word, language)
        elif invitation.contact and invitation.contact.sms_opted_out_at is not None:
            reply = ""
        else:
            reply = _converse(invitation, body)
        record.reply = reply[:400]
        record.save(update_fields=["reply"])
    return reply, False


def _inbound_reply(sid: str) -> str | None:
    """The reply given to an SMS already acted on, or None when this one is new."""
    found = handles.resolve(HandleKind.INBOUND_SMS, sid)
    if found is None:
        return None
    record = InboundSms.all_objects.filter(
        organization_id=found.organization_id, pk=found.object_id
    ).first()
    return record.reply if record is not None else None


def status_callback(
    *, invitation_public_id: str, message_sid: str, status: str, error: str
) -> bool:
    """Twilio's delivery report for one invitation; unknown or repeated reports change nothing."""
    ours = TWILIO_STATUSES.get(status)
    if ours is None:
        return False
    found = handles.resolve(HandleKind.PROVIDER_MESSAGE, message_sid)
    if found is None:
        return False
    invitation = Invitation.all_objects.filter(
        organization_id=found.organization_id,
        pk=found.object_id,
        public_id=invitation_public_id,
        provider_message_id=message_sid,
    ).first()
    if invitation is None:
        return False
    reason = f"twilio {status} {error}".strip() if ours == InvitationStatus.FAILED else ""
    return invitation_delivery_update(invitation=invitation, status=ours, reason=reason)


def sms_complete_waiting(*, invitation: Invitation) -> bool:
    """Record the score of a conversation whose follow-up comment never came, as answered at
    the time of the score reply. Idempotent: the state moves on under a row lock, and a
    response already made through the link is kept. Returns whether a response was saved."""
    with tenant_scope(invitation.organization), transaction.atomic():
        invitation = (
            Invitation.all_objects.select_for_update(of=("self",))
            .select_related("organization", "survey", "personal_link")
            .filter(pk=invitation.pk, sms_state=AWAITING_COMMENT)
            .first()
        )
        if invitation is None:
            return False
        link = invitation.personal_link
        score_question, _questions = _score_question(invitation)
        score = _kept_score(invitation, score_question) if link and score_question else None
        saved = False
        if score is not None and not hasattr(link, "response"):
            answers = {score_question.key: str(score)}
            saved = _submit(invitation, answers, submitted_at=invitation.sms_state_at)
        Invitation.all_objects.filter(pk=invitation.pk).update(sms_state=DONE, sms_state_at=now())
        return saved


def sms_waiting_overdue(*, limit: int = 500) -> list[Invitation]:
    """Conversations across tenants still waiting for a comment after SMS_COMMENT_WAIT_HOURS."""
    cutoff = now() - timedelta(hours=settings.SMS_COMMENT_WAIT_HOURS)
    return list(
        Invitation.all_objects.filter(sms_state=AWAITING_COMMENT, sms_state_at__lt=cutoff)
        .select_related("organization")
        .order_by("sms_state_at")[:limit]
    )
