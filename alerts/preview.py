""" "Would have fired N times in the last 30 days": a rule replayed over stored responses.

Response rules count the responses that meet the condition. Aggregate rules are replayed step by
step over time buckets fetched in one query (15-minute buckets for kiosk windows, hourly
otherwise), with the same tests, cooldown and self-resolution as the live evaluation, so the
figure is what the rule would really have raised, not how often its condition held.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone

from alerts.enums import ConditionMetric, ReferenceMode, RuleKind
from alerts.evaluation import (
    BASELINE_DAYS,
    MIN_BASELINE_ANSWERS,
    VOLUME_WEEKS,
    _question_types,
    negative_q,
)
from alerts.models import AlertRule
from alerts.statistics import negative_share_test, nps_drop_fires, volume_drop_test
from metrics import scores
from surveys.enums import QuestionType
from surveys.models import Answer, Response

MAX_EXAMPLES = 5


@dataclass
class RulePreview:
    fired: int = 0
    evaluated: int = 0  # responses (response rules) or window steps (aggregate rules) tested
    insufficient: str = ""  # "baseline_insufficient" when no scope had a baseline to test with
    examples: list[dict] = field(default_factory=list)


def rule_preview(*, rule: AlertRule, now: datetime | None = None, days: int = 30) -> RulePreview:
    """Replay `rule` (saved or not; its organization must be set) over the last `days` days."""
    now = now or timezone.now()
    start = now - timedelta(days=days)
    if rule.kind == RuleKind.RESPONSE:
        return _response_preview(rule, start, now)
    return _aggregate_preview(rule, start, now)


def _scope_q(rule: AlertRule, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}organization_id": rule.organization_id})
    for name in ("survey", "touchpoint"):
        value = getattr(rule, f"{name}_id")
        if value is not None:
            q &= Q(**{f"{prefix}{name}_id": value})
    if rule.journey_id is not None:
        q &= Q(**{f"{prefix}touchpoint__journey_id": rule.journey_id})
    for name, value in (rule.hidden_fields or {}).items():
        q &= Q(**{f"{prefix}hidden_fields__{name}": value})
    for name, value in (rule.contact_attributes or {}).items():
        q &= Q(**{f"{prefix}personal_link__invitation__contact__attributes__{name}": value})
    return q


def _response_preview(rule: AlertRule, start: datetime, end: datetime) -> RulePreview:
    answers = Answer.objects.filter(
        Q(organization_id=rule.organization_id)
        & Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
        & _scope_q(rule, "response__")
    )
    in_scope = answers.filter(question__type__in=_question_types(rule.metric))
    if rule.question_key:
        in_scope = in_scope.filter(question__key=rule.question_key)
    totals = in_scope.aggregate(
        evaluated=Count("response_id", distinct=True),
        fired=Count("response_id", distinct=True, filter=negative_q(rule)),
    )
    examples = list(
        in_scope.filter(negative_q(rule))
        .order_by("-response__submitted_at")
        .values("response__public_id", "response__submitted_at", "value_int")[:MAX_EXAMPLES]
    )
    return RulePreview(
        fired=totals["fired"],
        evaluated=totals["evaluated"],
        examples=[
            {
                "response": row["response__public_id"],
                "submitted_at": row["response__submitted_at"].isoformat(),
                "value": row["value_int"],
            }
            for row in examples
        ],
    )


def _bucket_size(rule: AlertRule) -> timedelta:
    return timedelta(minutes=15) if rule.window_minutes < 120 else timedelta(hours=1)


def _trunc(size: timedelta, field_name: str):
    return TruncMinute(field_name) if size < timedelta(hours=1) else TruncHour(field_name)


def _floor(moment: datetime, size: timedelta) -> datetime:
    seconds = int(size.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=moment.tzinfo)


def _scope_key(touchpoint_id, survey_id) -> str:
    return f"tp:{touchpoint_id}" if touchpoint_id is not None else f"srv:{survey_id}"


def _aggregate_preview(rule: AlertRule, start: datetime, end: datetime) -> RulePreview:
    size = _bucket_size(rule)
    look_back = timedelta(days=BASELINE_DAYS)
    if rule.kind == RuleKind.VOLUME_DROP:
        look_back = timedelta(weeks=VOLUME_WEEKS)
    fetch_from = start - look_back - timedelta(minutes=rule.window_minutes)
    buckets = _fetch_buckets(rule, size, fetch_from, end)
    preview = RulePreview()
    any_baseline = False
    for scope, by_bucket in buckets.items():
        fired, steps, had_baseline, example = _replay(rule, by_bucket, size, start, end)
        preview.fired += fired
        preview.evaluated += steps
        any_baseline |= had_baseline
        if example and len(preview.examples) < MAX_EXAMPLES:
            preview.examples.append({"scope": scope, **example})
    if buckets and not any_baseline and _needs_baseline(rule):
        preview.insufficient = "baseline_insufficient"
    return preview


def _needs_baseline(rule: AlertRule) -> bool:
    return rule.kind == RuleKind.NPS_DROP or (
        rule.kind == RuleKind.NEGATIVE_SHARE and rule.reference_mode == ReferenceMode.BASELINE
    )


def _fetch_buckets(rule: AlertRule, size: timedelta, start: datetime, end: datetime):
    """{scope key: {bucket start: Counter-like dict}} in one grouped query."""
    result: dict[str, dict[datetime, dict]] = defaultdict(lambda: defaultdict(dict))
    if rule.kind == RuleKind.VOLUME_DROP:
        rows = (
            Response.objects.filter(_scope_q(rule), submitted_at__gte=start, submitted_at__lt=end)
            .annotate(bucket=_trunc(size, "submitted_at"))
            .values("touchpoint_id", "survey_id", "bucket")
            .annotate(n=Count("id"))
        )
        for row in rows:
            key = _scope_key(row["touchpoint_id"], row["survey_id"])
            result[key][_floor(row["bucket"], size)]["n"] = (
                result[key][_floor(row["bucket"], size)].get("n", 0) + row["n"]
            )
        return result
    answers = Answer.objects.filter(
        Q(organization_id=rule.organization_id)
        & Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
        & _scope_q(rule, "response__")
    )
    if rule.kind == RuleKind.NPS_DROP:
        answers = answers.filter(question__type=QuestionType.NPS)
        values = ("response__touchpoint_id", "response__survey_id", "bucket", "value_int")
        aggregates = {"n": Count("id")}
    else:
        answers = answers.filter(question__type__in=_question_types(rule.metric))
        values = ("response__touchpoint_id", "response__survey_id", "bucket")
        aggregates = {"n": Count("id"), "negatives": Count("id", filter=negative_q(rule))}
    if rule.question_key:
        answers = answers.filter(question__key=rule.question_key)
    rows = (
        answers.annotate(bucket=_trunc(size, "response__submitted_at"))
        .values(*values)
        .annotate(**aggregates)
    )
    for row in rows:
        key = _scope_key(row["response__touchpoint_id"], row["response__survey_id"])
        cell = result[key][_floor(row["bucket"], size)]
        if rule.kind == RuleKind.NPS_DROP:
            cell[row["value_int"]] = cell.get(row["value_int"], 0) + row["n"]
        else:
            cell["n"] = cell.get("n", 0) + row["n"]
            cell["negatives"] = cell.get("negatives", 0) + row["negatives"]
    return result


class _Series:
    """Prefix sums over dense buckets, so any window's totals cost O(keys), not O(buckets)."""

    def __init__(self, by_bucket: dict, size: timedelta):
        self.size = size
        self.origin = min(by_bucket) if by_bucket else None
        keys = {key for cell in by_bucket.values() for key in cell}
        length = int((max(by_bucket) - self.origin) / size) + 1 if by_bucket else 0
        self.prefix: dict = {}
        for key in keys:
            running = [0] * (length + 1)
            for moment, cell in by_bucket.items():
                running[int((moment - self.origin) / size) + 1] += cell.get(key, 0)
            for i in range(1, length + 1):
                running[i] += running[i - 1]
            self.prefix[key] = running

    def _index(self, moment: datetime) -> int:
        if self.origin is None:
            return 0
        offset = (moment - self.origin) / self.size
        length = len(next(iter(self.prefix.values()), [0])) - 1
        return min(max(int(offset), 0), length)

    def sum(self, first: datetime, last: datetime) -> dict:
        """Totals of the buckets in [first, last)."""
        i, j = self._index(first), self._index(last)
        return {key: running[j] - running[i] for key, running in self.prefix.items() if j > i}


