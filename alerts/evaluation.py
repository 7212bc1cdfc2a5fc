"""Which rules a response or a scope meets: the facts of a response and the tests of rules.

Reads only; `alerts.services.alerting` writes evaluations, alerts and cases from what this says.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from alerts.enums import ConditionMetric, Operator, ReferenceMode, RuleKind
from alerts.models import AlertRule
from alerts.statistics import (
    ShareEvidence,
    VolumeEvidence,
    negative_share_test,
    nps_drop_fires,
    volume_drop_test,
)
from distribution.models import Invitation
from metrics import scores
from metrics.models import DailyTotal
from surveys.enums import QuestionType
from surveys.models import Answer, Response

BASELINE_DAYS = 28
MIN_BASELINE_ANSWERS = 200


@dataclass(frozen=True)
class AnswerFact:
    question_key: str
    question_type: str
    value_int: int | None
    value_int_2: int | None
    text: str


@dataclass
class ResponseFacts:
    response: Response
    answers: list[AnswerFact]
    contact: object | None = None
    contact_attributes: dict = field(default_factory=dict)

    @property
    def touchpoint(self):
        return self.response.touchpoint


def responses_facts(*, organization, response_ids: list[int]) -> dict[int, ResponseFacts]:
    """The responses with their answers and contacts (through their invitations), keyed by id:
    three queries however many responses there are."""
    responses = list(
        Response.objects.filter(organization=organization, pk__in=response_ids).select_related(
            "touchpoint", "touchpoint__owner", "survey"
        )
    )
    answers: dict[int, list[AnswerFact]] = {response.pk: [] for response in responses}
    rows = Answer.objects.filter(organization=organization, response_id__in=list(answers))
    for response_id, key, qtype, value_int, value_int_2, text in rows.values_list(
        "response_id", "question__key", "question__type", "value_int", "value_int_2", "value_text"
    ):
        answers[response_id].append(AnswerFact(key, qtype, value_int, value_int_2, text or ""))
    links = [r.personal_link_id for r in responses if r.personal_link_id is not None]
    contacts = {}
    if links:
        for invitation in Invitation.objects.filter(
            organization=organization, personal_link_id__in=links
        ).select_related("contact"):
            contacts[invitation.personal_link_id] = invitation.contact
    facts = {}
    for response in responses:
        contact = contacts.get(response.personal_link_id)
        facts[response.pk] = ResponseFacts(
            response=response,
            answers=answers[response.pk],
            contact=contact,
            contact_attributes=dict(getattr(contact, "attributes", None) or {}),
        )
    return facts


def response_facts(*, organization, response_id: int) -> ResponseFacts | None:
    return responses_facts(organization=organization, response_ids=[response_id]).get(response_id)


# --- response rules --------------------------------------------------------------------------


def _question_types(metric: str) -> set[str]:
    if metric == ConditionMetric.TEXT:
        return {QuestionType.TEXT}
    return {metric}


def value_meets(rule: AlertRule, value: int | None) -> bool:
    if value is None or rule.threshold is None:
        return False
    if rule.operator == Operator.LTE:
        return value <= rule.threshold
    if rule.operator == Operator.GTE:
        return value >= rule.threshold
    return value == rule.threshold


def text_meets(rule: AlertRule, text: str) -> list[str]:
    """The rule's words found in `text` (case-insensitive, as parts of words, so Finnish and
    Swedish inflections still match: "huono" finds "huonoa")."""
    folded = text.casefold()
    return [word for word in rule.keywords if word and word.casefold() in folded]


def in_scope(rule: AlertRule, facts: ResponseFacts) -> bool:
    response = facts.response
    if rule.survey_id is not None and rule.survey_id != response.survey_id:
        return False
    if rule.touchpoint_id is not None and rule.touchpoint_id != response.touchpoint_id:
        return False
    if rule.journey_id is not None and (
        response.touchpoint is None or response.touchpoint.journey_id != rule.journey_id
    ):
        return False
    hidden = response.hidden_fields or {}
    if any(str(hidden.get(k, "")) != str(v) for k, v in (rule.hidden_fields or {}).items()):
        return False
    attributes = facts.contact_attributes
    return not any(
        str(attributes.get(k, "")) != str(v) for k, v in (rule.contact_attributes or {}).items()
    )


def matching_answers(rule: AlertRule, facts: ResponseFacts) -> list[dict]:
    """The answers of the response that meet the rule's condition, as evidence."""
    types = _question_types(rule.metric)
    found = []
    for answer in facts.answers:
        if answer.question_type not in types:
            continue
        if rule.question_key and answer.question_key != rule.question_key:
            continue
        if rule.metric == ConditionMetric.TEXT:
            words = text_meets(rule, answer.text)
            if words:
                found.append({"question": answer.question_key, "words": words})
        elif value_meets(rule, answer.value_int):
            found.append({"question": answer.question_key, "value": answer.value_int})
    return found


