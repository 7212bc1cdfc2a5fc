"""Kiosk devices: a tablet at a touchpoint that asks one survey's four-face smiley question.

A device is registered by a CX manager, who gets its secret URL once (`/k/<token>/`); only the
token's SHA-256 is kept, in the handle directory (core.handles). The tablet queues answers
in the browser and syncs them in batches; each answer carries an id the device made, so a batch
sent twice (a lost reply, a reconnect) stores each answer once. Answers closer together than the
device's minimum interval are flagged (`hidden_fields["flag"] = "too_fast"`), not dropped: an
analyst decides what a burst of taps means.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import handles
from core.exceptions import ApplicationError
from core.models import HandleKind
from core.services import activity_record
from distribution.models import KioskDevice, kiosk_token_hash
from surveys.enums import Channel, QuestionType
from surveys.exceptions import AnswerErrors
from surveys.services import response_prepare, responses_save
from tenancy.actors import Actor

MAX_BATCH = 100
ANSWER_ID = re.compile(r"^[0-9a-f]{32}$")
# Answers kept on a tablet that was offline for longer than this are refused, not backdated.
MAX_AGE = timedelta(days=90)
FOLLOW_UP_TYPES = (QuestionType.TEXT, QuestionType.SINGLE_CHOICE)
TOO_FAST = "too_fast"
INTERVAL_BOUNDS = (0, 60)


def kiosk_questions(survey) -> tuple[Any, Any] | None:
    """(the smiley question, the optional follow-up) of the survey's current version, or None
    when the version cannot be asked on a kiosk."""
    version = survey.current_version
    if version is None:
        return None
    questions = list(version.questions.order_by("position", "id"))
    if not questions or questions[0].type != QuestionType.SMILEY:
        return None
    follow_up = questions[1] if len(questions) > 1 else None
    if follow_up is not None and follow_up.type not in FOLLOW_UP_TYPES:
        return None
    if any(q.required for q in questions[1:]) or len(questions) > 2:
        return None
    return questions[0], follow_up


def kiosk_survey_problem(survey) -> str | None:
    """Why a survey cannot be asked on a kiosk, in words for the form; None when it can."""
    if not survey.is_open:
        return _("Publish the survey first: a kiosk asks the published version.")
    if kiosk_questions(survey) is None:
        return _(
            "A kiosk asks a four-face smiley question, optionally followed by one text or "
            "single-choice question that is not required. Make the survey's first question a "
            "smiley and keep at most one optional follow-up."
        )
    return None


def _clean_device_fields(survey, name: str, location: str, min_interval_seconds) -> dict:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the device a name, such as “Kamppi exit”.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    location = (location or "").strip()
    if len(location) > 100:
        errors["location"] = [_("Use at most 100 characters.")]
    low, high = INTERVAL_BOUNDS
    if (
        isinstance(min_interval_seconds, bool)
        or not isinstance(min_interval_seconds, int)
        or not low <= min_interval_seconds <= high
    ):
        errors["min_interval_seconds"] = [
            _("Enter a whole number of seconds from %(low)s to %(high)s.")
            % {"low": low, "high": high}
        ]
    if survey is not None and (problem := kiosk_survey_problem(survey)):
        errors["survey"] = [problem]
    if errors:
        first = next(iter(errors))
        raise ApplicationError(
            errors[first][0], code="invalid_device", extra={"field": first, "fields": errors}
        )
    return {"name": name, "location": location, "min_interval_seconds": min_interval_seconds}


@transaction.atomic
def kiosk_device_create(
    *,
    actor: Actor,
    organization,
    name: str,
    survey,
    location: str = "",
    min_interval_seconds: int = 3,
) -> tuple[KioskDevice, str]:
    """Register a device; returns it and its secret token (shown once, never stored).
    Raises ApplicationError `invalid_device` with every field's errors."""
    fields = _clean_device_fields(survey, name, location, min_interval_seconds)
    device = KioskDevice.objects.create(
        organization=organization,
        survey=survey,
        touchpoint=survey.touchpoint,
        created_by=getattr(actor, "user", None),
        **fields,
    )
    token = _new_handle(device)
    activity_record(
        organization=organization,
        actor=actor,
        action="distribution.kiosk.created",
        target=device,
        data={"survey": survey.public_id},
    )
    return device, token


def _new_handle(device: KioskDevice) -> str:
    token = secrets.token_urlsafe(24)
    handles.claim(HandleKind.KIOSK, kiosk_token_hash(token), device)
    return token


@transaction.atomic
def kiosk_device_new_token(*, actor: Actor, device: KioskDevice) -> str:
    """A new secret URL for the device (a tablet lost or replaced); the old one stops working."""
    handles.release(HandleKind.KIOSK, device)
    token = _new_handle(device)
    if device.revoked_at is not None:
        device.revoked_at = None
        device.save(update_fields=["revoked_at", "updated_at"])
    activity_record(
        organization=device.organization,
        actor=actor,
        action="distribution.kiosk.new_token",
        target=device,
    )
    return token


@transaction.atomic
def kiosk_device_revoke(*, actor: Actor, device: KioskDevice) -> KioskDevice:
    """The device's URL stops taking answers at once (its next sync is told so); the answers it
    already sent stay. Revoking twice changes nothing."""
    if device.revoked_at is not None:
        return device
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at", "updated_at"])
    activity_record(
        organization=device.organization,
        actor=actor,
        action="distribution.kiosk.revoked",
        target=device,
    )
    return device


