"""Invitations and campaigns: queueing with contact-frequency rules, claiming, recording outcomes.

Every send is one `Invitation` row with a unique natural key. A worker claims it with a
compare-and-swap (queued -> sending) before it talks to a provider, so two workers or a retried
task never send twice. Consent, opt-out and the frequency rules are checked when the invitation is
queued (a refused one is saved as skipped with its reason) and again at send time.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core import handles
from core.exceptions import ApplicationError
from core.models import HandleKind
from core.services import activity_record
from distribution.enums import (
    CampaignChannel,
    CampaignStatus,
    Channel,
    InvitationStatus,
    SkipReason,
)
from distribution.models import (
    Campaign,
    Contact,
    DistributionSettings,
    Invitation,
    InvitationEvent,
    Segment,
)
from distribution.selectors import segment_contacts
from distribution.services.events import contact_webhook_data
from surveys.models import Response, Survey
from surveys.services.responses import personal_link_create
from tenancy.actors import Actor
from tenancy.scoping import unscoped
from webhooks.enums import EventType
from webhooks.services import event_emit

SENT_STATUSES = (
    InvitationStatus.SENT,
    InvitationStatus.DELIVERED,
    InvitationStatus.OPENED,
    InvitationStatus.ANSWERED,
)
MAX_REMINDERS = 3
MAX_DELAY = timedelta(days=60)


def settings_for(organization) -> DistributionSettings:
    found = DistributionSettings.all_objects.filter(organization=organization).first()
    return found or DistributionSettings(organization=organization)


def _event(invitation: Invitation, status: str, detail: str = "") -> None:
    InvitationEvent.objects.create(
        organization_id=invitation.organization_id,
        invitation=invitation,
        status=status,
        detail=detail[:300],
    )
    if status in FAILURE_STATUSES:
        event_emit(
            organization=invitation.organization_id,
            type=EventType.INVITATION_FAILED,
            data=lambda: _failed_webhook_data(invitation, status, detail),
        )


FAILURE_STATUSES = (InvitationStatus.FAILED, InvitationStatus.BOUNCED)


def _failed_webhook_data(invitation: Invitation, status: str, detail: str) -> dict:
    """The `data` of an `invitation.failed` webhook event (docs/webhooks.md)."""
    contact = invitation.contact
    return {
        "id": invitation.public_id,
        "status": status,
        "channel": invitation.channel,
        "reason": detail[:300],
        "survey": invitation.survey.public_id,
        "campaign": invitation.campaign.public_id if invitation.campaign_id else None,
        "contact": contact_webhook_data(contact) if contact is not None else None,
    }


# --- rules -----------------------------------------------------------------------------------


def _recent_sent(organization, since: datetime, **match) -> Exists:
    return Exists(
        Invitation.objects.filter(
            organization=organization, contact=OuterRef("pk"), sent_at__gte=since, **match
        )
    )


def skip_reason_expression(*, organization, survey: Survey, channel: str, now=None) -> Case:
    """One SQL expression naming the first rule that skips each contact ("" = send).

    `channel` is email, sms or preferred (either channel reachable is enough)."""
    now = now or timezone.now()
    config = settings_for(organization)
    channels = [Channel.EMAIL, Channel.SMS] if channel == CampaignChannel.PREFERRED else [channel]
    reachable = Q()
    for each in channels:
        reachable |= Contact.reachable_q(each)
    opted_out = Q()
    no_consent = Q()
    no_address = Q()
    bounced = Q()
    for each in channels:
        address = "email" if each == Channel.EMAIL else "phone"
        opted_out &= Q(**{f"{each}_opted_out_at__isnull": False})
        no_consent &= Q(**{f"{each}_consent": False})
        no_address &= Q(**{address: ""})
        # Only email bounces; an SMS channel in the audience makes this rule never match alone.
        bounced &= Q(email_bounced_at__isnull=False) if each == Channel.EMAIL else Q(pk__in=[])
    throttled = _recent_sent(
        organization, now - timedelta(days=config.survey_throttle_days), survey=survey
    )
    quarantined = _recent_sent(organization, now - timedelta(days=config.quarantine_days))
    return Case(
        When(~reachable & opted_out, then=Value(SkipReason.OPTED_OUT)),
        When(~reachable & no_consent, then=Value(SkipReason.NO_CONSENT)),
        When(~reachable & no_address, then=Value(SkipReason.NO_ADDRESS)),
        When(~reachable & bounced, then=Value(SkipReason.UNDELIVERABLE)),
        When(~reachable, then=Value(SkipReason.OPTED_OUT)),
        When(throttled, then=Value(SkipReason.THROTTLED)),
        When(quarantined, then=Value(SkipReason.QUARANTINED)),
        default=Value(""),
        output_field=CharField(),
    )


def contact_skip_reason(
    *, organization, contact: Contact | None, survey: Survey, channel: str, exclude=None
) -> str:
    """The same rules for one contact, in Python plus two small queries (send time)."""
    if contact is None:
        return SkipReason.CONTACT_ERASED
    if not contact.is_reachable_by(channel):
        state = contact.consent_for(channel)
        if state.opted_out:
            return SkipReason.OPTED_OUT
        if not state.given:
            return SkipReason.NO_CONSENT
        if not contact.address_for(channel):
            return SkipReason.NO_ADDRESS
        return SkipReason.UNDELIVERABLE
    config = settings_for(organization)
    now = timezone.now()
    sent = Invitation.objects.filter(organization=organization, contact=contact)
    if exclude is not None:
        sent = sent.exclude(pk=exclude.pk)
    throttle_since = now - timedelta(days=config.survey_throttle_days)
    if sent.filter(survey=survey, sent_at__gte=throttle_since).exists():
        return SkipReason.THROTTLED
    if sent.filter(sent_at__gte=now - timedelta(days=config.quarantine_days)).exists():
        return SkipReason.QUARANTINED
    return ""


def choose_channel(contact: Contact, channel: str) -> str:
    """For "preferred": the contact's `preferred_channel` attribute (else email), falling back
    to the other channel when the first cannot be used."""
    if channel != CampaignChannel.PREFERRED:
        return channel
    first = (contact.attributes or {}).get("preferred_channel")
    first = first if first in Channel.values else Channel.EMAIL
    other = Channel.SMS if first == Channel.EMAIL else Channel.EMAIL
    if contact.is_reachable_by(first) or not contact.is_reachable_by(other):
        return first
    return other


# --- queueing --------------------------------------------------------------------------------


def _check_survey(organization, survey: Survey) -> None:
    if survey.organization_id != organization.pk:
        raise ApplicationError(_("No such survey."), code="invalid", extra={"field": "survey"})
    if not survey.is_open:
        raise ApplicationError(
            _("Publish the survey before inviting anyone to it."),
            code="survey_not_open",
            extra={"field": "survey"},
        )


def _new_invitation(
    *,
    organization,
    contact: Contact,
    survey: Survey,
    channel: str,
    natural_key: str,
    scheduled_for: datetime,
    skip_reason: str,
    touchpoint=None,
    campaign: Campaign | None = None,
    hidden_fields: dict | None = None,
) -> tuple[Invitation, bool]:
    """Create the row (and its personal link when it will be sent); (existing, False) if the
    natural key exists."""
    existing = Invitation.objects.filter(organization=organization, natural_key=natural_key).first()
    if existing is not None:
        return existing, False
    link = None
    if not skip_reason:
        expiry = settings_for(organization).link_expiry_days
        link = personal_link_create(
            organization=organization,
            survey=survey,
            language=contact.preferred_language or survey.default_language,
            hidden_fields=hidden_fields,
            touchpoint=touchpoint,
            expires_at=scheduled_for + timedelta(days=expiry) if expiry else None,
            channel=channel,
        )
    invitation = Invitation(
        organization=organization,
        contact=contact,
        survey=survey,
        touchpoint=touchpoint,
        campaign=campaign,
        personal_link=link,
        channel=channel,
        address=contact.address_for(channel),
        language=link.language if link else (contact.preferred_language or ""),
        hidden_fields=link.hidden_fields if link else {},
        natural_key=natural_key,
        scheduled_for=scheduled_for,
        status=InvitationStatus.SKIPPED if skip_reason else InvitationStatus.QUEUED,
        skip_reason=skip_reason,
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        # A concurrent request with the same natural key won; the unique constraint decided.
        if link is not None:
            link.delete()
        return Invitation.objects.get(organization=organization, natural_key=natural_key), False
    _event(invitation, invitation.status, skip_reason)
    if not skip_reason:
        _enqueue(invitation)
    return invitation, True


def _enqueue(invitation: Invitation) -> None:
    from distribution.tasks import send_invitation  # tasks import this module

    organization_id, invitation_id = invitation.organization_id, invitation.pk
    eta = invitation.scheduled_for

    def send() -> None:
        try:
            options = {"eta": eta} if eta > timezone.now() else {}
            send_invitation.apply_async(
                kwargs={"organization_id": organization_id, "invitation_id": invitation_id},
                **options,
            )
        except Exception:  # the broker's errors vary; the periodic sweep sends it later
            import logging

            logging.getLogger(__name__).exception("could not enqueue invitation %s", invitation_id)

    transaction.on_commit(send)


@dataclass
class TriggerResult:
    invitation: Invitation
    created: bool


@transaction.atomic
def invitation_trigger(
    *,
    actor: Actor | None,
    organization,
    contact: Contact,
    survey: Survey,
    channel: str,
    delay: timedelta = timedelta(0),
    hidden_fields: dict | None = None,
    touchpoint=None,
    event_id: str = "",
) -> TriggerResult:
    """ "This contact just met this touchpoint": one invitation sent after `delay`.

    The same (survey, contact, event id) never makes two invitations; without an event id each
    call is a new event. A contact the rules refuse gets a skipped invitation with the reason."""
    _check_survey(organization, survey)
    if channel not in Channel.values and channel != CampaignChannel.PREFERRED:
        raise ApplicationError(_("Unknown channel."), code="invalid", extra={"field": "channel"})
    if delay < timedelta(0) or delay > MAX_DELAY:
        raise ApplicationError(
            _("The delay is from 0 to 60 days."), code="invalid", extra={"field": "delay"}
        )
    channel = choose_channel(contact, channel)
    event = (event_id or uuid.uuid4().hex)[:200]
    reason = contact_skip_reason(
        organization=organization, contact=contact, survey=survey, channel=channel
    )
    invitation, created = _new_invitation(
        organization=organization,
        contact=contact,
        survey=survey,
        channel=channel,
        natural_key=f"trg:{survey.pk}:{contact.pk}:{event}",
        scheduled_for=timezone.now() + delay,
        skip_reason=reason,
        touchpoint=touchpoint or survey.touchpoint,
        hidden_fields=hidden_fields,
    )
    if created:
        activity_record(
            organization=organization,
            actor=actor,
            action="distribution.invitation.triggered",
            target=invitation,
            data={"status": invitation.status, "skip_reason": reason},
        )
    return TriggerResult(invitation=invitation, created=created)


# --- campaigns -------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: Actor,
    organization,
    name: str,
    survey: Survey,
    channel: str = CampaignChannel.EMAIL,
    segment: Segment | None = None,
    contact_ids: list[str] | None = None,
    scheduled_for: datetime | None = None,
    reminders: int = 0,
    reminder_after_days: int = 3,
) -> Campaign:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            _("Give the campaign a name."), code="required", extra={"field": "name"}
        )
    _check_survey(organization, survey)
    if channel not in CampaignChannel.values:
        raise ApplicationError(_("Unknown channel."), code="invalid", extra={"field": "channel"})
    if (segment is None) == (not contact_ids):
        raise ApplicationError(
            _("Choose a segment or list contacts, not both."),
            code="invalid_audience",
            extra={"field": "segment"},
        )
    if segment is not None and segment.organization_id != organization.pk:
        raise ApplicationError(_("No such segment."), code="invalid", extra={"field": "segment"})
    ids = sorted({str(value).strip() for value in contact_ids or [] if str(value).strip()})
    if ids:
        known = set(
            Contact.objects.filter(organization=organization, public_id__in=ids).values_list(
                "public_id", flat=True
            )
        )
        if unknown := [value for value in ids if value not in known]:
            raise ApplicationError(
                _("Unknown contacts: %(ids)s") % {"ids": ", ".join(unknown[:10])},
                code="invalid",
                extra={"field": "contact_ids"},
            )
    if not 0 <= reminders <= MAX_REMINDERS or not 1 <= reminder_after_days <= 60:
        raise ApplicationError(
            _("Up to 3 reminders, 1 to 60 days apart."),
            code="invalid",
            extra={"field": "reminders"},
        )
    campaign = Campaign.objects.create(
        organization=organization,
        name=name[:200],
        survey=survey,
        segment=segment,
        contact_ids=ids,
        channel=channel,
        scheduled_for=scheduled_for,
        reminders=reminders,
        reminder_after_days=reminder_after_days,
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.campaign.created",
        target=campaign,
    )
    return campaign


def campaign_audience(campaign: Campaign):
    if campaign.segment_id is not None:
        return segment_contacts(campaign.segment)
    if campaign.contact_ids:
        return Contact.objects.filter(
            organization_id=campaign.organization_id, public_id__in=campaign.contact_ids
        )
    return Contact.objects.filter(organization_id=campaign.organization_id).none()


def campaign_preview(*, organization, campaign: Campaign) -> dict[str, int]:
    """How many contacts each rule skips and how many will be sent to: two queries."""
    reason = skip_reason_expression(
        organization=organization, survey=campaign.survey, channel=campaign.channel
    )
    rows = (
        campaign_audience(campaign)
        .annotate(reason=reason)
        .order_by()
        .values("reason")
        .annotate(n=Count("pk"))
    )
    counts = {
        value: 0 for value in SkipReason.values if value not in ("contact_erased", "survey_closed")
    }
    counts["send"] = 0
    counts["total"] = 0
    for row in rows:
        counts[row["reason"] or "send"] = counts.get(row["reason"] or "send", 0) + row["n"]
        counts["total"] += row["n"]
    return counts


@transaction.atomic
def campaign_send(*, actor: Actor, organization, campaign: Campaign) -> Campaign:
    """Send now, or mark scheduled when `scheduled_for` is in the future."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk, organization=organization)
    if campaign.status != CampaignStatus.DRAFT:
        raise ApplicationError(_("This campaign was sent already."), code="already_sent")
    _check_survey(organization, campaign.survey)
    if campaign.scheduled_for and campaign.scheduled_for > timezone.now():
        campaign.status = CampaignStatus.SCHEDULED
        campaign.save(update_fields=["status", "updated_at"])
    else:
        campaign.status = CampaignStatus.SENDING
        campaign.started_at = timezone.now()
        campaign.save(update_fields=["status", "started_at", "updated_at"])
        from core.tasks import enqueue_on_commit
        from distribution.tasks import run_campaign

        enqueue_on_commit(run_campaign, organization_id=organization.pk, campaign_id=campaign.pk)
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.campaign.sent",
        target=campaign,
        data={"status": campaign.status},
    )
    return campaign


