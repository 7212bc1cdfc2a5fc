"""Touchpoint KPIs: the current value of every planned metric against its baseline and target."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from journeys.enums import TargetStatus, target_status
from journeys.models import MeasurementPlan
from metrics import registry, scores
from metrics.selectors import touchpoint_metric_scores


class Trend:
    NO_DATA = "no_data"
    IMPROVING = "improving"
    DECLINING = "declining"
    NO_DETECTABLE_CHANGE = "no_detectable_change"


def significance_level() -> float:
    return settings.METRICS_SIGNIFICANCE_LEVEL


@dataclass(frozen=True)
class Kpi:
    plan: MeasurementPlan
    score: scores.Score
    comparison: scores.Comparison
    status: str
    trend: str

    touchpoint = property(lambda self: self.plan.touchpoint)
    metric = property(lambda self: self.plan.metric)
    kpi_kind = property(lambda self: self.plan.kpi_kind)
    owner_email = property(
        lambda self: self.plan.touchpoint.owner.email if self.plan.touchpoint.owner else None
    )
    n = property(lambda self: self.score.n)
    current = property(lambda self: self.score.score)
    ci_low = property(lambda self: self.score.ci_low)
    ci_high = property(lambda self: self.score.ci_high)
    baseline = property(lambda self: _float(self.plan.baseline_value))
    target = property(lambda self: _float(self.plan.target_value))
    target_date = property(lambda self: self.plan.target_date)
    delta = property(lambda self: self.comparison.delta)
    p_value = property(lambda self: self.comparison.p_value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def status_of(metric: str, score: scores.Score, target) -> str:
    """journeys.enums.TargetStatus of a score; a hidden score (under 5 answers) is no data."""
    value = None if score.hidden else score.score
    return target_status(metric=metric, value=value, target=target)


def trend_of(metric: str, comparison: scores.Comparison) -> str:
    if comparison.current_score is None:
        return Trend.NO_DATA
    if not comparison.significant or comparison.delta is None:
        return Trend.NO_DETECTABLE_CHANGE
    rising = comparison.delta > 0
    if metric in scores.LOWER_IS_BETTER:
        rising = not rising
    return Trend.IMPROVING if rising else Trend.DECLINING


def current_window(organization, today: date | None = None) -> tuple[date, date, date, date]:
    """(start, end) of the current window and of the equally long window before it."""
    today = today or timezone.localdate(timezone=organization.zone)
    days = settings.METRICS_CURRENT_WINDOW_DAYS
    start = today - timedelta(days=days - 1)
    return start, today, start - timedelta(days=days), start - timedelta(days=1)


def kpis_for_plans(
    *, organization, plans: list[MeasurementPlan], today: date | None = None
) -> list[Kpi]:
    """KPIs for the given plans in two queries, whatever their number.

    A plan whose metric cannot be scored yet (EXQ, mystery shopping: metrics.registry) is listed
    with no answers and the status "not scored yet", never an error."""
    start, end, previous_start, previous_end = current_window(organization, today)
    pairs = {(plan.touchpoint_id, plan.metric) for plan in plans}
    current = touchpoint_metric_scores(organization=organization, pairs=pairs, start=start, end=end)
    previous = touchpoint_metric_scores(
        organization=organization, pairs=pairs, start=previous_start, end=previous_end
    )
    result = []
    for plan in plans:
        pair = (plan.touchpoint_id, plan.metric)
        if pair not in current:
            result.append(_unscored(plan))
            continue
        comparison = scores.compare(current[pair], previous[pair], level=significance_level())
        result.append(
            Kpi(
                plan=plan,
                score=current[pair],
                comparison=comparison,
                status=status_of(plan.metric, current[pair], plan.target_value),
                trend=trend_of(plan.metric, comparison),
            )
        )
    return result


def _unscored(plan: MeasurementPlan) -> Kpi:
    empty = registry.empty_score(plan.metric)
    return Kpi(
        plan=plan,
        score=empty,
        comparison=scores.compare(empty, empty),
        status=TargetStatus.NOT_SCORED,
        trend=Trend.NO_DATA,
    )


def kpi_list(
    *, organization, journey_public_id: str | None = None, today: date | None = None
) -> list[Kpi]:
    plans = MeasurementPlan.objects.filter(organization=organization).select_related(
        "touchpoint__journey", "touchpoint__stage", "touchpoint__owner"
    )
    if journey_public_id:
        plans = plans.filter(touchpoint__journey__public_id=journey_public_id)
    plans = plans.order_by(
        "touchpoint__journey__name", "touchpoint__stage__position", "touchpoint__position", "metric"
    )
    return kpis_for_plans(organization=organization, plans=list(plans), today=today)
