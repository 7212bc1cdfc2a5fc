"""Two-way SMS: replies to invitations, STOP/START keywords, delivery status callbacks.

A reply is matched to the newest SMS invitation sent to that number from the number the reply
was sent to (Twilio's `From` and `To`), so organizations with numbers of their own never see
each other's replies. STOP words (in Finnish, Swedish and English, any case, punctuation or
extra words) opt the number out at once and are confirmed once; START opts back in. Both act in
every organization that texted the number from that sender: the person cannot tell them apart,
and Twilio itself blocks a sender for a number that sent STOP. A number answers the first (score)
question: it is kept on the personal link, the follow-up question is asked, and the next reply
becomes the comment and completes the response; when no comment comes within
SMS_COMMENT_WAIT_HOURS, `sms_complete_waiting` records the score alone. A reply that is not
understood gets one helpful message, then silence.
"""

import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.timezone import now

from core.exceptions import ApplicationError
from core.scoping import tenant_scope
from distribution.enums import Channel, InvitationStatus
from distribution.invitations import invitation_delivery_update, invitations_mark_answered
from distribution.messaging import texts_for
from distribution.models import Contact, InboundSms, Invitation
from distribution.services import contact_opt_in, contact_opt_out
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
    if invitation.sms_state == AWAITING_COMMENT:
        score = link.partial_answers.get(score_question.key)
        follow = _follow_up(questions, score_question, int(score))
        answers = {score_question.key: score}
        if follow is not None:
            answers[follow.key] = body.strip()[:5000]
        return texts["thanks"] if _submit(invitation, answers) else ""
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
        personal_link_save_partial(link=link, answers={score_question.key: str(score)})
        Invitation.all_objects.filter(pk=invitation.pk).update(
            sms_state=AWAITING_COMMENT, sms_state_at=now()
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
    existing = InboundSms.all_objects.filter(message_sid=message_sid).first()
    if existing is not None:
        return existing.reply, True
    invitation = _invitation_for(from_number, to_number)
    if invitation is None:
        return "", False
    organization = invitation.organization
    with tenant_scope(organization), transaction.atomic():
        try:
            with transaction.atomic():
                record = InboundSms.all_objects.create(
                    organization=organization, message_sid=message_sid[:64], invitation=invitation
                )
        except IntegrityError:
            return InboundSms.all_objects.get(message_sid=message_sid).reply, True
        invitation = Invitation.all_objects.select_for_update().get(pk=invitation.pk)
        word = keyword(body)
        language = invitation.language or invitation.survey.default_language
        if word:
            reply = _keyword_reply(from_number, to_number, word, language)
        elif invitation.contact and invitation.contact.sms_opted_out_at is not None:
            reply = ""
        else:
            reply = _converse(invitation, body)
        record.reply = reply[:400]
        record.save(update_fields=["reply"])
    return reply, False


def status_callback(
    *, invitation_public_id: str, message_sid: str, status: str, error: str
) -> bool:
    """Twilio's delivery report for one invitation; unknown or repeated reports change nothing."""
    ours = TWILIO_STATUSES.get(status)
    if ours is None:
        return False
    invitation = Invitation.all_objects.filter(
        public_id=invitation_public_id, provider_message_id=message_sid
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
        score = (
            (link.partial_answers or {}).get(score_question.key)
            if link and score_question
            else None
        )
        saved = False
        if score is not None and not hasattr(link, "response"):
            answers = {score_question.key: score}
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
