"""What the dashboards show: the organization overview, the touchpoint dashboard, the journey
heatmap and the ranking, assembled from metrics' selectors (rollups) in a fixed number of queries.

Scores come only from `metrics.selectors` (which score with `metrics.scores` through the
registry), so a page shows the numbers the API and exports give. Each function here states its
queries; none grows with the number of responses, periods, touchpoints or plans.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core import signing
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import MemberInvitation
from journeys.enums import JourneyStatus, TargetStatus
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from metrics import registry, scores
from metrics.kpis import Trend, status_of, trend_of
from metrics.periods import Interval
from metrics.rollups import day_bounds
from metrics.selectors import (
    SeriesScores,
    TouchpointHistograms,
    hidden_field_histograms,
    score_histogram,
    score_series,
    touchpoint_histograms,
    touchpoint_series,
)
from reports import charts
from reports.filters import ReportFilters
from surveys.enums import QuestionType, SurveyStatus
from surveys.models import Answer, Response, Survey
from tenancy.models import Membership, Organization

# Status and trend are said in words and marked with a symbol; colour only repeats them.
STATUS_SYMBOLS = {
    TargetStatus.ON_TARGET: "✓",
    TargetStatus.BELOW: "✗",
    TargetStatus.NO_TARGET: "–",
    TargetStatus.NO_DATA: "…",
    TargetStatus.NOT_SCORED: "∅",
}
TREND_SYMBOLS = {
    Trend.IMPROVING: "▲",
    Trend.DECLINING: "▼",
    Trend.NO_DETECTABLE_CHANGE: "●",
    Trend.NO_DATA: "…",
}
TREND_LABELS = {
    Trend.IMPROVING: gettext_lazy("Improving"),
    Trend.DECLINING: gettext_lazy("Declining"),
    Trend.NO_DETECTABLE_CHANGE: gettext_lazy("No detectable change"),
    Trend.NO_DATA: gettext_lazy("No data yet"),
}
NEWEST_COMMENTS = 10
MOVERS_SHOWN = 10
SPARKLINE_MONTHS = 12
MIN_RANKED = scores.MIN_N_SHOWN


# --- display values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A score as a page shows it: rounded once for display, with n and its 95 % interval."""

    metric: str
    n: int
    value: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    hidden: bool
    low_precision: bool

    @classmethod
    def of(cls, score: scores.Score) -> Figure:
        digits = registry.digits(score.metric)
        shown = not score.hidden and score.score is not None
        return cls(
            metric=score.metric,
            n=score.n,
            value=charts.rounded(score.score, digits) if shown else None,
            ci_low=charts.rounded(score.ci_low, digits) if shown else None,
            ci_high=charts.rounded(score.ci_high, digits) if shown else None,
            hidden=not shown,
            low_precision=score.low_precision,
        )

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None


@dataclass(frozen=True)
class Status:
    key: str
    label: str
    symbol: str

    @classmethod
    def of(cls, key: str) -> Status:
        return cls(key, str(TargetStatus(key).label), STATUS_SYMBOLS.get(key, ""))


@dataclass(frozen=True)
class Change:
    """The period comparison: "significant change" (points and p) or "no detectable change"."""

    trend: str
    delta: Decimal | None
    p_value: float | None
    significant: bool
    previous: Figure

    @property
    def label(self) -> str:
        return str(TREND_LABELS[self.trend])

    @property
    def symbol(self) -> str:
        return TREND_SYMBOLS[self.trend]

    @property
    def p_text(self) -> str:
        if self.p_value is None:
            return ""
        return "< 0.001" if self.p_value < 0.001 else f"{self.p_value:.3f}"


def change_of(series: SeriesScores) -> Change:
    comparison = series.comparison
    digits = registry.digits(series.metric)
    return Change(
        trend=trend_of(series.metric, comparison),
        delta=charts.rounded(comparison.delta, digits) if comparison.delta is not None else None,
        p_value=comparison.p_value,
        significant=comparison.significant,
        previous=Figure.of(series.previous),
    )


def _float(value) -> float | None:
    return None if value is None else float(value)


