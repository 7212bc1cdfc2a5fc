"""What a digest says: its periods, its headline numbers and the email that carries them.

Periods are days, ISO weeks or calendar months in the organization's time zone; a period's digest
is due from `SEND_HOUR` o'clock local time on the day after a day, on the Monday after a week and
on the 1st after a month. The numbers are those the pages show:
`metrics.selectors.touchpoint_metric_scores` (rollups, scored by `metrics.scores`), judged by
`metrics.kpis.status_of` and `trend_of`, rounded once by `metrics.formatting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from journeys.enums import JourneyStatus, TargetStatus
from journeys.models import MeasurementPlan
from metrics import registry, scores
from metrics.formatting import display_score
from metrics.kpis import Trend, significance_level, status_of, trend_of
from metrics.selectors import touchpoint_metric_scores
from reports.dashboard_refs import DashboardRef
from reports.models import Cadence

SEND_HOUR = 7
TREND_LABELS = {
    Trend.IMPROVING: gettext_lazy("Improving"),
    Trend.DECLINING: gettext_lazy("Declining"),
    Trend.NO_DETECTABLE_CHANGE: gettext_lazy("No detectable change"),
    Trend.NO_DATA: gettext_lazy("No data"),
}
CADENCE_NOUNS = {
    Cadence.DAILY: gettext_lazy("Daily digest"),
    Cadence.WEEKLY: gettext_lazy("Weekly digest"),
    Cadence.MONTHLY: gettext_lazy("Monthly digest"),
}


# Periods


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    previous_start: date
    previous_end: date


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def period_of(cadence: str, start: date) -> Period:
    """The period of `cadence` that begins on `start`, and the one before it."""
    if cadence == Cadence.MONTHLY:
        previous = _month_before(start)
        return Period(
            start, _month_after(start) - timedelta(days=1), previous, start - timedelta(days=1)
        )
    days = 7 if cadence == Cadence.WEEKLY else 1
    return Period(
        start,
        start + timedelta(days=days - 1),
        start - timedelta(days=days),
        start - timedelta(days=1),
    )


def due_period(cadence: str, local_now: datetime) -> Period | None:
    """The period whose digest is due at `local_now` (organization's time), or None: yesterday
    for daily; last week on Mondays; last month on the 1st; never before `SEND_HOUR`."""
    if local_now.hour < SEND_HOUR:
        return None
    today = local_now.date()
    if cadence == Cadence.DAILY:
        return period_of(cadence, today - timedelta(days=1))
    if cadence == Cadence.WEEKLY:
        return period_of(cadence, today - timedelta(days=7)) if today.weekday() == 0 else None
    if cadence == Cadence.MONTHLY:
        return period_of(cadence, _month_before(today)) if today.day == 1 else None
    return None


# Content


@dataclass(frozen=True)
class Headline:
    """One planned metric over the digest's period, rounded for display."""

    touchpoint: str
    metric: str
    metric_label: object
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    hidden: bool
    low_precision: bool
    target: float | None
    status: str
    delta: float | None
    previous_n: int
    trend: str

    digits: int = 1

    def _number(self, value: float | None) -> str:
        if value is None:
            return "–"
        return formats.number_format(value, decimal_pos=self.digits)

    @property
    def value_text(self) -> str:
        return self._number(self.value)

    @property
    def interval_text(self) -> str:
        return f"{self._number(self.ci_low)} – {self._number(self.ci_high)}"

    @property
    def target_text(self) -> str:
        return self._number(self.target)

    @property
    def delta_text(self) -> str:
        """The change in points with its sign (a true minus sign, as typeset)."""
        if self.delta is None:
            return ""
        sign = "+" if self.delta > 0 else ("−" if self.delta < 0 else "±")
        return sign + self._number(abs(self.delta))

    @property
    def status_label(self):
        return TargetStatus(self.status).label

    @property
    def trend_label(self):
        return TREND_LABELS.get(self.trend, "")

    @property
    def is_mover(self) -> bool:
        return self.trend in (Trend.IMPROVING, Trend.DECLINING)


@dataclass(frozen=True)
class DigestContent:
    organization_name: str
    dashboard: DashboardRef
    cadence: str
    period: Period
    headlines: list[Headline]
    url: str

    @property
    def movers(self) -> list[Headline]:
        return [headline for headline in self.headlines if headline.is_mover]


def _headline(plan: MeasurementPlan, current: scores.Score, previous: scores.Score) -> Headline:
    metric = plan.metric
    comparison = scores.compare(current, previous, level=significance_level())
    shown = not current.hidden
    definition = registry.get(metric)
    return Headline(
        touchpoint=plan.touchpoint.name,
        metric=metric,
        metric_label=definition.label if definition else metric,
        n=current.n,
        value=display_score(metric, current.score) if shown else None,
        ci_low=display_score(metric, current.ci_low) if shown else None,
        ci_high=display_score(metric, current.ci_high) if shown else None,
        hidden=current.hidden,
        low_precision=current.low_precision,
        target=None if plan.target_value is None else float(plan.target_value),
        status=status_of(metric, current, plan.target_value),
        delta=display_score(metric, comparison.delta) if comparison.delta is not None else None,
        previous_n=previous.n,
        trend=trend_of(metric, comparison),
        digits=registry.digits(metric),
    )


def digest_content(
    *, organization, dashboard: DashboardRef, cadence: str, period: Period
) -> DigestContent:
    """The dashboard's planned metrics over the period, each against its target and the period
    before (a significant change makes it a mover). Three queries, whatever the number of plans."""
    plans = MeasurementPlan.objects.filter(
        organization=organization, touchpoint__archived_at__isnull=True
    ).select_related("touchpoint")
    if dashboard.touchpoint is not None:
        plans = plans.filter(touchpoint=dashboard.touchpoint)
    else:  # the overview's plans: those of active journeys
        plans = plans.filter(touchpoint__journey__status=JourneyStatus.ACTIVE)
    plans = list(
        plans.order_by(
            "touchpoint__journey__name",
            "touchpoint__stage__position",
            "touchpoint__position",
            "metric",
        )
    )
    pairs = {(plan.touchpoint_id, plan.metric) for plan in plans}
    current = touchpoint_metric_scores(
        organization=organization, pairs=pairs, start=period.start, end=period.end
    )
    previous = touchpoint_metric_scores(
        organization=organization, pairs=pairs, start=period.previous_start, end=period.previous_end
    )
    headlines = [
        _headline(plan, current[pair], previous[pair])
        for plan in plans
        if (pair := (plan.touchpoint_id, plan.metric)) in current
    ]
    return DigestContent(
        organization_name=organization.name,
        dashboard=dashboard,
        cadence=cadence,
        period=period,
        headlines=headlines,
        url=f"{settings.PUBLIC_BASE_URL}{dashboard.path(organization)}",
    )


def recipient_language(organization, user) -> str:
    offered = {code for code, _name in settings.LANGUAGES}
    for language in (getattr(user, "language", ""), organization.default_language):
        if language in offered:
            return language
    return settings.LANGUAGE_CODE


def digest_message(*, organization, content: DigestContent, user) -> EmailMultiAlternatives:
    """The email to one recipient, in their language (HTML and text)."""
    with translation.override(recipient_language(organization, user)):
        context = {
            "content": content,
            "cadence_noun": CADENCE_NOUNS[Cadence(content.cadence)],
            "period_label": _period_label(content.period),
            "manage_url": settings.PUBLIC_BASE_URL
            + reverse("reports:digests", args=[organization.slug]),
            "recipient": user,
        }
        subject = _("%(noun)s: %(dashboard)s, %(period)s") % {
            "noun": context["cadence_noun"],
            "dashboard": content.dashboard.label
            if content.dashboard.touchpoint
            else content.organization_name,
            "period": context["period_label"],
        }
        text = render_to_string("reports/email/digest.txt", context)
        html = render_to_string("reports/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def _period_label(period: Period) -> str:
    first = formats.date_format(period.start, "SHORT_DATE_FORMAT")
    if period.start == period.end:
        return first
    return f"{first} – {formats.date_format(period.end, 'SHORT_DATE_FORMAT')}"
