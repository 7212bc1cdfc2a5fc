"""Follow-up cases: opening, assigning, the status machine, notes, customer contact, resolving.

Every function is one transaction, takes the acting member (or the system) explicitly, writes the
case's timeline and an audit entry, and hands side effects to `transaction.on_commit`.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.enums import (
    CASE_BACKWARD_MOVES,
    CASE_FORWARD_MOVES,
    AlertStatus,
    CaseEventKind,
    CaseStatus,
    ContactMethod,
    ContactOutcome,
    Priority,
)
from alerts.models import Alert, Case, CaseEvent, CaseSettings, ImprovementItem, RootCause
from alerts.service_levels import case_settings_get, due_times
from core.exceptions import ApplicationError
from core.services import Actor, activity_record
from distribution.services.events import contact_webhook_data
from tenancy.models import Membership, Organization
from webhooks.enums import EventType
from webhooks.services import event_emit


def _event(case: Case, *, kind: str, actor: Actor | None, text: str = "", **data: Any) -> None:
    CaseEvent.objects.create(
        organization_id=case.organization_id,
        case=case,
        kind=kind,
        actor=getattr(actor, "user", None),
        actor_label=actor.label if actor else "system",
        text=text,
        data=data,
    )


def _check_member(organization: Organization, user) -> None:
    if (
        user is not None
        and not Membership.objects.filter(organization=organization, user=user).exists()
    ):
        raise ApplicationError(_("Choose a member of this organization."), "not_a_member")


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(organization_id=case.organization_id, pk=case.pk)


def case_assignee_for(*, organization: Organization, touchpoint, settings: CaseSettings):
    """The touchpoint owner while they are still a member, else the organization's default."""
    owner = getattr(touchpoint, "owner", None)
    if (
        owner is not None
        and Membership.objects.filter(organization=organization, user_id=owner.pk).exists()
    ):
        return owner
    return settings.default_assignee


