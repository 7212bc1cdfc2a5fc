"""The tests aggregate rules rest on (pure: no ORM). One bad answer among many good ones must never
fire; a real burst must fire once. Exact tests, not normal approximations, because windows are
small (a kiosk's 15 minutes) and the rates tested are near zero."""

import math
from dataclasses import dataclass

from scipy.stats import binomtest, poisson


@dataclass(frozen=True)
class ShareEvidence:
    n: int
    negatives: int
    reference: float  # the share of negative answers tested against, 0..1
    p_value: float | None
    ci_low: float | None  # 95 % Clopper-Pearson interval of the window's share
    ci_high: float | None
    fires: bool

    @property
    def share(self) -> float | None:
        return self.negatives / self.n if self.n else None

    def as_json(self) -> dict:
        return {
            "n": self.n,
            "negatives": self.negatives,
            "share": self.share,
            "reference": self.reference,
            "p_value": self.p_value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def negative_share_test(*, negatives: int, n: int, reference: float, alpha: float, min_n: int):
    """One-sided exact binomial test of H0: share <= reference against share > reference.

    Fires only when n >= min_n and p <= alpha. A reference of 1 or more can never be exceeded.
    """
    if n <= 0:
        return ShareEvidence(n, negatives, reference, None, None, None, False)
    reference = min(max(reference, 0.0), 1.0)
    if reference >= 1.0:
        p_value = 1.0
    else:
        p_value = float(binomtest(negatives, n, reference, alternative="greater").pvalue)
    interval = binomtest(negatives, n).proportion_ci(confidence_level=0.95, method="exact")
    fires = n >= min_n and p_value <= alpha
    return ShareEvidence(
        n, negatives, reference, p_value, float(interval.low), float(interval.high), fires
    )


@dataclass(frozen=True)
class VolumeEvidence:
    observed: int
    expected: float
    p_value: float | None
    fires: bool

    def as_json(self) -> dict:
        return {"observed": self.observed, "expected": self.expected, "p_value": self.p_value}


# Below this many expected answers a quiet window is normal, not an incident.
MIN_EXPECTED_VOLUME = 10.0


def volume_drop_test(*, observed: int, history: list[int], ratio: float, alpha: float):
    """Is `observed` far below the mean of the same hours in earlier weeks (`history`)?

    Fires when at most `ratio` of the usual volume arrived and a Poisson test with the usual
    mean rejects "nothing changed" at `alpha`.
    """
    if not history:
        return VolumeEvidence(observed, 0.0, None, False)
    expected = sum(history) / len(history)
    if expected < MIN_EXPECTED_VOLUME:
        return VolumeEvidence(observed, expected, None, False)
    p_value = float(poisson.cdf(observed, expected))
    fires = observed <= ratio * expected and p_value <= alpha
    return VolumeEvidence(observed, expected, p_value, fires)


def nps_drop_fires(
    *, current, baseline, drop_points: float, alpha: float, min_n: int, min_baseline: int
) -> tuple[bool, float | None, float | None]:
    """(fires, drop in points, one-sided p) for an NPS window against its baseline, both
    metrics.scores.Score. Needs n >= min_n now and >= min_baseline before."""
    if current.score is None or baseline.score is None:
        return False, None, None
    if current.n < min_n or baseline.n < min_baseline:
        return False, baseline.score - current.score, None
    drop = baseline.score - current.score
    se = math.hypot(current.se or 0.0, baseline.se or 0.0)
    if se == 0:
        return drop >= drop_points, drop, None
    from scipy.stats import norm

    p_value = float(norm.sf(drop / se))
    return drop >= drop_points and p_value <= alpha, drop, p_value