@dataclass(frozen=True)
class _Item:
    id: str
    answered_at: datetime
    language: str
    answers: dict


def _parse_item(raw: Any, now: datetime) -> tuple[_Item | None, dict]:
    """One synced answer, or None and its errors."""
    if not isinstance(raw, dict) or not ANSWER_ID.match(str(raw.get("id", ""))):
        return None, {"id": [_("Each answer needs an id of 32 hexadecimal characters.")]}
    errors: dict[str, list[str]] = {}
    answered_at = None
    if isinstance(raw.get("answered_at"), str):
        try:
            answered_at = parse_datetime(raw["answered_at"])
        except ValueError:
            answered_at = None
    if answered_at is None or timezone.is_naive(answered_at):
        errors["answered_at"] = [_("Give the time as ISO 8601 with a time zone.")]
    elif answered_at < now - MAX_AGE:
        errors["answered_at"] = [_("The answer is older than 90 days.")]
    if not isinstance(raw.get("answers"), dict):
        errors["answers"] = [_("Give the answers as an object keyed by question.")]
    if errors:
        return None, errors
    return _Item(
        id=raw["id"],
        # A tablet's clock that runs ahead is the tablet's problem, not the response's.
        answered_at=min(answered_at, now),
        language=str(raw.get("language") or ""),
        answers=raw["answers"],
    ), {}


def kiosk_answers_sync(
    *, device: KioskDevice, items: Any, ip: str | None = None, user_agent: str = ""
) -> list[dict]:
    """Store a batch of the device's queued answers, each once, in one statement; returns one
    result per item: `stored`, `duplicate` (sent before) or `refused` with its errors. Raises
    ApplicationError `device_revoked`, or `invalid_batch` when `items` is not a list of 1 to
    MAX_BATCH."""
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise ApplicationError(
            _("Send 1 to %(n)s answers in a list.") % {"n": MAX_BATCH},
            code="invalid_batch",
            extra={"field": "answers"},
        )
    now = timezone.now()
    results: list[dict | None] = [None] * len(items)
    parsed: list[tuple[int, _Item]] = []
    for index, raw in enumerate(items):
        item, errors = _parse_item(raw, now)
        if item is None:
            results[index] = {"id": _raw_id(raw), "status": "refused", "errors": errors}
        else:
            parsed.append((index, item))
    parsed.sort(key=lambda pair: pair[1].answered_at)
    with transaction.atomic():
        locked = (
            KioskDevice.objects.select_for_update(of=("self",))
            .filter(organization_id=device.organization_id, pk=device.pk)
            .select_related("organization", "survey__current_version", "touchpoint")
            .first()
        )
        if locked is None or locked.revoked_at is not None:
            raise ApplicationError(_("This device has been removed."), code="device_revoked")
        times = sorted(filter(None, [locked.last_answered_at]))
        prepared: list[tuple[int, _Item, Any]] = []
        for index, item in parsed:
            try:
                prepared.append((index, item, _prepare(locked, item, times, ip, user_agent)))
            except AnswerErrors as invalid:
                results[index] = {"id": item.id, "status": "refused", "errors": invalid.fields}
            except ApplicationError as refused:
                errors = {"survey": [refused.message]}
                results[index] = {"id": item.id, "status": "refused", "errors": errors}
            times.append(item.answered_at)
        saved = responses_save(
            organization=locked.organization, prepared=[p for _, _, p in prepared]
        )
        for (index, item, _prepared), pk in zip(prepared, saved, strict=True):
            results[index] = {"id": item.id, "status": "stored" if pk else "duplicate"}
        stored = [item.answered_at for (_, item, _), pk in zip(prepared, saved, strict=True) if pk]
        last = max([*stored, *filter(None, [locked.last_answered_at])], default=None)
        KioskDevice.objects.filter(organization_id=locked.organization_id, pk=locked.pk).update(
            last_answered_at=last, last_seen_at=now, updated_at=now
        )
    return results


def _raw_id(raw: Any) -> str:
    return str(raw.get("id", ""))[:64] if isinstance(raw, dict) else ""


def _prepare(device, item: _Item, earlier: list[datetime], ip, user_agent):
    """One answer validated as a kiosk response; `earlier` are the device's answer times before
    it (the last one stored and the batch's), for the button-mash flag."""
    survey = device.survey
    hidden = {"kiosk": device.public_id}
    if device.location:
        hidden["location"] = device.location
    before = [at for at in earlier if at <= item.answered_at]
    if before and item.answered_at - max(before) < timedelta(seconds=device.min_interval_seconds):
        hidden["flag"] = TOO_FAST
    languages = survey.current_version.languages if survey.current_version else []
    return response_prepare(
        organization=device.organization,
        survey=survey,
        answers=item.answers,
        channel=Channel.KIOSK,
        language=item.language if item.language in languages else survey.default_language,
        touchpoint=device.touchpoint,
        hidden_fields=hidden,
        submitted_at=item.answered_at,
        idempotency_key=f"kiosk:{device.public_id}:{item.id}",
        ip=ip,
        user_agent=user_agent,
    )