def trend_points(series: SeriesScores, interval: Interval) -> list[charts.TrendPoint]:
    return [
        charts.TrendPoint(
            start=first,
            label=period_label(first, last, interval),
            n=score.n,
            score=score.score,
            ci_low=score.ci_low,
            ci_high=score.ci_high,
            hidden=score.hidden,
            low_precision=score.low_precision,
        )
        for first, last, score in series.periods
    ]


def period_label(first: date, last: date, interval: Interval) -> str:
    """Unique, short labels for chart categories: 2026-03-31, W14 2026, 2026-03."""
    if interval == Interval.MONTH:
        return first.strftime("%Y-%m")
    if interval == Interval.WEEK:
        year, week, _weekday = first.isocalendar()
        return _("W%(week)02d %(year)s") % {"week": week, "year": year}
    return first.isoformat()


def sparkline_range(end: date) -> tuple[date, date]:
    """The 12 whole months ending with the month of `end` (the last one up to `end`)."""
    month = end.month - (SPARKLINE_MONTHS - 1)
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1), end


# --- rows of planned metrics ----------------------------------------------------------------


@dataclass
class PlanRow:
    """One measurement plan's numbers for a page."""

    plan: MeasurementPlan
    definition: registry.MetricDefinition | None
    figure: Figure
    status: Status
    change: Change | None
    series: SeriesScores | None = None
    sparkline: charts.Chart | None = None
    trend_chart: charts.Chart | None = None
    distribution_chart: charts.Chart | None = None

    @property
    def touchpoint(self) -> Touchpoint:
        return self.plan.touchpoint

    @property
    def metric_label(self) -> str:
        return str(self.definition.label) if self.definition else self.plan.metric

    @property
    def scorable(self) -> bool:
        return self.definition is not None and self.definition.scorable

    @property
    def target(self) -> Decimal | None:
        return self.plan.target_value


def plan_row(plan: MeasurementPlan, series: SeriesScores | None) -> PlanRow:
    definition = registry.get(plan.metric)
    if series is None:
        return PlanRow(
            plan=plan,
            definition=definition,
            figure=Figure.of(registry.empty_score(plan.metric)),
            status=Status.of(TargetStatus.NOT_SCORED),
            change=None,
        )
    return PlanRow(
        plan=plan,
        definition=definition,
        figure=Figure.of(series.total),
        status=Status.of(status_of(plan.metric, series.total, plan.target_value)),
        change=change_of(series),
        series=series,
    )


# --- the organization overview --------------------------------------------------------------


@dataclass
class JourneyKeyMetrics:
    journey: Journey
    rows: list[PlanRow]


@dataclass
class ChecklistItem:
    key: str
    label: str
    done: bool
    url_name: str


@dataclass
class Overview:
    journeys: list[JourneyKeyMetrics]
    movers: list[PlanRow]
    comments: list[Comment]
    checklist: list[ChecklistItem]
    any_plans: bool

    @property
    def checklist_done(self) -> bool:
        return all(item.done for item in self.checklist)


