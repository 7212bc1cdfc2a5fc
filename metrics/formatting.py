"""How scores are rounded for display: once, half away from zero (docs/METRICS.md).

How many decimals each metric shows is part of its definition in `metrics.registry`: means on
short scales need two decimals to show movement; points and percentages one.
"""

from metrics import registry
from metrics.scores import round_half_away


def display_digits(metric: str) -> int:
    return registry.digits(metric)


def display_score(metric: str, value: float | None) -> float | None:
    return round_half_away(value, display_digits(metric))