def _case_insert(*, organization: Organization, opened_at: datetime, **fields) -> Case:
    """Number, assign and date a new case. Call inside a transaction: the lock on the
    organization's case settings row makes the numbers count up without gaps or races."""
    settings = case_settings_get(organization=organization, lock=True)
    first_contact_due, resolution_due = due_times(
        settings=settings, organization=organization, priority=fields["priority"], start=opened_at
    )
    number = (
        Case.objects.filter(organization=organization).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    if fields.get("assignee") is None:
        fields["assignee"] = case_assignee_for(
            organization=organization, touchpoint=fields.get("touchpoint"), settings=settings
        )
    case = Case.objects.create(
        organization=organization,
        number=number,
        first_contact_due=first_contact_due,
        resolution_due=resolution_due,
        **fields,
    )
    _announce(case, EventType.CASE_CREATED)
    return case


def _announce(case: Case, type: str, changes: tuple[str, ...] = ()) -> None:
    """Emit `case.created` or `case.updated` (with what changed) in the change's transaction."""
    event_emit(
        organization=case.organization_id,
        type=type,
        data=lambda: _case_webhook_data(case, changes),
    )


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _case_webhook_data(case: Case, changes: tuple[str, ...]) -> dict:
    """The `data` of a `case.created` / `case.updated` webhook event (docs/webhooks.md)."""
    contact = case.contact if case.contact_id else None
    data = {
        "id": case.public_id,
        "number": case.number,
        "title": case.title,
        "status": case.status,
        "priority": case.priority,
        "alert": case.alert.public_id if case.alert_id else None,
        "response": case.response.public_id if case.response_id else None,
        "touchpoint": case.touchpoint.public_id if case.touchpoint_id else None,
        "assignee": case.assignee.public_id if case.assignee_id else None,
        "contact": contact_webhook_data(contact) if contact is not None else None,
        "root_cause": case.root_cause.public_id if case.root_cause_id else None,
        "first_contact_due": _moment(case.first_contact_due),
        "resolution_due": _moment(case.resolution_due),
        "first_contacted_at": _moment(case.first_contacted_at),
        "resolved_at": _moment(case.resolved_at),
        "closed_at": _moment(case.closed_at),
        "created_at": _moment(case.created_at),
        "updated_at": _moment(case.updated_at),
    }
    if changes:
        data["changes"] = list(changes)
    return data


def case_open_for_alert(*, alert: Alert, contact=None, opened_at: datetime | None = None) -> Case:
    """Open the follow-up case of `alert`, assigned and with its due times.

    Idempotent: an alert has at most one case; a second call returns the first one (checked
    again under the settings lock, so two concurrent calls cannot both insert).
    """
    organization = alert.organization
    with transaction.atomic():
        case_settings_get(organization=organization, lock=True)
        existing = Case.objects.filter(organization=organization, alert=alert).first()
        if existing is not None:
            return existing
        case = _case_insert(
            organization=organization,
            opened_at=opened_at or timezone.now(),
            alert=alert,
            response=alert.response,
            touchpoint=alert.touchpoint,
            contact=contact,
            title=alert.title,
            priority=alert.priority,
        )
        _event(case, kind=CaseEventKind.CREATED, actor=None, text=alert.title)
        if case.assignee is not None:
            _event(case, kind=CaseEventKind.ASSIGNED, actor=None, assignee=case.assignee.email)
        activity_record(
            organization=organization, actor=None, action="alerts.case.opened", target=case
        )
    return case


def case_create(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    priority: str = Priority.NORMAL,
    touchpoint=None,
    response=None,
    contact=None,
    assignee=None,
) -> Case:
    """Open a case by hand (a complaint that came in by phone, say)."""
    if priority not in Priority.values:
        raise ApplicationError(_("Unknown priority."), "invalid_priority")
    title = (title or "").strip()
    if not title:
        raise ApplicationError(_("Give the case a title."), "title_required")
    _check_member(organization, assignee)
    with transaction.atomic():
        case = _case_insert(
            organization=organization,
            opened_at=timezone.now(),
            response=response,
            touchpoint=touchpoint,
            contact=contact,
            title=title[:300],
            priority=priority,
            assignee=assignee,
        )
        _event(case, kind=CaseEventKind.CREATED, actor=actor, text=case.title)
        activity_record(
            organization=organization, actor=actor, action="alerts.case.created", target=case
        )
    return case


def case_assign(*, actor: Actor, case: Case, assignee) -> Case:
    """Give the case to a member (or to nobody). Raises `not_a_member` for an outsider."""
    _check_member(case.organization, assignee)
    with transaction.atomic():
        case = _locked(case)
        if case.assignee_id == getattr(assignee, "pk", None):
            return case
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        _event(
            case,
            kind=CaseEventKind.ASSIGNED,
            actor=actor,
            assignee=assignee.email if assignee else "",
        )
        _announce(case, EventType.CASE_UPDATED, ("assignee",))
        activity_record(
            organization=case.organization,
            actor=actor,
            action="alerts.case.assigned",
            target=case,
            data={"assignee": assignee.email if assignee else None},
        )
    return case


def cases_bulk_assign(*, actor: Actor, organization: Organization, cases: list[Case], assignee):
    """Assign many cases at once (the inbox's bulk action); one transaction."""
    _check_member(organization, assignee)
    with transaction.atomic():
        for case in cases:
            case_assign(actor=actor, case=case, assignee=assignee)
    return len(cases)


def case_change_status(
    *,
    actor: Actor,
    case: Case,
    status: str,
    note: str = "",
    root_cause: RootCause | None = None,
    controllable: bool | None = None,
    action_taken: str = "",
) -> Case:
    """Move the case through new -> in progress -> resolved -> closed (or cancelled).

    Going back (reopening) needs a note. Resolving needs a root cause from the organization's
    taxonomy and the action taken; `controllable` defaults to the root cause's own flag.
    Raises ApplicationError `invalid_transition`, `note_required`, `root_cause_required`.
    """
    if status not in CaseStatus.values:
        raise ApplicationError(_("Unknown status."), "invalid_status")
    note = (note or "").strip()
    with transaction.atomic():
        case = _locked(case)
        current = case.status
        if status == current:
            return case
        backwards = status in CASE_BACKWARD_MOVES[current]
        if status not in CASE_FORWARD_MOVES[current] and not backwards:
            raise ApplicationError(
                _("A case cannot go from %(from)s to %(to)s.")
                % {"from": CaseStatus(current).label, "to": CaseStatus(status).label},
                "invalid_transition",
                {"fields": {"status": [_("Not allowed from the current status.")]}},
            )
        if backwards and not note:
            raise ApplicationError(
                _("Say why the case goes back."),
                "note_required",
                {"fields": {"note": [_("A note is required to reopen a case.")]}},
            )
        now = timezone.now()
        if status == CaseStatus.RESOLVED:
            _resolve(case, root_cause, controllable, action_taken, now)
        if status == CaseStatus.CLOSED:
            case.closed_at = now
        if backwards:
            case.resolved_at = None if status != CaseStatus.RESOLVED else case.resolved_at
            case.closed_at = None
        case.status = status
        case.save()
        if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED):
            # The case carried the alert's work; its cooldown starts now.
            Alert.objects.filter(
                organization_id=case.organization_id, pk=case.alert_id, status=AlertStatus.OPEN
            ).update(status=AlertStatus.RESOLVED, resolved_at=now)
        _event(case, kind=CaseEventKind.STATUS, actor=actor, text=note, old=current, new=status)
        _announce(case, EventType.CASE_UPDATED, ("status",))
        activity_record(
            organization=case.organization,
            actor=actor,
            action="alerts.case.status_changed",
            target=case,
            data={"from": current, "to": status},
        )
    return case


