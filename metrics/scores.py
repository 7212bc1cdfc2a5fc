"""Metric math for every CX instrument, computed from answer histograms (docs/METRICS.md).

Pure functions without Django, so pages, the API, exports, alerts and digests agree to the decimal.
Histograms stay exact integers until a `Score` is built: each figure is an integer numerator over
an integer denominator, divided once (Python's int / int is correctly rounded, so this equals
the float of the exact fraction; means of non-integer values use `Fraction`). Rounding happens
once, for display, in `round_half_away`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from scipy.stats import norm
from scipy.stats import t as student_t

Z95 = 1.959964
MIN_N_SHOWN = 5
LOW_PRECISION_N = 30
# z times the largest per-answer SD of a trinomial score (about 0.8 * 100), so that small units
# cannot top a ranking on luck (METRICS.md, "Honest reporting").
TRINOMIAL_RANK_PENALTY = 160.0
TRINOMIAL_METRICS = frozenset({"nps", "womi", "emotion"})
LOWER_IS_BETTER = frozenset({"ces_legacy"})

Interval = tuple[float, float]


@dataclass(frozen=True)
class Score:
    """One metric over one set of answers, always shown with `n` and its 95 % interval.

    `se` is the standard error `compare()` uses: the plain Wald trinomial SE for NPS, WOMI and
    emotion; the plain binomial SE 100*sqrt(p(1-p)/n) for shares (CSAT %, yes/no); s/sqrt(n) for
    means (CES, legacy CES, smiley, rating, mean_of). It is kept when the score is hidden, but
    `compare()` never tests a hidden side. Units of `score`, intervals and `se` are points for
    NPS-like scores, percent for shares, scale units for means.
    """

    metric: str
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    hidden: bool
    low_precision: bool
    counts: dict[Any, int]
    se: float | None
    secondary: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # A shallow copy: asdict() deep-copies every value, which the metrics API does per period.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["secondary"] = dict(self.secondary)
        data["counts"] = {str(value): count for value, count in self.counts.items()}
        return data


@dataclass(frozen=True)
class Comparison:
    previous_score: float | None
    current_score: float | None
    delta: float | None
    se_diff: float | None
    z: float | None
    p_value: float | None
    significant: bool
    level: float


@dataclass(frozen=True)
class _Figures:
    score: float
    ci: Interval | None
    se: float | None
    secondary: dict[str, float | None]


def round_half_away(value: float | None, ndigits: int = 0) -> float | None:
    """Display rounding, half away from zero on the shortest decimal repr (0.125 -> 0.13)."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError(f"cannot round non-finite value {value!r}")
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-ndigits), rounding=ROUND_HALF_UP)
    return float(rounded) + 0.0  # + 0.0 turns -0.0 into 0.0


# --- validation -----------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    # `type() is int` first: the ABC check is slow, and a dashboard cleans thousands of keys.
    return type(value) is int or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    )