def negative_q(rule: AlertRule, prefix: str = "") -> Q:
    """The answers that count as negative for `rule`, as a filter on Answer."""
    q = Q(**{f"{prefix}question__type__in": _question_types(rule.metric)})
    if rule.question_key:
        q &= Q(**{f"{prefix}question__key": rule.question_key})
    if rule.metric == ConditionMetric.TEXT:
        words = Q()
        for word in rule.keywords:
            words |= Q(**{f"{prefix}value_text__icontains": word})
        return q & words if rule.keywords else q & Q(pk__in=[])
    lookup = {Operator.LTE: "lte", Operator.GTE: "gte", Operator.EQ: "exact"}[rule.operator]
    return q & Q(**{f"{prefix}value_int__{lookup}": rule.threshold})


# --- aggregate rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where an aggregate rule is tested: one touchpoint, or one survey without a touchpoint."""

    touchpoint_id: int | None
    survey_id: int | None

    @property
    def key(self) -> str:
        if self.touchpoint_id is not None:
            return f"tp:{self.touchpoint_id}"
        return f"srv:{self.survey_id}"

    def response_q(self, prefix: str = "") -> Q:
        if self.touchpoint_id is not None:
            return Q(**{f"{prefix}touchpoint_id": self.touchpoint_id})
        return Q(**{f"{prefix}survey_id": self.survey_id, f"{prefix}touchpoint__isnull": True})


def scope_of_response(response: Response) -> Scope:
    if response.touchpoint_id is not None:
        return Scope(response.touchpoint_id, None)
    return Scope(None, response.survey_id)


def _rule_response_q(rule: AlertRule, prefix: str = "") -> Q:
    q = Q()
    if rule.survey_id is not None:
        q &= Q(**{f"{prefix}survey_id": rule.survey_id})
    if rule.journey_id is not None:
        q &= Q(**{f"{prefix}touchpoint__journey_id": rule.journey_id})
    for name, value in (rule.hidden_fields or {}).items():
        q &= Q(**{f"{prefix}hidden_fields__{name}": value})
    return q


def window_counts(rule: AlertRule, scope: Scope, *, start: datetime, end: datetime):
    """(answers, negatives) of the rule's question type in scope between start and end."""
    answers = Answer.objects.filter(
        Q(organization_id=rule.organization_id)
        & Q(response__organization_id=rule.organization_id)
        & Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
        & scope.response_q("response__")
        & _rule_response_q(rule, "response__")
        & Q(question__type__in=_question_types(rule.metric))
        & (Q(question__key=rule.question_key) if rule.question_key else Q())
    )
    totals = answers.aggregate(n=Count("id"), negatives=Count("id", filter=negative_q(rule)))
    return totals["n"], totals["negatives"]


def baseline_counts(rule: AlertRule, scope: Scope, *, before: datetime, tz) -> tuple[int, int]:
    """(answers, negatives) of the 28 local days before `before`, read from the daily rollups
    (a keyword rule, which rollups cannot answer, counts raw answers instead)."""
    first_day = (before.astimezone(tz) - timedelta(days=BASELINE_DAYS)).date()
    last_day = before.astimezone(tz).date() - timedelta(days=1)
    if rule.metric == ConditionMetric.TEXT or rule.hidden_fields:
        start = before - timedelta(days=BASELINE_DAYS)
        return window_counts(rule, scope, start=start, end=before)
    rows = DailyTotal.objects.filter(
        organization_id=rule.organization_id,
        metric=rule.metric,
        day__gte=first_day,
        day__lte=last_day,
    )
    if scope.touchpoint_id is not None:
        rows = rows.filter(touchpoint_id=scope.touchpoint_id)
    else:
        rows = rows.filter(survey_id=scope.survey_id, touchpoint__isnull=True)
    if rule.survey_id is not None:
        rows = rows.filter(survey_id=rule.survey_id)
    if rule.question_key:
        rows = rows.filter(question_key=rule.question_key)
    histogram: Counter = Counter()
    for counts in rows.values_list("counts", flat=True):
        for value, count in counts.items():
            histogram[int(value)] += count
    n = sum(histogram.values())
    negatives = sum(count for value, count in histogram.items() if value_meets(rule, value))
    return n, negatives


@dataclass(frozen=True)
class AggregateResult:
    fires: bool
    evidence: dict
    insufficient: str = ""  # why the rule could not be tested, in words for the alert page


