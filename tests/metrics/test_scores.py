"""Metric math from docs/METRICS.md: worked examples by hand, honest-reporting rules, properties."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as student_t

from metrics.scores import (
    ANSWER_VALUES,
    LOW_PRECISION_N,
    MIN_N_SHOWN,
    SCORERS,
    Z95,
    ces,
    ces_legacy,
    compare,
    csat,
    emotion_index,
    mean_of,
    merge_counts,
    nps,
    rank_value,
    rating,
    round_half_away,
    score_for,
    smiley,
    womi,
    yes_no,
)

approx = pytest.approx


def nps_counts(promoters: int, passives: int, detractors: int) -> dict[int, int]:
    return {10: promoters, 8: passives, 0: detractors}


def t_crit(n: int) -> float:
    return float(student_t.ppf(0.975, n - 1))


# --- worked examples ------------------------------------------------------------------------


def test_nps_with_50_promoters_30_passives_20_detractors_is_30():
    score = nps({9: 20, 10: 30, 7: 10, 8: 20, 0: 5, 6: 15})

    assert score.score == 30.0
    assert score.n == 100
    assert score.secondary["promoters_pct"] == 50.0
    assert score.secondary["passives_pct"] == 30.0
    assert score.secondary["detractors_pct"] == 20.0


def test_nps_interval_is_adjusted_wald_centred_on_adjusted_score():
    score = nps(nps_counts(50, 30, 20))

    p_adj, d_adj, n_adj = 50.75 / 103, 20.75 / 103, 103
    centre = 100 * (p_adj - d_adj)
    se_adj = 100 * math.sqrt((p_adj + d_adj - (p_adj - d_adj) ** 2) / n_adj)
    assert centre == approx(29.126, abs=1e-3)
    assert score.ci_low == approx(centre - 1.959964 * se_adj)
    assert score.ci_high == approx(centre + 1.959964 * se_adj)
    assert (score.ci_low, score.ci_high) == (approx(14.051, abs=1e-3), approx(44.201, abs=1e-3))


def test_nps_plain_wald_is_shown_as_secondary_figure():
    score = nps(nps_counts(50, 30, 20))

    se = 100 * math.sqrt((0.5 + 0.2 - 0.3**2) / 100)
    assert score.se == approx(se)
    assert score.secondary["wald_ci_low"] == approx(30 - 1.959964 * se)
    assert score.secondary["wald_ci_high"] == approx(30 + 1.959964 * se)


def test_nps_interval_never_leaves_minus_100_to_100():
    all_promoters = nps({10: 6})
    all_detractors = nps({0: 6})

    assert all_promoters.ci_high == 100.0
    assert all_detractors.ci_low == -100.0
    assert all_promoters.secondary["wald_ci_high"] == 100.0


def test_yes_no_wilson_interval_for_8_of_10_matches_known_values():
    score = yes_no({1: 8, 0: 2})

    assert score.score == 80.0
    assert score.ci_low == approx(49.02, abs=0.01)
    assert score.ci_high == approx(94.33, abs=0.01)


def test_wilson_interval_works_when_nobody_or_everybody_says_yes():
    nobody = yes_no({0: 20})
    everybody = yes_no({1: 20})

    assert (nobody.score, nobody.ci_low) == (0.0, 0.0)
    assert 0 < nobody.ci_high < 20
    assert (everybody.score, everybody.ci_high) == (100.0, 100.0)
    assert 80 < everybody.ci_low < 100


def test_smiley_126_60_16_17_gives_happy_index_78():
    score = smiley({4: 126, 3: 60, 2: 16, 1: 17})

    by_hand = 100 * (126 * 1 + 60 * 2 / 3 + 16 * 1 / 3 + 17 * 0) / 219
    assert score.score == approx(by_hand)
    assert round_half_away(score.score) == 78
    assert score.counts == {1: 17, 2: 16, 3: 60, 4: 126}


def test_csat_is_share_of_4_and_5_and_mean_is_separate():
    score = csat({5: 30, 4: 20, 3: 25, 2: 15, 1: 10})

    assert score.score == 50.0
    assert score.secondary["top_box_pct"] == 50.0
    raw = [5] * 30 + [4] * 20 + [3] * 25 + [2] * 15 + [1] * 10
    half = t_crit(100) * statistics.stdev(raw) / 10
    assert score.secondary["mean"] == approx(statistics.fmean(raw))
    assert score.secondary["mean_ci_low"] == approx(statistics.fmean(raw) - half)
    assert score.secondary["mean_ci_high"] == approx(statistics.fmean(raw) + half)
    assert score.se == approx(100 * math.sqrt(0.5 * 0.5 / 100))


def test_ces_headline_is_mean_with_t_interval_and_agree_share():
    score = ces({7: 10, 6: 10, 5: 5, 4: 5, 2: 5, 1: 5})

    raw = [7] * 10 + [6] * 10 + [5] * 5 + [4] * 5 + [2] * 5 + [1] * 5
    mean, half = statistics.fmean(raw), t_crit(40) * statistics.stdev(raw) / math.sqrt(40)
    assert score.score == approx(mean)
    assert (score.ci_low, score.ci_high) == (approx(mean - half), approx(mean + half))
    assert score.secondary["agree_pct"] == 62.5
    assert score.secondary["agree_ci_low"] < 62.5 < score.secondary["agree_ci_high"]


def test_legacy_ces_reports_mean_effort_and_low_effort_share():
    score = ces_legacy({1: 10, 2: 10, 3: 5, 5: 15})

    assert score.score == approx((10 + 20 + 15 + 75) / 40)
    assert score.secondary["low_effort_pct"] == 50.0


def test_womi_shows_how_much_nps_overstates_detractors():
    answers = {(10, 0): 40, (8, 1): 20, (3, 2): 30, (2, 10): 10}

    score = womi(answers)

    assert score.score == 30.0  # 40 % recommend 9-10, 10 % discourage 9-10
    assert score.secondary["nps"] == 0.0  # 40 % promoters, 40 % detractors
    assert score.secondary["nps_detractors_pct"] == 40.0
    assert score.secondary["true_detractors_pct"] == 10.0
    assert score.secondary["detractor_overstatement"] == 3.0  # (40 - 10) / 10
    assert score.counts == {"2,10": 10, "3,2": 30, "8,1": 20, "10,0": 40}


def test_womi_interval_is_adjusted_wald_like_nps():
    both = womi({(10, 0): 40, (8, 1): 50, (2, 10): 10})
    same_trinomial = nps(nps_counts(40, 50, 10))

    assert (both.ci_low, both.ci_high) == (same_trinomial.ci_low, same_trinomial.ci_high)
    assert both.se == same_trinomial.se


def test_womi_without_true_detractors_has_no_overstatement_ratio():
    score = womi({(10, 0): 5, (3, 3): 5})

    assert score.secondary["detractor_overstatement"] is None


def test_emotion_index_is_positive_minus_negative():
    score = emotion_index({1: 50, 0: 30, -1: 20})

    same_trinomial = nps(nps_counts(50, 30, 20))
    assert score.score == 30.0
    assert (score.ci_low, score.ci_high) == (same_trinomial.ci_low, same_trinomial.ci_high)
    assert score.secondary["negative_pct"] == 20.0


def test_rating_top_box_is_top_two_values():
    score = rating({10: 3, 9: 2, 5: 5}, scale_min=0, scale_max=10)

    assert score.score == approx((3 * 10 + 2 * 9 + 5 * 5) / 10)
    assert score.secondary["top_box_pct"] == 50.0


def test_mean_of_arbitrary_values_for_exq_and_mystery_shopping():
    score = mean_of({87.5: 2, 100.0: 1, 62.5: 2}, metric="mystery_shopping")

    raw = [87.5, 87.5, 100.0, 62.5, 62.5]
    half = t_crit(5) * statistics.stdev(raw) / math.sqrt(5)
    assert score.metric == "mystery_shopping"
    assert score.score == approx(80.0)
    assert score.ci_low == approx(80 - half)


def test_score_for_dispatches_by_metric_name():
    assert set(SCORERS) == {
        "nps",
        "csat",
        "ces",
        "ces_legacy",
        "womi",
        "yes_no",
        "smiley",
        "rating",
        "emotion",
    }
    assert score_for("nps", nps_counts(5, 0, 0)) == nps(nps_counts(5, 0, 0))
    assert score_for("rating", {3: 5}, scale_min=1, scale_max=5).score == 3.0
    with pytest.raises(ValueError, match="unknown metric"):
        score_for("nps2", {})


def test_score_serialises_to_plain_json():
    data = nps(nps_counts(50, 30, 20)).to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["counts"] == {"0": 20, "8": 30, "10": 50}
    assert all(type(v) is float for v in data["secondary"].values())


# --- honest reporting -----------------------------------------------------------------------


def test_nps_below_five_answers_is_hidden_but_count_shown():
    score = nps({10: 3, 0: 1})

    assert score.hidden
    assert score.n == 4
    assert score.counts == {0: 1, 10: 3}
    assert (score.score, score.ci_low, score.ci_high) == (None, None, None)
    assert set(score.secondary.values()) == {None}


def test_five_answers_are_shown():
    assert not nps({10: 5}).hidden
    assert MIN_N_SHOWN == 5


def test_no_answers_gives_no_numbers_at_all():
    score = csat({})

    assert score.n == 0 and score.hidden
    assert (score.score, score.ci_low, score.ci_high, score.se) == (None, None, None, None)
    assert set(score.secondary.values()) == {None}


def test_fewer_than_30_answers_is_flagged_low_precision():
    assert LOW_PRECISION_N == 30
    assert csat({5: 29}).low_precision
    assert not csat({5: 30}).low_precision


def test_interval_wider_than_configured_margin_is_flagged_low_precision():
    counts = nps_counts(50, 30, 20)  # half-width about 15 points

    assert nps(counts, max_margin=10).low_precision
    assert not nps(counts, max_margin=20).low_precision
    assert not nps(counts).low_precision


def test_identical_answers_collapse_the_mean_interval_to_the_point():
    score = ces({5: 10})

    assert score.score == score.ci_low == score.ci_high == 5.0
    assert score.se == 0.0


def test_single_answer_has_no_mean_interval():
    score = mean_of({3.0: 1})

    assert score.hidden and score.n == 1
    assert score.se is None


# --- rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ndigits", "expected"),
    [
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (0.5, 0, 1.0),
        (-0.5, 0, -1.0),
        (0.125, 2, 0.13),
        (2.675, 2, 2.68),
        (78.23439878234399, 0, 78.0),
        (-0.4, 0, 0.0),
        (1234.5, -1, 1230.0),
    ],
)
def test_display_rounds_half_away_from_zero(value: float, ndigits: int, expected: float):
    assert round_half_away(value, ndigits) == expected


def test_rounding_a_hidden_score_stays_empty():
    assert round_half_away(None) is None


# --- comparisons and ranking ----------------------------------------------------------------


def test_nps_jump_from_minus_10_to_40_is_significant():
    result = compare(nps(nps_counts(60, 20, 20)), nps(nps_counts(30, 30, 40)))

    se_now = 100 * math.sqrt((0.6 + 0.2 - 0.4**2) / 100)  # 8
    se_before = 100 * math.sqrt((0.3 + 0.4 - 0.1**2) / 100)
    se_diff = math.sqrt(se_now**2 + se_before**2)
    z = 50 / se_diff
    assert result.delta == 50.0
    assert (result.previous_score, result.current_score) == (-10.0, 40.0)
    assert result.se_diff == approx(se_diff)
    assert result.z == approx(z)
    assert result.p_value == approx(math.erfc(z / math.sqrt(2)))
    assert result.significant
    assert result.level == 0.95


def test_csat_from_75_to_80_percent_is_no_detectable_change():
    result = compare(csat({5: 80, 1: 20}), csat({5: 75, 1: 25}))

    se_diff = 100 * math.sqrt(0.8 * 0.2 / 100 + 0.75 * 0.25 / 100)
    assert result.delta == 5.0
    assert result.p_value == approx(math.erfc(5 / se_diff / math.sqrt(2)))
    assert result.p_value == approx(0.396, abs=1e-3)
    assert not result.significant


def test_stricter_level_needs_a_bigger_change():
    current, previous = csat({5: 80, 1: 20}), csat({5: 67, 1: 33})

    assert compare(current, previous).significant  # p about 0.035
    assert not compare(current, previous, level=0.99).significant


def test_change_against_hidden_period_is_never_significant():
    result = compare(nps(nps_counts(90, 10, 0)), nps({0: 4}))

    assert not result.significant
    assert result.p_value is None and result.delta is None


def test_change_without_spread_is_not_tested():
    result = compare(ces({7: 10}), ces({6: 10}))

    assert result.delta == 1.0
    assert result.se_diff == 0.0
    assert result.p_value is None and not result.significant


def test_comparing_different_instruments_is_refused():
    with pytest.raises(ValueError, match="ces_legacy"):
        compare(ces({5: 10}), ces_legacy({2: 10}))


def test_nps_rank_uses_score_minus_160_over_root_n():
    assert rank_value(nps(nps_counts(50, 30, 20))) == approx(30 - 16)
    assert rank_value(womi({(10, 0): 25})) == approx(100 - 32)


def test_units_with_fewer_than_five_answers_are_not_ranked():
    assert rank_value(nps({10: 4})) is None
    assert rank_value(csat({5: 4})) is None


def test_small_perfect_store_does_not_outrank_large_good_store():
    small_perfect, large_good = csat({5: 6}), csat({5: 900, 1: 100})

    assert small_perfect.score > large_good.score
    assert rank_value(small_perfect) < rank_value(large_good)
    assert rank_value(large_good) == large_good.ci_low


def test_legacy_ces_ranks_low_effort_first_on_pessimistic_bound():
    easy, hard = ces_legacy({1: 20, 2: 20}), ces_legacy({4: 20, 5: 20})

    assert rank_value(easy) == -easy.ci_high
    assert rank_value(easy) > rank_value(hard)


# --- rejected input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scorer", "counts", "bad"),
    [
        (nps, {11: 1}, "11"),
        (nps, {-1: 1}, "-1"),
        (csat, {0: 3}, "0"),
        (csat, {4.5: 3}, "4.5"),
        (ces, {8: 1}, "8"),
        (ces_legacy, {6: 1}, "6"),
        (yes_no, {2: 1}, "2"),
        (smiley, {5: 1}, "5"),
        (emotion_index, {2: 1}, "2"),
        (womi, {(11, 0): 1}, "11"),
        (womi, {10: 1}, "10"),
        (mean_of, {math.nan: 1}, "nan"),
    ],
)
def test_value_outside_the_scale_is_rejected_by_name(scorer, counts, bad):
    with pytest.raises(ValueError, match=bad):
        scorer(counts)


def test_rating_outside_its_scale_is_rejected():
    with pytest.raises(ValueError, match="6"):
        rating({6: 1}, scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="scale"):
        rating({}, scale_min=5, scale_max=5)


def test_negative_or_fractional_counts_are_rejected():
    with pytest.raises(ValueError, match="negative"):
        nps({10: -1})
    with pytest.raises(ValueError, match="integer"):
        nps({10: 1.5})
    with pytest.raises(ValueError, match="negative"):
        merge_counts({10: 1}, {10: -1})


def test_merge_counts_adds_and_drops_empty_values():
    assert merge_counts({10: 2, 0: 1}, {10: 3, 5: 0}, {}) == {10: 5, 0: 1}
    assert merge_counts({(10, 0): 1}, {(10, 0): 2}) == {(10, 0): 3}


# --- properties -----------------------------------------------------------------------------

histograms_0_10 = st.dictionaries(st.integers(0, 10), st.integers(0, 60), max_size=11)
answers_0_10 = st.lists(st.integers(0, 10), max_size=150)
trinomials = st.tuples(st.integers(0, 80), st.integers(0, 80), st.integers(0, 80))


def shown(score) -> bool:
    return not score.hidden


@given(histograms_0_10)
def test_nps_and_its_intervals_stay_within_minus_100_and_100(counts):
    score = nps(counts)

    if shown(score):
        promoters = counts.get(9, 0) + counts.get(10, 0)
        detractors = sum(counts.get(v, 0) for v in range(7))
        centre = 100 * (promoters - detractors) / (score.n + 3)
        assert -100 <= score.ci_low <= centre <= score.ci_high <= 100
        assert -100 <= score.score <= 100
        low, high = score.secondary["wald_ci_low"], score.secondary["wald_ci_high"]
        assert -100 <= low <= score.score <= high <= 100


@given(trinomials)
def test_swapping_promoters_and_detractors_negates_nps(trinomial):
    promoters, passives, detractors = trinomial
    score = nps(nps_counts(promoters, passives, detractors))
    mirrored = nps(nps_counts(detractors, passives, promoters))

    if shown(score):
        assert mirrored.score == -score.score
        assert mirrored.ci_low == approx(-score.ci_high)
        assert mirrored.ci_high == approx(-score.ci_low)
        assert mirrored.se == score.se


@given(st.dictionaries(st.integers(1, 5), st.integers(0, 60)))
def test_csat_share_and_mean_stay_in_range(counts):
    score = csat(counts)

    if shown(score):
        assert 0 <= score.ci_low <= score.score <= score.ci_high <= 100
        mean = score.secondary
        assert 1 <= mean["mean_ci_low"] <= mean["mean"] <= mean["mean_ci_high"] <= 5


@given(st.integers(0, 200), st.integers(0, 200))
def test_yes_share_stays_within_its_wilson_interval(yes, no):
    score = yes_no({1: yes, 0: no})

    if shown(score):
        assert 0 <= score.ci_low <= score.score <= score.ci_high <= 100


@pytest.mark.parametrize(
    ("scorer", "low", "high"), [(ces, 1, 7), (ces_legacy, 1, 5), (smiley, 0, 100)]
)
@given(data=st.data())
def test_means_stay_within_their_scale(scorer, low, high, data):
    scale_top = {ces: 7, ces_legacy: 5, smiley: 4}[scorer]
    counts = data.draw(st.dictionaries(st.integers(1, scale_top), st.integers(0, 40)))

    score = scorer(counts)

    if shown(score):
        assert low <= score.ci_low <= score.score <= score.ci_high <= high


@given(st.dictionaries(st.tuples(st.integers(0, 10), st.integers(0, 10)), st.integers(0, 20)))
def test_womi_is_recommenders_minus_discouragers_within_bounds(joint):
    score = womi(joint)

    if shown(score):
        n = sum(joint.values())
        recommenders = sum(c for (rec, _), c in joint.items() if rec >= 9)
        discouragers = sum(c for (_, disc), c in joint.items() if disc >= 9)
        assert score.score == approx(100 * (recommenders - discouragers) / n)
        assert -100 <= score.ci_low <= score.ci_high <= 100


@given(answers_0_10, answers_0_10)
def test_merged_histograms_score_like_all_answers_together(first, second):
    merged = merge_counts(Counter(first), Counter(second))

    assert nps(merged) == nps(Counter(first + second))
    assert rating(merged, scale_min=0, scale_max=10) == rating(
        Counter(first + second), scale_min=0, scale_max=10
    )


@given(answers_0_10, st.randoms(use_true_random=False))
def test_score_from_counts_equals_score_from_raw_answers_in_any_order(answers, rnd: random.Random):
    shuffled = answers[:]
    rnd.shuffle(shuffled)
    score = rating(Counter(shuffled), scale_min=0, scale_max=10)
    net = nps(Counter(shuffled))

    assert score == rating(Counter(answers), scale_min=0, scale_max=10)
    if len(answers) >= MIN_N_SHOWN:
        promoters = sum(a >= 9 for a in answers)
        detractors = sum(a <= 6 for a in answers)
        assert net.score == approx(100 * (promoters - detractors) / len(answers))
        mean = statistics.fmean(answers)
        half = t_crit(len(answers)) * statistics.stdev(answers) / math.sqrt(len(answers))
        assert score.score == approx(mean)
        assert score.ci_low == approx(max(0.0, mean - half), abs=1e-9)
        assert score.ci_high == approx(min(10.0, mean + half), abs=1e-9)


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 4))
def test_rounding_is_symmetric_around_zero(value, ndigits):
    assert round_half_away(-value, ndigits) == -round_half_away(value, ndigits)
    assert abs(round_half_away(value, ndigits) - value) <= 0.5 * 10**-ndigits + 1e-9


def test_z_is_the_documented_constant():
    assert Z95 == 1.959964


@pytest.mark.parametrize("metric", sorted(ANSWER_VALUES))
def test_answer_values_are_exactly_what_each_scorer_accepts(metric):
    # Dashboards sum rollups per value of these scales (metrics.selectors); a value the scorer
    # accepts but the list lacks would be summed the slow way, one it refuses is never stored.
    values = ANSWER_VALUES[metric]
    assert score_for(metric, dict.fromkeys(values, 1)).n == len(values)
    if metric == "womi":
        outside = [(11, 0), (0, 11), (-1, 0)]
    else:
        outside = [min(values) - 1, max(values) + 1]
    for value in outside:
        with pytest.raises(ValueError, match="outside the scale"):
            score_for(metric, {value: 1})
