"""How scores are rounded for display: once, half away from zero (docs/METRICS.md)."""

from metrics.scores import round_half_away

MEAN_METRICS = frozenset({"ces", "ces_legacy", "rating"})


def display_digits(metric: str) -> int:
    """Means on short scales need two decimals to show movement; points and percentages one."""
    return 2 if metric in MEAN_METRICS else 1


def display_score(metric: str, value: float | None) -> float | None:
    return round_half_away(value, display_digits(metric))