# How long a send's claim lasts before another worker may take the invitation over.
SEND_LEASE = timedelta(minutes=2)
# A running campaign touches its row after this many contacts (distribution.tasks.CAMPAIGN_SILENT).
CAMPAIGN_HEARTBEAT = 200


def campaign_run(*, organization, campaign_id: int) -> int:
    """Make the campaign's invitations (queued or skipped with a reason); returns how many were
    made. Safe to run twice: natural keys keep one invitation per contact."""
    campaign = Campaign.objects.filter(organization=organization, pk=campaign_id).first()
    if campaign is None or campaign.status == CampaignStatus.SENT:
        return 0
    reason = skip_reason_expression(
        organization=organization, survey=campaign.survey, channel=campaign.channel
    )
    invited = Invitation.objects.filter(campaign=campaign, contact=OuterRef("pk"))
    audience = campaign_audience(campaign).annotate(reason=reason).exclude(Exists(invited))
    made = 0
    now = timezone.now()
    for seen, contact in enumerate(audience.order_by("pk").iterator(chunk_size=500), start=1):
        with transaction.atomic():
            _invitation, created = _new_invitation(
                organization=organization,
                contact=contact,
                survey=campaign.survey,
                channel=choose_channel(contact, campaign.channel)
                if campaign.channel == CampaignChannel.PREFERRED
                else campaign.channel,
                natural_key=f"cmp:{campaign.pk}:{contact.pk}",
                scheduled_for=now,
                skip_reason=contact.reason,
                touchpoint=campaign.survey.touchpoint,
                campaign=campaign,
            )
            made += created
        if seen % CAMPAIGN_HEARTBEAT == 0:  # still running: the lost-sends sweep leaves it be
            Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT, updated_at=now)
    return made