def _resolve(case: Case, root_cause, controllable, action_taken: str, now: datetime) -> None:
    errors = {}
    if root_cause is None:
        errors["root_cause"] = [_("Choose the root cause.")]
    elif root_cause.organization_id != case.organization_id:
        errors["root_cause"] = [_("Choose a root cause of this organization.")]
    if not (action_taken or "").strip():
        errors["action_taken"] = [_("Say what was done.")]
    if errors:
        raise ApplicationError(
            _("A resolved case needs its root cause and the action taken."),
            "root_cause_required",
            {"fields": errors},
        )
    case.root_cause = root_cause
    case.controllable = root_cause.controllable if controllable is None else controllable
    case.action_taken = action_taken.strip()
    case.resolved_at = now


def case_add_note(*, actor: Actor, case: Case, text: str) -> CaseEvent:
    text = (text or "").strip()
    if not text:
        raise ApplicationError(
            _("Write the note."), "note_required", {"fields": {"text": [_("Required.")]}}
        )
    with transaction.atomic():
        _event(case, kind=CaseEventKind.NOTE, actor=actor, text=text[:5000])
        case.save(update_fields=["updated_at"])
        _announce(case, EventType.CASE_UPDATED, ("note",))
    return CaseEvent.objects.filter(organization_id=case.organization_id, case=case).last()


def case_record_contact(
    *,
    actor: Actor,
    case: Case,
    method: str,
    outcome: str,
    contacted_at: datetime | None = None,
    note: str = "",
) -> Case:
    """Record that someone contacted the customer: when, how and with what outcome.

    The first contact stops the first-contact clock; a new case moves to in progress.
    """
    errors = {}
    if method not in ContactMethod.values:
        errors["method"] = [_("Choose how the customer was contacted.")]
    if outcome not in ContactOutcome.values:
        errors["outcome"] = [_("Choose the outcome.")]
    now = timezone.now()
    contacted_at = contacted_at or now
    if contacted_at > now + timezone.timedelta(minutes=5):
        errors["contacted_at"] = [_("The contact cannot be in the future.")]
    if errors:
        raise ApplicationError(
            _("Check the contact details."), "invalid_contact", {"fields": errors}
        )
    with transaction.atomic():
        case = _locked(case)
        if case.first_contacted_at is None or contacted_at < case.first_contacted_at:
            case.first_contacted_at = contacted_at
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.IN_PROGRESS
        case.save()
        _event(
            case,
            kind=CaseEventKind.CONTACTED,
            actor=actor,
            text=(note or "").strip()[:5000],
            method=method,
            outcome=outcome,
            contacted_at=contacted_at.isoformat(),
        )
        _announce(case, EventType.CASE_UPDATED, ("customer_contacted",))
        activity_record(
            organization=case.organization,
            actor=actor,
            action="alerts.case.customer_contacted",
            target=case,
            data={"method": method, "outcome": outcome},
        )
    return case


def case_link_improvement(*, actor: Actor, case: Case, improvement: ImprovementItem | None) -> Case:
    with transaction.atomic():
        case = _locked(case)
        case.improvement = improvement
        case.save(update_fields=["improvement", "updated_at"])
        _event(
            case,
            kind=CaseEventKind.IMPROVEMENT,
            actor=actor,
            improvement=improvement.public_id if improvement else "",
            title=improvement.title if improvement else "",
        )
        _announce(case, EventType.CASE_UPDATED, ("improvement",))
    return case