def _replay(rule: AlertRule, by_bucket: dict, size: timedelta, start: datetime, end: datetime):
    """Step through [start, end) one bucket at a time; returns (fired, steps, had_baseline,
    first example)."""
    window = timedelta(minutes=rule.window_minutes)
    cooldown = timedelta(minutes=rule.cooldown_minutes)
    moment = _floor(start, size) + size
    fired = steps = 0
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    had_baseline = False
    example: dict = {}
    series = _Series(by_bucket, size)
    while moment <= end:
        steps += 1
        fires, has_baseline, evidence = _test(rule, series, size, moment - window, moment)
        had_baseline |= has_baseline
        if fires:
            cooling = resolved_at is not None and moment - resolved_at < cooldown
            if opened_at is None and not cooling:
                fired += 1
                opened_at = moment
                example = example or {"at": moment.isoformat(), **evidence}
        elif opened_at is not None and moment - opened_at >= window:
            opened_at, resolved_at = None, moment
        moment += size
    return fired, steps, had_baseline, example


def _test(rule: AlertRule, series: _Series, size: timedelta, first: datetime, last: datetime):
    """(fires, had a baseline, evidence) of one window."""
    first = _floor(first, size)
    if rule.kind == RuleKind.VOLUME_DROP:
        observed = series.sum(first, last).get("n", 0)
        history = [
            series.sum(first - timedelta(weeks=w), last - timedelta(weeks=w)).get("n", 0)
            for w in range(1, VOLUME_WEEKS + 1)
        ]
        result = volume_drop_test(
            observed=observed,
            history=history,
            ratio=float(rule.volume_ratio),
            alpha=float(rule.alpha),
        )
        return result.fires, True, result.as_json()
    baseline_first = first - timedelta(days=BASELINE_DAYS)
    if rule.kind == RuleKind.NPS_DROP:
        current = scores.nps(series.sum(first, last))
        baseline = scores.nps(series.sum(baseline_first, first))
        fires, drop, _p_value = nps_drop_fires(
            current=current,
            baseline=baseline,
            drop_points=float(rule.drop_points),
            alpha=float(rule.alpha),
            min_n=rule.min_n,
            min_baseline=MIN_BASELINE_ANSWERS,
        )
        return fires, baseline.n >= MIN_BASELINE_ANSWERS, {"n": current.n, "drop": drop}
    window = series.sum(first, last)
    n, negatives = window.get("n", 0), window.get("negatives", 0)
    if n < rule.min_n:
        return False, rule.reference_mode == ReferenceMode.THRESHOLD, {}
    if rule.reference_mode == ReferenceMode.THRESHOLD or rule.metric == ConditionMetric.TEXT:
        reference = float(rule.reference_rate or 0)
        has_baseline = True
    else:
        base = series.sum(baseline_first, first)
        if base.get("n", 0) < MIN_BASELINE_ANSWERS:
            return False, False, {}
        reference = base.get("negatives", 0) / base["n"] + float(rule.baseline_margin)
        has_baseline = True
    if negatives / n <= reference:
        return False, has_baseline, {}  # cannot reject: skip the exact test
    result = negative_share_test(
        negatives=negatives, n=n, reference=reference, alpha=float(rule.alpha), min_n=rule.min_n
    )
    return result.fires, has_baseline, {"n": n, "negatives": negatives, "p_value": result.p_value}