def overview(
    *, organization: Organization, filters: ReportFilters, level: float, shared: bool = False
) -> Overview:
    """Key metrics per active journey (key touchpoints' plans) with a 12-month sparkline, the
    significant movers among every plan, the newest low-score comments and the getting-started
    checklist. Six queries: plans, two rollup reads, comments and their scores, the checklist.
    A `shared` (read-only link) overview leaves out what respondents wrote and the checklist."""
    plans = list(
        MeasurementPlan.objects.filter(
            organization=organization,
            touchpoint__archived_at=None,
            touchpoint__journey__status=JourneyStatus.ACTIVE,
        )
        .select_related("touchpoint__journey", "touchpoint__stage")
        .order_by(
            "touchpoint__journey__name",
            "touchpoint__journey_id",
            "touchpoint__stage__position",
            "touchpoint__position",
            "metric",
        )
    )
    metric_filters = filters.metric_filters()
    found = touchpoint_series(
        organization=organization,
        pairs={(plan.touchpoint_id, plan.metric) for plan in plans},
        start=filters.start,
        end=filters.end,
        interval=filters.interval,
        filters=metric_filters,
        level=level,
    )
    key_plans = [plan for plan in plans if plan.touchpoint.is_key]
    spark_start, spark_end = sparkline_range(filters.end)
    monthly = touchpoint_series(
        organization=organization,
        pairs={(plan.touchpoint_id, plan.metric) for plan in key_plans},
        start=spark_start,
        end=spark_end,
        interval=Interval.MONTH,
        filters=metric_filters,
        level=level,
    )
    rows = [plan_row(plan, found.get((plan.touchpoint_id, plan.metric))) for plan in plans]
    by_journey: dict[int, JourneyKeyMetrics] = {}
    for row in rows:
        if not row.touchpoint.is_key:
            continue
        journey = row.touchpoint.journey
        by_journey.setdefault(journey.pk, JourneyKeyMetrics(journey, [])).rows.append(row)
        months = monthly.get((row.plan.touchpoint_id, row.plan.metric))
        if months is not None:
            row.sparkline = charts.sparkline(
                key=f"spark-{row.plan.public_id}",
                title=_("%(metric)s at %(touchpoint)s, month by month")
                % {"metric": row.metric_label, "touchpoint": row.touchpoint.name},
                points=trend_points(months, Interval.MONTH),
                digits=registry.digits(row.plan.metric),
                metric_label=row.metric_label,
            )
    movers = sorted(
        (row for row in rows if row.change is not None and row.change.significant),
        key=lambda row: (row.change.p_value, -abs(row.change.delta or 0)),
    )[:MOVERS_SHOWN]
    return Overview(
        journeys=list(by_journey.values()),
        movers=movers,
        comments=[]
        if shared
        else comment_list(
            organization=organization, filters=filters, low_only=True, limit=NEWEST_COMMENTS
        ),
        checklist=[] if shared else getting_started(organization=organization),
        any_plans=bool(plans),
    )


def getting_started(*, organization: Organization) -> list[ChecklistItem]:
    """What a new organization has done of the first steps, in one query."""
    org_ref = OuterRef("pk")
    flags = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(
            has_journey=Exists(Journey.objects.filter(organization=org_ref)),
            has_plan=Exists(MeasurementPlan.objects.filter(organization=org_ref)),
            has_published=Exists(
                Survey.objects.filter(organization=org_ref, status=SurveyStatus.PUBLISHED)
            ),
            has_response=Exists(Response.objects.filter(organization=org_ref)),
            members=Subquery(
                Membership.objects.filter(organization=org_ref)
                .order_by()
                .values("organization")
                .annotate(count=Count("pk"))
                .values("count")[:1]
            ),
            has_invitation=Exists(MemberInvitation.objects.filter(organization=org_ref)),
        )
        .values(
            "has_journey", "has_plan", "has_published", "has_response", "members", "has_invitation"
        )
        .get()
    )
    has_teammate = (flags["members"] or 0) > 1 or flags["has_invitation"]
    return [
        ChecklistItem(
            "journey", _("Map a customer journey"), flags["has_journey"], "journeys:journeys"
        ),
        ChecklistItem(
            "plan",
            _("Plan a metric at a touchpoint, with a target"),
            flags["has_plan"],
            "journeys:journeys",
        ),
        ChecklistItem(
            "survey", _("Publish a survey"), flags["has_published"], "surveys:builder_list"
        ),
        ChecklistItem(
            "response",
            _("Receive the first response"),
            flags["has_response"],
            "surveys:builder_list",
        ),
        ChecklistItem("teammate", _("Invite a teammate"), has_teammate, "accounts:members"),
    ]


# --- comments -------------------------------------------------------------------------------


@dataclass
class CommentScore:
    metric: str
    label: str
    value: str
    group: str


@dataclass
class Comment:
    answer: Answer
    scores: list[CommentScore] = field(default_factory=list)

    @property
    def response(self) -> Response:
        return self.answer.response

    @property
    def text(self) -> str:
        return self.answer.value_text


def _group_q(definition: registry.MetricDefinition, group: registry.ScoreGroup) -> Q:
    return Q(
        question__metric=definition.name,
        **{f"{group.field}__gte": group.low, f"{group.field}__lte": group.high},
    )


