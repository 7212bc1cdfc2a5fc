"""The organization's service levels: due times of a case in business hours, and who hears of a
breach. The arithmetic is in `alerts.sla` (pure); this module reads and writes the settings row."""

from datetime import datetime, time
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from alerts.enums import Priority
from alerts.models import CaseSettings, MemberAlertSettings
from alerts.sla import BusinessCalendar, add_business_hours, calendar_for
from core.exceptions import ApplicationError
from core.services import Actor, activity_record
from tenancy.models import Membership, Organization

# Business hours to the first contact and to resolution, per priority.
DEFAULT_SLA_HOURS: dict[str, tuple[float, float]] = {
    Priority.URGENT: (1, 8),
    Priority.HIGH: (4, 16),
    Priority.NORMAL: (8, 40),
    Priority.LOW: (16, 80),
}
DEFAULT_WORKDAYS = [0, 1, 2, 3, 4]


def case_settings_get(*, organization: Organization, lock: bool = False) -> CaseSettings:
    """The organization's case settings row, made with defaults on first use."""
    queryset = CaseSettings.objects.filter(organization=organization).select_related(
        "default_assignee", "escalation_contact"
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    row = queryset.first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            CaseSettings.objects.create(
                organization=organization,
                workdays=DEFAULT_WORKDAYS,
                sla_hours={key: list(value) for key, value in DEFAULT_SLA_HOURS.items()},
            )
    except IntegrityError:
        pass  # made by a concurrent call
    return queryset.get()


def case_settings_read(*, organization: Organization) -> CaseSettings:
    """The settings row, or the defaults unsaved: reading a page never writes."""
    row = (
        CaseSettings.objects.filter(organization=organization)
        .select_related("default_assignee", "escalation_contact")
        .first()
    )
    return row or CaseSettings(
        organization=organization,
        workdays=DEFAULT_WORKDAYS,
        day_start=time(8),
        day_end=time(16),
        sla_hours={key: list(value) for key, value in DEFAULT_SLA_HOURS.items()},
    )


def sla_hours(settings: CaseSettings, priority: str) -> tuple[float, float]:
    first, resolution = settings.sla_hours.get(priority) or DEFAULT_SLA_HOURS[priority]
    return float(first), float(resolution)


@lru_cache(maxsize=256)
def _calendar(
    country: str, time_zone: str, workdays: tuple[int, ...], start: time, end: time, year: int
) -> BusinessCalendar:
    return calendar_for(
        country=country,
        time_zone=time_zone,
        workdays=frozenset(workdays),
        day_start=start,
        day_end=end,
        years=range(year - 1, year + 3),
    )


def business_calendar(settings: CaseSettings, organization: Organization, year: int):
    return _calendar(
        settings.holiday_country,
        organization.time_zone,
        tuple(sorted(settings.workdays or DEFAULT_WORKDAYS)),
        _as_time(settings.day_start),
        _as_time(settings.day_end),
        year,
    )


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def due_times(
    *, settings: CaseSettings, organization: Organization, priority: str, start: datetime
) -> tuple[datetime, datetime]:
    """When the first contact and the resolution are due, counted in business hours."""
    calendar = business_calendar(settings, organization, start.year)
    first, resolution = sla_hours(settings, priority)
    return add_business_hours(calendar, start, first), add_business_hours(
        calendar, start, resolution
    )


def escalation_recipient(*, organization: Organization, owner, settings: CaseSettings):
    """Whom to tell about a breach of `owner`'s case: their escalation contact, else the
    organization's."""
    if owner is not None:
        row = (
            MemberAlertSettings.objects.filter(organization=organization, user=owner)
            .select_related("escalation_contact")
            .first()
        )
        if row is not None and row.escalation_contact is not None:
            return row.escalation_contact
    return settings.escalation_contact


def case_settings_update(*, actor: Actor, organization: Organization, **changes) -> CaseSettings:
    """Change service levels, working hours, holidays, default assignee or escalation contact.

    `sla_hours` maps each priority to [first contact, resolution] in business hours; the first
    contact may not come after the resolution. Raises ApplicationError with field errors.
    """
    errors: dict[str, list[str]] = {}
    for field in ("default_assignee", "escalation_contact"):
        user = changes.get(field)
        if (
            user is not None
            and not Membership.objects.filter(organization=organization, user=user).exists()
        ):
            errors[field] = [_("Choose a member of this organization.")]
    hours = changes.get("sla_hours")
    if hours is not None:
        for priority, pair in hours.items():
            valid = (
                priority in Priority.values
                and isinstance(pair, list | tuple)
                and len(pair) == 2
                and all(isinstance(h, int | float) and 0 < h <= 2000 for h in pair)
                and pair[0] <= pair[1]
            )
            if not valid:
                errors.setdefault("sla_hours", []).append(
                    _("%(priority)s: give two numbers of hours, first contact before resolution.")
                    % {"priority": priority}
                )
    workdays = changes.get("workdays")
    if workdays is not None and (
        not workdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in workdays)
    ):
        errors["workdays"] = [_("Choose at least one working day.")]
    start, end = changes.get("day_start"), changes.get("day_end")
    if start is not None and end is not None and _as_time(start) >= _as_time(end):
        errors["day_end"] = [_("The working day must end after it starts.")]
    country = changes.get("holiday_country")
    if country is not None:
        import holidays

        if country.upper() not in holidays.list_supported_countries():
            errors["holiday_country"] = [_("Unknown country code.")]
        changes["holiday_country"] = country.upper()
    if errors:
        raise ApplicationError(_("Check the case settings."), "invalid", {"fields": errors})
    with transaction.atomic():
        settings = case_settings_get(organization=organization, lock=True)
        for field, value in changes.items():
            setattr(settings, field, value)
        settings.save()
        activity_record(
            organization=organization,
            actor=actor,
            action="alerts.case_settings.updated",
            data={"fields": sorted(changes)},
        )
    return settings