def campaign_status_counts(*, organization, campaign: Campaign) -> dict[str, int]:
    rows = (
        Invitation.objects.filter(organization=organization, campaign=campaign)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = {value: 0 for value in InvitationStatus.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


# --- sending ---------------------------------------------------------------------------------


def invitation_claim(*, organization, invitation_id: int) -> Invitation | None:
    """Queued -> sending, for exactly one worker; None when another has it or it is not due.

    A claim is a lease: an invitation still "sending" `SEND_LEASE` after its claim belongs to a
    worker that died mid-send, and may be claimed again (a send takes seconds: every provider
    call has a timeout far below the lease).
    """
    now = timezone.now()
    claimed = (
        Invitation.objects.filter(organization=organization, pk=invitation_id)
        .filter(
            Q(status=InvitationStatus.QUEUED, scheduled_for__lte=now + timedelta(seconds=5))
            | Q(status=InvitationStatus.SENDING, updated_at__lt=now - SEND_LEASE)
        )
        .update(status=InvitationStatus.SENDING, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    return Invitation.objects.select_related(
        "contact", "survey", "survey__current_version", "personal_link"
    ).get(pk=invitation_id)


@transaction.atomic
def invitation_release(*, invitation: Invitation, error: str, retry_at: datetime) -> None:
    """A transient failure: back to queued, due at `retry_at`, so the retry claims it then (and
    the sweep sends it only if that retry is lost)."""
    Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENDING).update(
        status=InvitationStatus.QUEUED, failure_reason=error[:300], scheduled_for=retry_at
    )


@transaction.atomic
def invitation_record(
    *,
    invitation: Invitation,
    status: str,
    reason: str = "",
    provider_message_id: str = "",
    skip_reason: str = "",
) -> Invitation:
    invitation.status = status
    fields = ["status", "updated_at"]
    if status == InvitationStatus.SENT:
        invitation.sent_at = timezone.now()
        invitation.provider_message_id = provider_message_id[:100]
        fields += ["sent_at", "provider_message_id"]
        if invitation.provider_message_id:
            handles.claim_many(
                HandleKind.PROVIDER_MESSAGE,
                [invitation],
                "provider_message_id",
                ignore_conflicts=True,
            )
    if skip_reason:
        invitation.skip_reason = skip_reason
        fields.append("skip_reason")
    if reason:
        invitation.failure_reason = reason[:300]
        fields.append("failure_reason")
    invitation.save(update_fields=fields)
    _event(invitation, status, skip_reason or reason)
    return invitation


PROGRESS = {
    InvitationStatus.SENT: 1,
    InvitationStatus.DELIVERED: 2,
    InvitationStatus.OPENED: 3,
    InvitationStatus.ANSWERED: 4,
}


@transaction.atomic
def invitation_delivery_update(*, invitation: Invitation, status: str, reason: str = "") -> bool:
    """A provider's report (delivered, failed, bounced). Never moves an invitation backwards
    (an answered one stays answered); repeating a report changes nothing."""
    invitation = Invitation.all_objects.select_for_update().get(
        organization_id=invitation.organization_id, pk=invitation.pk
    )
    if invitation.status == status:
        return False
    if status in PROGRESS and PROGRESS.get(invitation.status, 0) >= PROGRESS[status]:
        return False
    if status in (InvitationStatus.FAILED, InvitationStatus.BOUNCED) and invitation.status in (
        InvitationStatus.OPENED,
        InvitationStatus.ANSWERED,
    ):
        return False
    invitation.status = status
    invitation.failure_reason = reason[:300] if reason else invitation.failure_reason
    invitation.save(update_fields=["status", "failure_reason", "updated_at"])
    _event(invitation, status, reason)
    return True


def invitations_mark_answered(*, organization_id: int, response_id: int) -> int:
    """Called when a response is submitted: its invitation becomes answered."""
    response = (
        Response.all_objects.filter(organization_id=organization_id, pk=response_id)
        .only("personal_link_id")
        .first()
    )
    if response is None or response.personal_link_id is None:
        return 0
    invitation = Invitation.all_objects.filter(
        organization_id=organization_id, personal_link_id=response.personal_link_id
    ).first()
    if invitation is None or invitation.status == InvitationStatus.ANSWERED:
        return 0
    with transaction.atomic():
        Invitation.all_objects.filter(pk=invitation.pk).update(
            status=InvitationStatus.ANSWERED, answered_at=timezone.now()
        )
        _event(invitation, InvitationStatus.ANSWERED)
    return 1


# Sent and not yet opened or answered: what the invitation sweep looks at (a partial index).
AWAITING = (InvitationStatus.SENT, InvitationStatus.DELIVERED)


def organizations_to_sweep() -> list[int]:
    """Organizations with invitations awaiting their answer or campaigns with reminders: the
    invitation sweep works on each in turn (found through partial indexes)."""
    with unscoped():
        awaiting = Invitation.all_objects.filter(status__in=AWAITING).values("organization_id")
        reminding = Campaign.all_objects.filter(status=CampaignStatus.SENT, reminders__gt=0).values(
            "organization_id"
        )
        return sorted(
            set(awaiting.distinct().values_list("organization_id", flat=True))
            | set(reminding.distinct().values_list("organization_id", flat=True))
        )


def invitations_mark_opened(*, organization, limit: int = 5000) -> int:
    """Sent invitations whose link was opened become opened; returns how many. Found, then
    updated by id within the organization: an UPDATE joined to the links would not name the
    organization of the row it changes."""
    opened = Invitation.objects.filter(
        organization=organization,
        status__in=AWAITING,
        personal_link__organization=organization,
        personal_link__opened_at__isnull=False,
    ).values_list("pk", flat=True)[:limit]
    return Invitation.objects.filter(
        organization=organization, pk__in=list(opened), status__in=AWAITING
    ).update(status=InvitationStatus.OPENED)


def answered_invitations_catch_up(
    *, organization, look_back: timedelta = timedelta(days=3), limit: int = 1000
) -> int:
    """Mark answered the organization's invitations whose response came while the broker was
    down (the task of `response_submitted` was lost); returns the count."""
    since = timezone.now() - look_back
    stale = Invitation.objects.filter(
        ~Q(status=InvitationStatus.ANSWERED),
        organization=organization,
        personal_link__organization=organization,
        personal_link__response__organization=organization,
        personal_link__response__created_at__gte=since,
    ).values_list("personal_link__response__id", flat=True)[:limit]
    return sum(
        invitations_mark_answered(organization_id=organization.pk, response_id=response_id)
        for response_id in stale
    )


def due_invitations(*, grace: timedelta = timedelta(minutes=2), limit: int = 1000):
    """(organization_id, invitation_id) of queued invitations overdue by `grace`, and of
    claimed ones whose worker died mid-send (`SEND_LEASE`), across tenants (the sweep resends
    their tasks when the broker lost them)."""
    now = timezone.now()
    return list(
        Invitation.all_objects.filter(
            Q(status=InvitationStatus.QUEUED, scheduled_for__lte=now - grace)
            | Q(status=InvitationStatus.SENDING, updated_at__lt=now - SEND_LEASE)
        ).values_list("organization_id", "pk")[:limit]
    )


def reminders_due(*, organization, now=None) -> list[Invitation]:
    """Sent, unanswered campaign invitations whose next reminder is due."""
    now = now or timezone.now()
    answered = Response.objects.filter(personal_link=OuterRef("personal_link"))
    candidates = (
        Invitation.objects.filter(
            organization=organization,
            campaign__isnull=False,
            status__in=[InvitationStatus.SENT, InvitationStatus.DELIVERED, InvitationStatus.OPENED],
            reminders_sent__lt=F("campaign__reminders"),
        )
        .exclude(Exists(answered))
        .select_related("campaign")
    )
    due = []
    for invitation in candidates:
        last = invitation.last_reminder_at or invitation.sent_at
        if last and last <= now - timedelta(days=invitation.campaign.reminder_after_days):
            due.append(invitation)
    return due


def reminder_claim(*, invitation: Invitation) -> bool:
    """Count one reminder for exactly one worker, and only while one is due: the conditional
    UPDATE checks the count and the time since the last send, so a task sent twice (two sweeps
    at once, two schedulers) claims nothing the second time. The personal link then gets a full
    validity period again: a reminder must never carry a dead link."""
    from surveys.models import PersonalLink

    now = timezone.now()
    waited = now - timedelta(days=invitation.campaign.reminder_after_days)
    claimed = (
        Invitation.objects.filter(
            pk=invitation.pk,
            organization_id=invitation.organization_id,
            reminders_sent=invitation.reminders_sent,
            reminders_sent__lt=invitation.campaign.reminders,
        )
        .filter(
            Q(last_reminder_at__isnull=True, sent_at__lte=waited) | Q(last_reminder_at__lte=waited)
        )
        .update(reminders_sent=F("reminders_sent") + 1, last_reminder_at=now)
    )
    expiry = settings_for(invitation.organization).link_expiry_days
    if claimed and expiry and invitation.personal_link_id:
        valid_until = timezone.now() + timedelta(days=expiry)
        PersonalLink.objects.filter(
            pk=invitation.personal_link_id, expires_at__lt=valid_until
        ).update(expires_at=valid_until)
    return bool(claimed)


def reminder_give_back(*, invitation: Invitation) -> None:
    """Undo a claimed reminder whose send failed for a moment, so the next sweep sends it
    (a claim only: the count and the time it had before)."""
    Invitation.objects.filter(
        organization_id=invitation.organization_id,
        pk=invitation.pk,
        reminders_sent=invitation.reminders_sent + 1,
    ).update(reminders_sent=invitation.reminders_sent, last_reminder_at=invitation.last_reminder_at)


def invitation_list(
    *,
    organization,
    status: str = "",
    channel: str = "",
    campaign: str = "",
    contact: str = "",
    survey: str = "",
):
    invitations = Invitation.objects.filter(organization=organization).select_related(
        "contact", "survey", "campaign", "personal_link", "touchpoint"
    )
    if status:
        invitations = invitations.filter(status=status)
    if channel:
        invitations = invitations.filter(channel=channel)
    if campaign:
        invitations = invitations.filter(campaign__public_id=campaign)
    if contact:
        invitations = invitations.filter(contact__public_id=contact)
    if survey:
        invitations = invitations.filter(survey__public_id=survey)
    return invitations


def unlink_contact(*, organization, contact: Contact) -> None:
    """GDPR erasure: blank the personal copies on the contact's invitations and their links."""
    from surveys.models import PersonalLink

    invitations = Invitation.objects.filter(organization=organization, contact=contact)
    link_ids = [pk for pk in invitations.values_list("personal_link_id", flat=True) if pk]
    PersonalLink.objects.filter(organization=organization, pk__in=link_ids).update(
        hidden_fields={}, partial_answers={}
    )
    invitations.update(contact=None, address="", hidden_fields={}, personal_link=None)