def comment_queryset(
    *,
    organization: Organization,
    filters: ReportFilters,
    touchpoint: Touchpoint | None = None,
    group: tuple[registry.MetricDefinition, registry.ScoreGroup] | None = None,
    low_only: bool = False,
):
    """Open answers (text questions) of responses in the filters' range, newest first; with
    `group` only responses whose answer of that metric lies in the group, with `low_only` only
    responses with a low score on any metric (each metric's first group: detractors, CSAT 1-2...).
    """
    first, _unused = day_bounds(filters.start, organization.time_zone)
    _unused, last = day_bounds(filters.end, organization.time_zone)
    narrowing = {"touchpoint_ids": (touchpoint.pk,)} if touchpoint is not None else {}
    comments = (
        Answer.objects.filter(
            organization=organization,
            # Lets PostgreSQL walk response_org_submitted / response_org_tp_sub newest first
            # and stop at the page's end instead of joining every comment of the range.
            response__organization=organization,
            question__type=QuestionType.TEXT,
            response__submitted_at__gte=first,
            response__submitted_at__lt=last,
        )
        .exclude(value_text="")
        .filter(filters.metric_filters(**narrowing).as_raw_q())
    )
    score_filter = None
    if group is not None:
        score_filter = _group_q(*group)
    elif low_only:
        score_filter = reduce(
            or_,
            [
                _group_q(definition, definition.low_group)
                for definition in registry.METRICS.values()
                if definition.scorable and definition.low_group
            ],
        )
    if score_filter is not None:
        scored = Answer.objects.filter(
            organization=organization, response=OuterRef("response")
        ).filter(score_filter)
        comments = comments.filter(Exists(scored))
    return comments.select_related("response__touchpoint", "response__survey", "question").order_by(
        "-response__submitted_at", "-id"
    )


@dataclass
class CommentPage:
    answers: list[Answer]
    next_cursor: str | None  # opens the page of older comments; None on the last page
    is_first: bool


COMMENT_CURSOR_SALT = "reports.comments"