def evaluate_negative_share(rule: AlertRule, scope: Scope, *, now, tz) -> AggregateResult:
    start = now - timedelta(minutes=rule.window_minutes)
    n, negatives = window_counts(rule, scope, start=start, end=now)
    evidence_extra = {"window_start": start.isoformat(), "window_end": now.isoformat()}
    if rule.reference_mode == ReferenceMode.THRESHOLD:
        reference = float(rule.reference_rate or 0)
        baseline = {}
    else:
        base_n, base_negatives = baseline_counts(rule, scope, before=start, tz=tz)
        baseline = {"baseline_n": base_n, "baseline_negatives": base_negatives}
        if base_n < MIN_BASELINE_ANSWERS:
            return AggregateResult(
                False, {"n": n, "negatives": negatives, **baseline}, "baseline_insufficient"
            )
        reference = base_negatives / base_n + float(rule.baseline_margin)
    result: ShareEvidence = negative_share_test(
        negatives=negatives,
        n=n,
        reference=reference,
        alpha=float(rule.alpha),
        min_n=rule.min_n,
    )
    return AggregateResult(result.fires, {**result.as_json(), **baseline, **evidence_extra})


def _nps_histogram(rule, scope, *, start, end) -> dict[int, int]:
    rows = (
        Answer.objects.filter(
            Q(organization_id=rule.organization_id)
            & Q(response__submitted_at__gte=start, response__submitted_at__lt=end)
            & scope.response_q("response__")
            & _rule_response_q(rule, "response__")
            & Q(question__type=QuestionType.NPS)
            & (Q(question__key=rule.question_key) if rule.question_key else Q())
        )
        .values_list("value_int")
        .annotate(n=Count("id"))
    )
    return {value: n for value, n in rows if value is not None}


def evaluate_nps_drop(rule: AlertRule, scope: Scope, *, now, tz) -> AggregateResult:
    start = now - timedelta(minutes=rule.window_minutes)
    current = scores.nps(_nps_histogram(rule, scope, start=start, end=now))
    baseline = scores.nps(
        _nps_histogram(rule, scope, start=start - timedelta(days=BASELINE_DAYS), end=start)
    )
    fires, drop, p_value = nps_drop_fires(
        current=current,
        baseline=baseline,
        drop_points=float(rule.drop_points),
        alpha=float(rule.alpha),
        min_n=rule.min_n,
        min_baseline=MIN_BASELINE_ANSWERS,
    )
    evidence = {
        "n": current.n,
        "nps": current.score,
        "ci_low": current.ci_low,
        "ci_high": current.ci_high,
        "baseline_n": baseline.n,
        "baseline_nps": baseline.score,
        "drop": drop,
        "p_value": p_value,
    }
    insufficient = "baseline_insufficient" if baseline.n < MIN_BASELINE_ANSWERS else ""
    return AggregateResult(fires, evidence, insufficient)


VOLUME_WEEKS = 4


def evaluate_volume_drop(rule: AlertRule, scope: Scope, *, now, tz) -> AggregateResult:
    """Responses in the window against the same hours of each of the last four weeks."""
    window = timedelta(minutes=rule.window_minutes)
    base = Response.objects.filter(
        Q(organization_id=rule.organization_id) & scope.response_q() & _rule_response_q(rule)
    )
    ranges = [(now - window - timedelta(weeks=w), now - timedelta(weeks=w)) for w in range(5)]
    counts = base.aggregate(
        **{
            f"w{w}": Count("id", filter=Q(submitted_at__gte=start, submitted_at__lt=end))
            for w, (start, end) in enumerate(ranges)
        }
    )
    history = [counts[f"w{w}"] for w in range(1, VOLUME_WEEKS + 1)]
    result: VolumeEvidence = volume_drop_test(
        observed=counts["w0"],
        history=history,
        ratio=float(rule.volume_ratio),
        alpha=float(rule.alpha),
    )
    return AggregateResult(result.fires, {**result.as_json(), "history": history})


AGGREGATE_EVALUATORS = {
    RuleKind.NEGATIVE_SHARE: evaluate_negative_share,
    RuleKind.NPS_DROP: evaluate_nps_drop,
    RuleKind.VOLUME_DROP: evaluate_volume_drop,
}


def evaluate_aggregate(rule: AlertRule, scope: Scope, *, now=None, tz) -> AggregateResult:
    return AGGREGATE_EVALUATORS[rule.kind](rule, scope, now=now or timezone.now(), tz=tz)


def active_scopes(rule: AlertRule, *, now) -> list[Scope]:
    """The scopes with responses in the rule's reach during the last window (for the sweep);
    a volume rule looks back over the weeks it compares with, since silence is its signal."""
    look_back = timedelta(minutes=rule.window_minutes)
    if rule.kind == RuleKind.VOLUME_DROP:
        look_back = timedelta(weeks=VOLUME_WEEKS) + look_back
    q = Q(organization_id=rule.organization_id, submitted_at__gte=now - look_back)
    q &= _rule_response_q(rule)
    if rule.touchpoint_id is not None:
        q &= Q(touchpoint_id=rule.touchpoint_id)
    pairs = Response.objects.filter(q).values_list("touchpoint_id", "survey_id").distinct()
    scopes = {Scope(tp, None) if tp is not None else Scope(None, survey) for tp, survey in pairs}
    return sorted(scopes, key=lambda s: s.key)