def _int_scale(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: _is_int(value) and low <= value <= high


def _check_count(value: object, count: object) -> int:
    if not _is_int(count):
        raise ValueError(f"count for value {value!r} must be an integer, got {count!r}")
    if count < 0:
        raise ValueError(f"count for value {value!r} is negative: {count}")
    return int(count)


def _clean(counts: Mapping[Any, Any], is_valid: Callable[[Any], bool], scale: str) -> dict:
    """Validated histogram without zero counts; every key is checked, whatever its count."""
    cleaned: dict[Any, int] = {}
    for value, raw_count in counts.items():
        count = _check_count(value, raw_count)
        if not is_valid(value):
            raise ValueError(f"value {value!r} is outside the scale {scale}")
        if count:
            cleaned[value] = count
    return dict(sorted(cleaned.items()))


def merge_counts(*histograms: Mapping[Any, int]) -> dict[Any, int]:
    """Sum histograms key by key; zero totals are dropped, as scoring drops them."""
    merged: dict[Any, int] = {}
    for histogram in histograms:
        for value, raw_count in histogram.items():
            merged[value] = merged.get(value, 0) + _check_count(value, raw_count)
    return {value: count for value, count in merged.items() if count}


# --- interval math --------------------------------------------------------------------------


def _clamp(centre: float, half: float, low: float, high: float) -> Interval:
    return max(low, centre - half), min(high, centre + half)


def _share(hits: int, n: int) -> tuple[float, Interval, float]:
    """Percent, Wilson interval (percent) and plain binomial SE of hits / n."""
    pct = 100 * hits / n
    p, z2 = hits / n, Z95**2
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Float error at p = 0 or 1 can push a bound a hair past the share it must contain.
    ci = (max(0.0, min(100 * (centre - half), pct)), min(100.0, max(100 * (centre + half), pct)))
    se = 100 * math.sqrt(hits * (n - hits) / n**3)
    return pct, ci, se


def _trinomial(positive: int, negative: int, n: int) -> tuple[float, Interval, Interval, float]:
    """%positive - %negative with its adjusted-Wald and plain-Wald intervals and plain SE."""
    score = 100 * (positive - negative) / n
    # var / n = (p + d - (p - d)^2) / n with p = positive / n, d = negative / n, over n^3.
    spread = positive - negative
    se = 100 * math.sqrt(((positive + negative) * n - spread**2) / n**3)
    # Rocks (2016): 0.75 / 1.5 / 0.75 pseudo-answers keep coverage near +-100 and for small n:
    # p_adj = up / base and d_adj = down / base.
    n_adj = n + 3
    up, down, base = 4 * positive + 3, 4 * negative + 3, 4 * n_adj
    se_adj = 100 * math.sqrt(((up + down) * base - (up - down) ** 2) / (base**2 * n_adj))
    adjusted = _clamp(100 * (up - down) / base, Z95 * se_adj, -100.0, 100.0)
    wald = _clamp(score, Z95 * se, -100.0, 100.0)
    return score, adjusted, wald, se


def _mean(
    counts: Mapping[Any, int], bounds: Interval | None = None
) -> tuple[float, Interval | None, float | None]:
    """Mean, t interval (clamped to the scale) and s/sqrt(n); no interval below two answers."""
    n = sum(counts.values())
    # Integer values sum as integers; others (the smiley's thirds, EXQ means) as exact fractions.
    exact = (lambda value: value) if all(type(v) is int for v in counts) else Fraction
    total = sum(exact(value) * count for value, count in counts.items())
    squares = sum(exact(value) ** 2 * count for value, count in counts.items())
    mean = float(total / n)
    if n < 2:
        return mean, None, None
    # s^2 / n = (squares - total * mean) / (n - 1) / n, with one division.
    se = math.sqrt((squares * n - total * total) / (n * n * (n - 1)))
    half = _t975(n - 1) * se
    low, high = bounds if bounds else (-math.inf, math.inf)
    return mean, _clamp(mean, half, low, high), se


@lru_cache(maxsize=4096)
def _t975(degrees_of_freedom: int) -> float:
    """The t quantile of a two-sided 95 % interval; scipy's call costs more than the rest of a
    score, and a dashboard asks for the same few sample sizes again and again."""
    return float(student_t.ppf(0.975, degrees_of_freedom))


def _hits(counts: Mapping[int, int], values: range) -> int:
    return sum(count for value, count in counts.items() if value in values)


# --- building a Score -----------------------------------------------------------------------


def _build(
    metric: str,
    counts: dict[Any, int],
    max_margin: float | None,
    secondary_keys: tuple[str, ...],
    figures: Callable[[dict[Any, int], int], _Figures],
) -> Score:
    n = sum(counts.values())
    if n == 0:
        empty = dict.fromkeys(secondary_keys)
        return Score(metric, 0, None, None, None, True, True, counts, None, empty)
    result = figures(counts, n)
    low, high = result.ci if result.ci else (None, None)
    too_wide = max_margin is not None and result.ci is not None and (high - low) / 2 > max_margin
    low_precision = n < LOW_PRECISION_N or too_wide
    if n < MIN_N_SHOWN:
        hidden_secondary = dict.fromkeys(result.secondary)
        return Score(metric, n, None, None, None, True, True, counts, result.se, hidden_secondary)
    shown = (result.score, low, high, False, low_precision)
    return Score(metric, n, *shown, counts, result.se, result.secondary)


def _trinomial_figures(
    positive: int, neutral: int, negative: int, labels: tuple[str, ...]
) -> _Figures:
    n = positive + neutral + negative
    score, adjusted, wald, se = _trinomial(positive, negative, n)
    shares = [100 * k / n for k in (positive, neutral, negative)]
    secondary = dict(zip(labels, shares, strict=True))
    secondary |= {"wald_ci_low": wald[0], "wald_ci_high": wald[1]}
    return _Figures(score, adjusted, se, secondary)


_NPS_KEYS = ("promoters_pct", "passives_pct", "detractors_pct", "wald_ci_low", "wald_ci_high")
_EMOTION_KEYS = ("positive_pct", "neutral_pct", "negative_pct", "wald_ci_low", "wald_ci_high")
_WOMI_KEYS = (
    *("nps", "true_detractors_pct", "nps_detractors_pct", "detractor_overstatement"),
    *("wald_ci_low", "wald_ci_high"),
)
_CSAT_KEYS = ("top_box_pct", "mean", "mean_ci_low", "mean_ci_high")


def nps(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """NPS -100..100; headline interval adjusted Wald, plain Wald in `secondary`."""

    def figures(clean: dict[int, int], n: int) -> _Figures:
        promoters, detractors = _hits(clean, range(9, 11)), _hits(clean, range(7))
        neutral = n - promoters - detractors
        return _trinomial_figures(promoters, neutral, detractors, _NPS_KEYS[:3])

    return _build("nps", _clean(counts, _int_scale(0, 10), "0-10"), max_margin, _NPS_KEYS, figures)


def emotion_index(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """CTT emotion index: %positive - %negative over valences -1 / 0 / +1, interval as NPS."""

    def figures(clean: dict[int, int], n: int) -> _Figures:
        positive, negative = clean.get(1, 0), clean.get(-1, 0)
        return _trinomial_figures(positive, n - positive - negative, negative, _EMOTION_KEYS[:3])

    clean = _clean(counts, _int_scale(-1, 1), "-1, 0, +1")
    return _build("emotion", clean, max_margin, _EMOTION_KEYS, figures)


def womi(joint_counts: Mapping[tuple[int, int], int], *, max_margin: float | None = None) -> Score:
    """WOMI from (recommend, discourage) pairs; the headline interval is adjusted Wald like NPS's.

    x = [rec >= 9] - [disc >= 9] per respondent, so the score equals % recommending 9-10 minus
    % discouraging 9-10; `se` and `wald_ci_*` are the plain Wald figures of the same trinomial.
    """
    in_scale = _int_scale(0, 10)

    def is_pair(key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and all(map(in_scale, key))

    def figures(clean: dict[tuple[int, int], int], n: int) -> _Figures:
        recommend = sum(c for (rec, _), c in clean.items() if rec >= 9)
        true_detractors = sum(c for (_, disc), c in clean.items() if disc >= 9)
        nps_detractors = sum(c for (rec, _), c in clean.items() if rec <= 6)
        both = sum(c for (rec, disc), c in clean.items() if rec >= 9 and disc >= 9)
        positive, negative = recommend - both, true_detractors - both
        score, adjusted, wald, se = _trinomial(positive, negative, n)
        overstatement = (
            (nps_detractors - true_detractors) / true_detractors if true_detractors else None
        )
        secondary = {
            "nps": 100 * (recommend - nps_detractors) / n,
            "true_detractors_pct": 100 * true_detractors / n,
            "nps_detractors_pct": 100 * nps_detractors / n,
            "detractor_overstatement": overstatement,
            "wald_ci_low": wald[0],
            "wald_ci_high": wald[1],
        }
        return _Figures(score, adjusted, se, secondary)

    clean = _clean(joint_counts, is_pair, "0-10 for both questions")
    result = _build("womi", clean, max_margin, _WOMI_KEYS, figures)
    return replace(result, counts={f"{rec},{disc}": c for (rec, disc), c in clean.items()})


def _share_score(
    metric: str, clean: dict[int, int], hits: range, max_margin: float | None
) -> Score:
    def figures(counts: dict[int, int], n: int) -> _Figures:
        pct, ci, se = _share(_hits(counts, hits), n)
        return _Figures(pct, ci, se, {})

    return _build(metric, clean, max_margin, (), figures)


def yes_no(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """Content feedback: % yes (key 1; key 0 is no) with a Wilson interval."""
    return _share_score("yes_no", _clean(counts, _int_scale(0, 1), "0-1"), range(1, 2), max_margin)


def csat(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """CSAT % (4 or 5 on 1-5) with a Wilson interval; the mean is a labelled secondary figure."""

    def figures(clean: dict[int, int], n: int) -> _Figures:
        pct, ci, se = _share(_hits(clean, range(4, 6)), n)
        mean, mean_ci, _ = _mean(clean, (1.0, 5.0))
        low, high = mean_ci if mean_ci else (None, None)
        secondary = {"top_box_pct": pct, "mean": mean, "mean_ci_low": low, "mean_ci_high": high}
        return _Figures(pct, ci, se, secondary)

    return _build("csat", _clean(counts, _int_scale(1, 5), "1-5"), max_margin, _CSAT_KEYS, figures)


def _mean_score(
    metric: str,
    clean: dict[Any, int],
    bounds: Interval | None,
    max_margin: float | None,
    share: tuple[str, range] | None = None,
) -> Score:
    """Mean with a t interval, plus an optional labelled share with its Wilson interval."""
    keys = (f"{share[0]}_pct", f"{share[0]}_ci_low", f"{share[0]}_ci_high") if share else ()

    def figures(counts: dict[Any, int], n: int) -> _Figures:
        mean, ci, se = _mean(counts, bounds)
        secondary: dict[str, float | None] = {}
        if share:
            pct, (low, high), _ = _share(_hits(counts, share[1]), n)
            secondary = dict(zip(keys, (pct, low, high), strict=True))
        return _Figures(mean, ci, se, secondary)

    return _build(metric, clean, max_margin, keys, figures)


def ces(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """CES 2.0 (1-7 agreement, higher is better): mean, and % agree (5-7) in `secondary`."""
    clean = _clean(counts, _int_scale(1, 7), "1-7")
    return _mean_score("ces", clean, (1.0, 7.0), max_margin, ("agree", range(5, 8)))


def ces_legacy(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """Legacy CES (1-5 effort, lower is better): mean effort, and % low effort (1-2)."""
    clean = _clean(counts, _int_scale(1, 5), "1-5")
    return _mean_score("ces_legacy", clean, (1.0, 5.0), max_margin, ("low_effort", range(1, 3)))


def smiley(counts: Mapping[int, int], *, max_margin: float | None = None) -> Score:
    """Kiosk happy index 0..100: faces 1 (very unhappy) .. 4 (very happy) as 0, 1/3, 2/3, 1."""
    clean = _clean(counts, _int_scale(1, 4), "1-4")
    scaled = {Fraction(100 * (face - 1), 3): count for face, count in clean.items()}
    result = _mean_score("smiley", scaled, (0.0, 100.0), max_margin)
    return replace(result, counts=clean)


def rating(
    counts: Mapping[int, int],
    *,
    scale_min: int,
    scale_max: int,
    max_margin: float | None = None,
) -> Score:
    """Generic rating: mean with a t interval; `top_box_pct` is the share of the top two values."""
    if not (_is_int(scale_min) and _is_int(scale_max) and scale_min < scale_max):
        raise ValueError(f"invalid rating scale {scale_min!r}-{scale_max!r}")
    clean = _clean(counts, _int_scale(scale_min, scale_max), f"{scale_min}-{scale_max}")
    top_box = range(scale_max - 1, scale_max + 1)

    def figures(counts: dict[int, int], n: int) -> _Figures:
        mean, ci, se = _mean(counts, (float(scale_min), float(scale_max)))
        return _Figures(mean, ci, se, {"top_box_pct": 100 * _hits(counts, top_box) / n})

    return _build("rating", clean, max_margin, ("top_box_pct",), figures)


def mean_of(
    counts: Mapping[float, int],
    *,
    metric: str = "mean",
    bounds: Interval | None = None,
    max_margin: float | None = None,
) -> Score:
    """Mean of arbitrary finite values (EXQ dimensions, mystery-shopping totals), t interval."""

    def is_finite(value: object) -> bool:
        return (
            isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        )

    clean = _clean(counts, is_finite, "of finite numbers")
    return _mean_score(metric, clean, bounds, max_margin)


# The raw answer values each instrument's histogram can hold (WOMI: (recommend, discourage)
# pairs), as its scorer accepts them; a rating's scale is its question's own, so it is not here.
ANSWER_VALUES: dict[str, tuple[Any, ...]] = {
    "nps": tuple(range(11)),
    "csat": tuple(range(1, 6)),
    "ces": tuple(range(1, 8)),
    "ces_legacy": tuple(range(1, 6)),
    "womi": tuple((recommend, discourage) for recommend in range(11) for discourage in range(11)),
    "yes_no": (0, 1),
    "smiley": tuple(range(1, 5)),
    "emotion": (-1, 0, 1),
}

SCORERS: dict[str, Callable[..., Score]] = {
    "nps": nps,
    "csat": csat,
    "ces": ces,
    "ces_legacy": ces_legacy,
    "womi": womi,
    "yes_no": yes_no,
    "smiley": smiley,
    "rating": rating,
    "emotion": emotion_index,
}


def score_for(metric: str, counts: Mapping[Any, int], **options: Any) -> Score:
    try:
        scorer = SCORERS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}") from None
    return scorer(counts, **options)


# --- comparing and ranking ------------------------------------------------------------------


def compare(current: Score, previous: Score, *, level: float = 0.95) -> Comparison:
    """Two-sample z test on the change in points, variances added.

    Never significant when a side is hidden (n < 5) or the difference has no spread; `delta`
    is still given whenever both scores are shown.
    """
    if current.metric != previous.metric:
        raise ValueError(f"cannot compare {current.metric!r} with {previous.metric!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    both_shown = current.score is not None and previous.score is not None
    delta = current.score - previous.score if both_shown else None
    untestable = Comparison(previous.score, current.score, delta, None, None, None, False, level)
    if not both_shown or current.se is None or previous.se is None:
        return untestable
    se_diff = math.hypot(current.se, previous.se)
    if se_diff == 0:
        return replace(untestable, se_diff=se_diff)
    z = delta / se_diff
    p_value = float(2 * norm.sf(abs(z)))
    return Comparison(
        previous.score, current.score, delta, se_diff, z, p_value, p_value < 1 - level, level
    )


def rank_value(score: Score) -> float | None:
    """Sort key for ranking units, higher is better; None below 5 answers.

    Trinomial scores use score - 160/sqrt(n); others the pessimistic interval bound: ci_low,
    or for lower-is-better metrics (legacy CES) ci_high negated so one descending sort fits all.
    """
    if score.n < MIN_N_SHOWN or score.score is None:
        return None
    if score.metric in TRINOMIAL_METRICS:
        return score.score - TRINOMIAL_RANK_PENALTY / math.sqrt(score.n)
    if score.metric in LOWER_IS_BETTER:
        return None if score.ci_high is None else -score.ci_high
    return score.ci_low
