"""The one list of metrics: what each is called, its scale, its direction, how it is shown and
which function scores it (docs/METRICS.md).

Everything else is derived from here: the metrics a measurement plan may name and the scale its
baseline and target are checked against (journeys), the metrics API's choices, display rounding
(`metrics.formatting`), target status and the score groups that comment lists filter by.

A metric without a scorer (EXQ, mystery shopping) is known, so rows that already name it still
display, but it is not offered to plans or the API until it can be scored.

Pure: no ORM and no request, so the lower `journeys` layer may import it (the import-linter
contract in pyproject.toml has a narrowly scoped exception for exactly that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from metrics import scores


class UnscorableMetric(ValueError):
    """The metric is known but has no scorer yet (or is not known at all)."""


@dataclass(frozen=True)
class ScoreGroup:
    """A band of raw answer values (inclusive) that comment lists filter by, e.g. detractors.

    `field` is the answer column that holds the value (WOMI's recommend is `value_int`)."""

    key: str
    label: Promise
    low: int
    high: int
    field: str = "value_int"

    def contains(self, value: int | None) -> bool:
        return value is not None and self.low <= value <= self.high


@dataclass(frozen=True)
class MetricDefinition:
    """One metric. `scale_min`/`scale_max` bound the score (not the raw answers); `digits` is
    how many decimals a page shows; `groups` run from the unhappiest to the happiest band, so
    the first one is the "low score" group."""

    name: str
    label: Promise
    scale_min: Decimal | None
    scale_max: Decimal | None
    higher_is_better: bool = True
    digits: int = 1
    scorer: Callable[..., scores.Score] | None = None
    question_types: tuple[str, ...] = ()
    groups: tuple[ScoreGroup, ...] = ()
    unit: str = ""
    short: Promise | None = None  # beside a single answer ("NPS 3"); the label when not given

    @property
    def short_label(self) -> Promise:
        return self.short or self.label

    @property
    def scorable(self) -> bool:
        return self.scorer is not None

    @property
    def plannable(self) -> bool:
        """A plan may name it: it can be scored, on a fixed scale a target can be set on."""
        return self.scorable and self.scale_min is not None and self.scale_max is not None

    @property
    def low_group(self) -> ScoreGroup | None:
        return self.groups[0] if self.groups else None

    def group(self, key: str) -> ScoreGroup | None:
        return next((group for group in self.groups if group.key == key), None)

    def in_scale(self, value: Decimal) -> bool:
        if self.scale_min is None or self.scale_max is None:
            return True
        return self.scale_min <= value <= self.scale_max

    def score(self, counts: Mapping[Any, int], *, max_margin: float | None = None) -> scores.Score:
        if self.scorer is None:
            raise UnscorableMetric(f"metric {self.name!r} cannot be scored yet")
        return self.scorer(counts, max_margin=max_margin)


def _rating(counts: Mapping[Any, int], *, max_margin: float | None = None) -> scores.Score:
    # A rating question's scale is its own (0..10 at most), so the mean is scored as is.
    return scores.mean_of(counts, metric="rating", max_margin=max_margin)


_NPS_GROUPS = (
    ScoreGroup("detractors", _("Detractors (0-6)"), 0, 6),
    ScoreGroup("passives", _("Passives (7-8)"), 7, 8),
    ScoreGroup("promoters", _("Promoters (9-10)"), 9, 10),
)


def _metrics() -> tuple[MetricDefinition, ...]:
    # The order is the order of choices in forms and of the model field (keep it: a change of
    # labels or order of the first ten would need a journeys migration).
    return (
        MetricDefinition(
            "nps",
            _("NPS"),
            Decimal(-100),
            Decimal(100),
            scorer=scores.nps,
            question_types=("nps",),
            groups=_NPS_GROUPS,
        ),
        MetricDefinition(
            "csat",
            _("CSAT %"),
            Decimal(0),
            Decimal(100),
            short=_("CSAT"),
            scorer=scores.csat,
            question_types=("csat",),
            groups=(
                ScoreGroup("unhappy", _("Unsatisfied (1-2)"), 1, 2),
                ScoreGroup("neutral", _("Neutral (3)"), 3, 3),
                ScoreGroup("happy", _("Satisfied (4-5)"), 4, 5),
            ),
            unit="%",
        ),
        MetricDefinition(
            "ces",
            _("CES 2.0 (1-7)"),
            Decimal(1),
            Decimal(7),
            short=_("CES"),
            digits=2,
            scorer=scores.ces,
            question_types=("ces",),
            groups=(
                ScoreGroup("hard", _("Disagree: not easy (1-3)"), 1, 3),
                ScoreGroup("neutral", _("Neutral (4)"), 4, 4),
                ScoreGroup("easy", _("Agree: easy (5-7)"), 5, 7),
            ),
        ),
        MetricDefinition(
            "ces_legacy",
            _("CES legacy (1-5, lower is better)"),
            Decimal(1),
            Decimal(5),
            short=_("Effort"),
            higher_is_better=False,
            digits=2,
            scorer=scores.ces_legacy,
            question_types=("ces_legacy",),
            groups=(
                ScoreGroup("high_effort", _("High effort (4-5)"), 4, 5),
                ScoreGroup("neutral", _("Some effort (3)"), 3, 3),
                ScoreGroup("low_effort", _("Low effort (1-2)"), 1, 2),
            ),
        ),
        MetricDefinition(
            "womi",
            _("WOMI"),
            Decimal(-100),
            Decimal(100),
            scorer=scores.womi,
            question_types=("womi",),
            # Comments are grouped by the recommend answer, as NPS's.
            groups=_NPS_GROUPS,
        ),
        MetricDefinition(
            "yes_no",
            _("Content feedback (% yes)"),
            Decimal(0),
            Decimal(100),
            short=_("Useful"),
            scorer=scores.yes_no,
            question_types=("yes_no",),
            groups=(ScoreGroup("no", _("No"), 0, 0), ScoreGroup("yes", _("Yes"), 1, 1)),
            unit="%",
        ),
        MetricDefinition(
            "smiley",
            _("Smiley happy index"),
            Decimal(0),
            Decimal(100),
            short=_("Smiley"),
            scorer=scores.smiley,
            question_types=("smiley",),
            groups=(
                ScoreGroup("unhappy", _("Unhappy faces"), 1, 2),
                ScoreGroup("happy", _("Happy faces"), 3, 4),
            ),
        ),
        MetricDefinition(
            "emotion",
            _("Emotion index"),
            Decimal(-100),
            Decimal(100),
            short=_("Emotion"),
            scorer=scores.emotion_index,
            groups=(
                ScoreGroup("negative", _("Negative"), -1, -1),
                ScoreGroup("neutral", _("Neutral"), 0, 0),
                ScoreGroup("positive", _("Positive"), 1, 1),
            ),
        ),
        MetricDefinition("exq", _("EXQ"), Decimal(1), Decimal(7), digits=2),
        MetricDefinition("mystery_shopping", _("Mystery shopping score"), Decimal(0), Decimal(100)),
        # Last: a rating's scale is the question's own, so no plan can set a target on it.
        MetricDefinition(
            "rating",
            _("Rating (mean)"),
            None,
            None,
            digits=2,
            scorer=_rating,
            question_types=("rating",),
        ),
    )


METRICS: dict[str, MetricDefinition] = {definition.name: definition for definition in _metrics()}


def get(name: str) -> MetricDefinition | None:
    return METRICS.get(name)


def label(name: str) -> str:
    definition = METRICS.get(name)
    return str(definition.label) if definition else name


def plan_field_choices() -> list[tuple[str, Promise]]:
    """Every metric with a fixed scale: what a stored measurement plan may hold, scorable or not."""
    return [(d.name, d.label) for d in METRICS.values() if d.scale_min is not None]


def plannable() -> list[MetricDefinition]:
    return [d for d in METRICS.values() if d.plannable]


def plannable_choices() -> list[tuple[str, Promise]]:
    """What plan forms and the plan API offer."""
    return [(d.name, d.label) for d in plannable()]


def scorable_names() -> list[str]:
    """What the metrics API accepts."""
    return [d.name for d in METRICS.values() if d.scorable]


def is_scorable(name: str) -> bool:
    definition = METRICS.get(name)
    return definition is not None and definition.scorable


def higher_is_better(name: str) -> bool:
    definition = METRICS.get(name)
    return definition.higher_is_better if definition else True


def digits(name: str) -> int:
    definition = METRICS.get(name)
    return definition.digits if definition else 1


def score(name: str, counts: Mapping[Any, int], *, max_margin: float | None = None) -> scores.Score:
    """Score a histogram of `name`; raises UnscorableMetric for metrics without a scorer."""
    definition = METRICS.get(name)
    if definition is None:
        raise UnscorableMetric(f"unknown metric {name!r}")
    return definition.score(counts, max_margin=max_margin)


def empty_score(name: str) -> scores.Score:
    """The score of no answers: what a page shows for a metric that cannot be scored yet."""
    return scores.Score(name, 0, None, None, None, True, True, {}, None, {})