def comment_page(comments, *, after: str = "", size: int = 20) -> CommentPage:
    """Keyset pagination over `comment_queryset`: the `size` comments older than the cursor.

    No COUNT and no OFFSET, so a page costs the same however many comments the range holds.
    The cursor is signed, so internal ids never reach the URL in the clear and cannot be
    forged; a bad or tampered cursor starts from the newest.
    """
    anchor = None
    if after:
        try:
            anchor = signing.loads(after, salt=COMMENT_CURSOR_SALT)
        except signing.BadSignature:
            anchor = None
    if anchor is not None:
        moment, answer_id = datetime.fromisoformat(anchor[0]), int(anchor[1])
        comments = comments.filter(
            Q(response__submitted_at__lt=moment)
            | Q(response__submitted_at=moment, id__lt=answer_id)
        )
    rows = list(comments[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = signing.dumps(
            [last.response.submitted_at.isoformat(), last.pk], salt=COMMENT_CURSOR_SALT
        )
    return CommentPage(answers=rows, next_cursor=cursor, is_first=anchor is None)


def attach_scores(*, organization: Organization, answers: list[Answer]) -> list[Comment]:
    """The comments with every score their responses gave (one query)."""
    comments = [Comment(answer) for answer in answers]
    if not comments:
        return comments
    response_ids = {comment.answer.response_id for comment in comments}
    rows = (
        Answer.objects.filter(
            organization=organization,
            response_id__in=response_ids,
            question__metric__in=registry.scorable_names(),
            value_int__isnull=False,
        )
        .order_by("response_id", "id")
        .values_list("response_id", "question__metric", "value_int", "value_int_2")
    )
    by_response: dict[int, list[CommentScore]] = defaultdict(list)
    for response_id, metric, value, second in rows:
        definition = registry.get(metric)
        shown = f"{value} / {second}" if second is not None else str(value)
        group = (
            next((g for g in definition.groups if g.contains(value)), None) if definition else None
        )
        by_response[response_id].append(
            CommentScore(
                metric=metric,
                label=str(definition.short_label) if definition else metric,
                value=shown,
                group=str(group.label) if group else "",
            )
        )
    for comment in comments:
        comment.scores = by_response.get(comment.answer.response_id, [])
    return comments


def comment_list(
    *, organization: Organization, filters: ReportFilters, low_only: bool, limit: int
) -> list[Comment]:
    """The newest `limit` comments (two queries)."""
    answers = list(
        comment_queryset(organization=organization, filters=filters, low_only=low_only)[:limit]
    )
    return attach_scores(organization=organization, answers=answers)


# --- the touchpoint dashboard ---------------------------------------------------------------


def touchpoint_rows(
    *,
    organization: Organization,
    touchpoint: Touchpoint,
    plans: list[MeasurementPlan],
    filters: ReportFilters,
    level: float,
) -> list[PlanRow]:
    """Each planned metric's trend, distribution and period comparison (one query)."""
    found = touchpoint_series(
        organization=organization,
        pairs={(touchpoint.pk, plan.metric) for plan in plans},
        start=filters.start,
        end=filters.end,
        interval=filters.interval,
        filters=filters.metric_filters(),
        level=level,
    )
    rows = []
    for plan in plans:
        row = plan_row(plan, found.get((touchpoint.pk, plan.metric)))
        # No answers in the range at all: a page of empty charts says less than one sentence.
        if row.series is not None and row.definition is not None and row.series.total.n:
            definition = row.definition
            row.trend_chart = charts.trend_chart(
                key=f"trend-{plan.public_id}",
                title=_("%(metric)s by %(period)s")
                % {"metric": definition.label, "period": interval_word(filters.interval)},
                points=trend_points(row.series, filters.interval),
                target=_float(plan.target_value),
                scale_min=float(definition.scale_min),
                scale_max=float(definition.scale_max),
                digits=definition.digits,
                metric_label=str(definition.label),
                higher_is_better=definition.higher_is_better,
            )
            if not row.series.total.hidden:  # the answers per value would show a hidden score
                row.distribution_chart = distribution(
                    definition, row.series.histogram, plan.public_id
                )
        rows.append(row)
    return rows


def interval_word(interval: Interval) -> str:
    return {Interval.DAY: _("day"), Interval.WEEK: _("week"), Interval.MONTH: _("month")}[interval]


def _answer_values(definition: registry.MetricDefinition, histogram: dict) -> list:
    """Every value of the raw answer scale (for WOMI the recommend answer), so empty values show."""
    if definition.groups:
        low = min(group.low for group in definition.groups)
        high = max(group.high for group in definition.groups)
        return list(range(low, high + 1))
    return sorted(histogram)


def distribution(definition: registry.MetricDefinition, histogram: dict, key: str) -> charts.Chart:
    """Answers per scale value, coloured and named by score group where the metric has them."""
    if definition.name == "womi":
        # The joint (recommend, discourage) histogram shown by the recommend answer.
        merged: dict[int, int] = Counter()
        for (recommend, _discourage), count in histogram.items():
            merged[recommend] += count
        histogram = dict(merged)
    values = sorted(set(_answer_values(definition, histogram)) | set(histogram))
    groups = None
    if definition.groups:
        groups = [
            str(next((g.label for g in definition.groups if g.contains(value)), ""))
            for value in values
        ]
    return charts.distribution_chart(
        key=f"dist-{key}",
        title=_("Answers to %(metric)s") % {"metric": definition.label},
        counts=[(str(value), int(histogram.get(value, 0))) for value in values],
        groups=groups,
    )


# --- the journey heatmap --------------------------------------------------------------------


@dataclass
class Tile:
    touchpoint: Touchpoint
    rows: list[PlanRow]
    chosen: Figure
    status: Status


@dataclass
class StageFigures:
    stage: Stage
    tiles: list[Tile]
    figure: Figure


@dataclass
class Heatmap:
    metric: registry.MetricDefinition
    stages: list[StageFigures]
    curve: charts.Chart | None


def heatmap_metric_choices(stages: list[Stage]) -> list[tuple[str, str]]:
    """Scorable metrics planned on the map, most planned first; every scorable metric with a
    fixed scale when nothing is planned yet."""
    planned = Counter(
        plan.metric
        for stage in stages
        for touchpoint in stage.map_touchpoints
        for plan in touchpoint.measurement_plans.all()
        if registry.get(plan.metric) and registry.get(plan.metric).plannable
    )
    if not planned:
        return [(d.name, str(d.label)) for d in registry.plannable()]
    order = list(registry.METRICS)
    names = sorted(planned, key=lambda name: (-planned[name], order.index(name)))
    return [(name, registry.label(name)) for name in names]


def heatmap(
    *,
    organization: Organization,
    journey: Journey,
    stages: list[Stage],
    metric: str,
    filters: ReportFilters,
) -> Heatmap:
    """Every touchpoint's planned metrics against target, the chosen metric's figure per
    touchpoint and pooled per stage (the stage's touchpoints' histograms merged), and the stage
    curve. One query (rollups of the whole journey), whatever the number of stages or touchpoints.
    """
    definition = registry.get(metric)
    planned = {
        plan.metric
        for stage in stages
        for touchpoint in stage.map_touchpoints
        for plan in touchpoint.measurement_plans.all()
    }
    found = touchpoint_histograms(
        organization=organization,
        metrics=planned | {metric},
        start=filters.start,
        end=filters.end,
        interval=filters.interval,
        filters=filters.metric_filters(journey_id=journey.pk),
    )
    empty = TouchpointHistograms()
    stage_of = {
        touchpoint.pk: stage.pk
        for stage in stages
        for touchpoint in [*stage.map_touchpoints, *stage.archived_touchpoints]
    }
    pooled: dict[int, dict] = defaultdict(dict)
    for (touchpoint_id, found_metric), histograms in found.items():
        if found_metric == metric and touchpoint_id in stage_of:
            target = pooled[stage_of[touchpoint_id]]
            for key, count in histograms.total.items():
                target[key] = target.get(key, 0) + count

    result = []
    for stage in stages:
        tiles = []
        for touchpoint in stage.map_touchpoints:
            rows = []
            for plan in touchpoint.measurement_plans.all():
                histograms = found.get((touchpoint.pk, plan.metric))
                series = None
                if registry.is_scorable(plan.metric):
                    series = score_series(
                        plan.metric,
                        histograms or empty,
                        start=filters.start,
                        end=filters.end,
                        interval=filters.interval,
                    )
                rows.append(plan_row(plan, series))
            chosen_score = score_histogram(
                metric, (found.get((touchpoint.pk, metric)) or empty).total
            )
            chosen_plan = next((row for row in rows if row.plan.metric == metric), None)
            if chosen_plan is not None:
                status = chosen_plan.status
            else:
                status = Status.of(
                    TargetStatus.NO_DATA if chosen_score.hidden else TargetStatus.NO_TARGET
                )
            tiles.append(Tile(touchpoint, rows, Figure.of(chosen_score), status))
        result.append(
            StageFigures(stage, tiles, Figure.of(score_histogram(metric, pooled.get(stage.pk, {}))))
        )
    curve = None
    if result:
        curve = charts.stage_curve_chart(
            key=f"stages-{journey.public_id}",
            title=_("%(metric)s stage by stage") % {"metric": definition.label},
            stages=[
                charts.StagePoint(
                    label=figures.stage.name,
                    n=figures.figure.n,
                    score=_float(figures.figure.value),
                    ci_low=_float(figures.figure.ci_low),
                    ci_high=_float(figures.figure.ci_high),
                    hidden=figures.figure.hidden,
                    low_precision=figures.figure.low_precision,
                )
                for figures in result
            ],
            target=None,
            scale_min=float(definition.scale_min),
            scale_max=float(definition.scale_max),
            digits=definition.digits,
            metric_label=str(definition.label),
            higher_is_better=definition.higher_is_better,
        )
    return Heatmap(metric=definition, stages=result, curve=curve)


# --- ranking --------------------------------------------------------------------------------


@dataclass
class RankedRow:
    place: int | None
    label: str
    url: str
    figure: Figure
    rank_value: Decimal | None


@dataclass
class Ranking:
    metric: registry.MetricDefinition
    ranked: list[RankedRow]
    unranked: list[RankedRow]
    chart: charts.Chart | None
    truncated: bool = False

    @property
    def rank_rule(self) -> str:
        if self.metric.name in scores.TRINOMIAL_METRICS:
            return _("score − 160 / √n")
        if not self.metric.higher_is_better:
            return _("the upper bound of the 95 % interval (lower is better)")
        return _("the lower bound of the 95 % interval")


def _ranked(
    definition: registry.MetricDefinition, units: list[tuple[str, str, scores.Score]], key: str
) -> Ranking:
    """Rank on `scores.rank_value` (never the raw score); units under 5 answers are not ranked."""
    digits = definition.digits
    valued = [(label, url, score, scores.rank_value(score)) for label, url, score in units]
    ranked_units = sorted(
        (unit for unit in valued if unit[3] is not None), key=lambda unit: (-unit[3], unit[0])
    )
    unranked_units = sorted(
        (unit for unit in valued if unit[3] is None), key=lambda unit: (-unit[2].n, unit[0])
    )

    def rank_display(value: float | None) -> Decimal | None:
        if value is None:
            return None
        # Lower-is-better metrics rank on the negated upper bound; show the bound itself.
        return charts.rounded(-value if not definition.higher_is_better else value, digits)

    ranked = [
        RankedRow(place, label, url, Figure.of(score), rank_display(value))
        for place, (label, url, score, value) in enumerate(ranked_units, 1)
    ]
    unranked = [
        RankedRow(None, label, url, Figure.of(score), None)
        for label, url, score, _value in unranked_units
    ]
    chart = None
    if ranked or unranked:
        chart = charts.ranking_chart(
            key=key,
            title=_("Ranking by %(metric)s") % {"metric": definition.label},
            units=[
                charts.RankedUnit(
                    label=label,
                    n=score.n,
                    score=None if score.hidden else score.score,
                    ci_low=None if score.hidden else score.ci_low,
                    ci_high=None if score.hidden else score.ci_high,
                    rank_value=value,
                )
                for label, _url, score, value in ranked_units + unranked_units
            ],
            digits=digits,
            metric_label=str(definition.label),
            scale_min=float(definition.scale_min) if definition.scale_min is not None else None,
            scale_max=float(definition.scale_max) if definition.scale_max is not None else None,
        )
    return Ranking(metric=definition, ranked=ranked, unranked=unranked, chart=chart)


def touchpoint_ranking(
    *, organization: Organization, metric: str, filters: ReportFilters, url_for
) -> Ranking:
    """Touchpoints ranked by `metric` over the filters' range (two queries: rollups, names)."""
    definition = registry.get(metric)
    found = touchpoint_histograms(
        organization=organization,
        metrics=[metric],
        start=filters.start,
        end=filters.end,
        interval=Interval.MONTH,
        filters=filters.metric_filters(),
    )
    ids = {touchpoint_id for touchpoint_id, _m in found if touchpoint_id is not None}
    touchpoints = {
        touchpoint.pk: touchpoint
        for touchpoint in Touchpoint.objects.filter(organization=organization, pk__in=ids)
        .select_related("journey")
        .only("id", "public_id", "name", "journey__name")
    }
    units = []
    for (touchpoint_id, _m), histograms in found.items():
        touchpoint = touchpoints.get(touchpoint_id)
        if touchpoint is None:
            continue
        label = f"{touchpoint.name} ({touchpoint.journey.name})"
        units.append((label, url_for(touchpoint), score_histogram(metric, histograms.total)))
    return _ranked(definition, units, f"rank-{metric}")


def hidden_field_ranking(
    *, organization: Organization, metric: str, field_name: str, filters: ReportFilters
) -> Ranking:
    """Units named by a hidden field of the responses (a store, an agent) ranked by `metric`
    (one aggregated query over raw answers in the range; see `hidden_field_histograms`)."""
    definition = registry.get(metric)
    found, truncated = hidden_field_histograms(
        organization=organization,
        metric=metric,
        field_name=field_name,
        start=filters.start,
        end=filters.end,
        filters=filters.metric_filters(),
    )
    units = [(unit, "", score_histogram(metric, histogram)) for unit, histogram in found.items()]
    ranking = _ranked(definition, units, f"rank-{metric}-hidden")
    ranking.truncated = truncated
    return ranking


def ranking_metric_choices() -> list[tuple[str, str]]:
    return [(d.name, str(d.label)) for d in registry.METRICS.values() if d.scorable]
