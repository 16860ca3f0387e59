"""Stratified missed-misuse estimates, reviewer-error correction, recall, IPW metrics and below-the-line helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.analysis.estimators import (
    ReviewerAccuracy,
    amount_recall,
    below_the_line,
    below_the_line_sample,
    below_the_line_samples,
    clopper_pearson_interval,
    correct_for_reviewer_error,
    estimate_detected,
    estimate_misses,
    estimate_recall,
    ipw_precision_recall,
    line_comparison,
    ratio_interval,
    rogan_gladen,
    rule_of_three,
    sample_size_for_upper_bound,
    wilson_interval,
)


def _sample(found: dict[str, int], sampled: dict[str, int]) -> pd.DataFrame:
    rows = []
    for stratum, n in sampled.items():
        for i in range(n):
            hit = int(i < found[stratum])
            rows.append({"stratum": stratum, "is_misuse": hit, "misuse_amount": 100_000.0 * hit})
    return pd.DataFrame(rows)


def test_stratified_point_estimate_is_sum_of_expansions() -> None:
    sample = _sample({"a": 5, "b": 2}, {"a": 100, "b": 50})
    estimate = estimate_misses(sample, {"a": 1_000, "b": 5_000})
    # 5 * 1000 / 100 + 2 * 5000 / 50 = 50 + 200
    assert estimate.count == pytest.approx(250.0)
    assert estimate.amount == pytest.approx(250 * 100_000.0)
    assert estimate.count_lower < 250 < estimate.count_upper
    assert estimate.sampled == 150 and estimate.found == 7
    assert estimate.rate == pytest.approx(250 / 6_000)


def test_zero_findings_use_the_rule_of_three() -> None:
    sample = _sample({"a": 0}, {"a": 300})
    estimate = estimate_misses(sample, {"a": 1_000_000})
    row = estimate.strata.set_index("stratum").loc["a"]
    assert estimate.count == 0.0
    assert row["rule_of_three"] == pytest.approx(3 / 300, rel=0.01)
    assert rule_of_three(300) == pytest.approx(-np.log(0.05) / 300)
    assert rule_of_three(100) == pytest.approx(0.03, rel=0.01)
    # the Wilson upper bound at zero is close to the rule of three
    assert estimate.rate_upper == pytest.approx(3 / 300, rel=0.35)
    assert sample_size_for_upper_bound(0.01) == 300


def test_unsampled_strata_are_reported_not_estimated() -> None:
    sample = _sample({"a": 1}, {"a": 10})
    estimate = estimate_misses(sample, {"a": 100, "b": 900})
    assert estimate.unsampled_population == 900
    assert estimate.population == 100


def test_full_census_has_no_sampling_error() -> None:
    sample = _sample({"a": 4}, {"a": 40})
    estimate = estimate_misses(sample, {"a": 40})
    assert estimate.count_lower == pytest.approx(4.0)
    assert estimate.count_upper == pytest.approx(4.0)


def test_interval_covers_the_truth_in_repeated_samples() -> None:
    rng = np.random.default_rng(11)
    sizes = {"low": 20_000, "mid": 5_000, "high": 1_000}
    rates = {"low": 0.004, "mid": 0.02, "high": 0.08}
    population = {k: (rng.random(n) < rates[k]).astype(int) for k, n in sizes.items()}
    truth = sum(int(v.sum()) for v in population.values())
    covered = 0
    repetitions = 200
    strata = np.repeat(list(sizes), 150)
    for _ in range(repetitions):
        picked = np.concatenate(
            [rng.choice(values, size=150, replace=False) for values in population.values()]
        )
        sample = pd.DataFrame({"stratum": strata, "is_misuse": picked, "misuse_amount": picked * 1.0})
        estimate = estimate_misses(sample, sizes)
        covered += estimate.count_lower <= truth <= estimate.count_upper
    assert covered / repetitions >= 0.9


def test_recall_interval_maps_the_miss_interval() -> None:
    recall = estimate_recall(60, (40.0, 20.0, 90.0))
    assert recall.recall == pytest.approx(0.6)
    assert recall.lower == pytest.approx(60 / 150)
    assert recall.upper == pytest.approx(60 / 80)


def test_binomial_intervals() -> None:
    low, high = wilson_interval(0, 100)
    assert low == pytest.approx(0.0, abs=1e-12) and 0.03 < high < 0.05
    low, high = clopper_pearson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 100))
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_ipw_precision_reweights_under_reviewed_strata() -> None:
    # stratum A: fully reviewed, 10% misuse; stratum B: 10% reviewed, 50% misuse among reviewed
    alerted = np.ones(110, dtype=bool)
    label = np.r_[np.r_[np.ones(10), np.zeros(90)], np.r_[np.ones(5), np.zeros(5)]]
    propensity = np.r_[np.ones(100), np.full(10, 0.1)]
    metrics = ipw_precision_recall(alerted, label, propensity)
    assert metrics.naive_precision == pytest.approx(15 / 110)
    assert metrics.ipw_precision == pytest.approx((10 + 50) / (100 + 100))
    unknown = ipw_precision_recall([True, False], [np.nan, 1.0], [1.0, 1.0])
    assert unknown.labelled_alerts == 0 and unknown.naive_recall == 0.0


def test_below_the_line_helpers() -> None:
    frame = pd.DataFrame(
        {"amount": [440_000, 460_000, 490_000, 499_999, 500_000, 520_000], "y": [0, 1, 1, 1, 0, 0]}
    )
    mask = below_the_line(frame["amount"], 500_000, band=0.1)
    assert mask.tolist() == [False, True, True, True, False, False]
    sample = below_the_line_sample(frame, "amount", 500_000, band=0.1, n=2, seed=1)
    assert len(sample) == 2 and sample["propensity"].iloc[0] == pytest.approx(2 / 3)
    table = line_comparison(frame, "amount", 500_000, "y", band=0.1)
    assert table.loc["below", "rate"] == 1.0
    assert table.loc["above", "rate"] == 0.0


def test_below_the_line_samples_for_each_rule() -> None:
    frame = pd.DataFrame({"amount": np.arange(400_000, 1_100_000, 10_000, dtype=float)})
    picks = below_the_line_samples(frame, {"split_payment": 500_000, "large_single_payment": 1_000_000}, n=3)
    assert sorted(picks["rule_id"].unique()) == ["large_single_payment", "split_payment"]
    assert (picks.groupby("rule_id").size() == 3).all()
    assert (picks["amount"] < picks["line"]).all() and (picks["amount"] >= 0.9 * picks["line"]).all()


# --- reviewer error -------------------------------------------------------------------------------


def _decided(stratum: str, misuse: int, clean: int, true_confirmed: int, false_confirmed: int) -> list[dict]:
    """Reviewed rows of one stratum with exactly the given decisions (amount 10,000 KRW each)."""
    rows = []
    for i in range(misuse):
        hit = int(i < true_confirmed)
        rows.append({"stratum": stratum, "is_misuse": hit, "misuse_amount": 10_000.0 * hit})
    for i in range(clean):
        hit = int(i < false_confirmed)
        rows.append({"stratum": stratum, "is_misuse": hit, "misuse_amount": 10_000.0 * hit})
    return rows


# A constructed company. Non-alerted: stratum a (100,000 transactions, 0.5 % misuse) and b (20,000,
# 2 %), 900 misses in truth; the random sample (2,000 and 1,000 reviews) is decided with sensitivity
# 0.9 and specificity 0.97, the expected counts exactly. Alerted: reasons r1 (10,000 alerts, 5 %
# misuse, 1,000 reviewed) and r2 (2,000 alerts, 30 %, 1,000 reviewed), 1,100 detected in truth,
# decided by a queue with sensitivity 0.85 and specificity 0.92. True recall 1,100 / 2,000 = 55 %.
SAMPLE_ACCURACY = ReviewerAccuracy(sensitivity=0.9, specificity=0.97)
QUEUE_ACCURACY = ReviewerAccuracy(sensitivity=0.85, specificity=0.92)
NON_ALERTED = {"a": 100_000, "b": 20_000}
ALERTS = {"r1": 10_000, "r2": 2_000}
MEANS = {"a": 10_000.0, "b": 10_000.0}
TRUE_MISSES, TRUE_DETECTED = 900, 1_100


def _sample_side() -> pd.DataFrame:
    # a: 10 misuse -> 9 confirmed, 1,990 clean -> 60 confirmed; b: 20 -> 18, 980 -> 29
    return pd.DataFrame(_decided("a", 10, 1_990, 9, 60) + _decided("b", 20, 980, 18, 29))


def _alert_side() -> pd.DataFrame:
    # r1: 50 misuse -> 42 confirmed, 950 clean -> 76; r2: 300 -> 255, 700 -> 56
    return pd.DataFrame(_decided("r1", 50, 950, 42, 76) + _decided("r2", 300, 700, 255, 56))


def test_rogan_gladen_inverts_the_apparent_rate() -> None:
    se, sp = 0.9, 0.97
    for p in (0.0, 0.005, 0.02, 0.3, 1.0):
        apparent = se * p + (1 - sp) * (1 - p)
        assert rogan_gladen(apparent, se, sp) == pytest.approx(p)
    assert rogan_gladen(0.01, se, sp) == 0.0  # fewer confirmations than false ones alone: clipped
    assert rogan_gladen(0.95, se, sp) == 1.0
    assert rogan_gladen(0.2, 1.0, 1.0) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        ReviewerAccuracy(0.5, 0.5)
    with pytest.raises(ValueError):
        ReviewerAccuracy(1.2, 0.9)
    assert ReviewerAccuracy.from_mapping(None).is_perfect
    assert ReviewerAccuracy.from_mapping({"specificity": 0.99}).false_positive_rate == pytest.approx(0.01)


def test_correction_recovers_known_misses_the_raw_estimate_misses() -> None:
    raw = estimate_misses(_sample_side(), NON_ALERTED, population_mean_amount=MEANS)
    fixed = estimate_misses(
        _sample_side(), NON_ALERTED, population_mean_amount=MEANS, accuracy=SAMPLE_ACCURACY
    )
    # false confirmations make the raw estimate five times the truth, far outside its interval
    assert raw.count == pytest.approx(69 / 2_000 * 100_000 + 47 / 1_000 * 20_000)
    assert not raw.count_lower <= TRUE_MISSES <= raw.count_upper
    assert fixed.count_lower <= TRUE_MISSES <= fixed.count_upper
    assert fixed.count == pytest.approx(TRUE_MISSES, rel=0.05)
    # the interval is the map of the raw interval's endpoints
    assert fixed.rate_lower == pytest.approx(rogan_gladen(raw.rate_lower, 0.9, 0.97))
    assert fixed.rate_upper == pytest.approx(rogan_gladen(raw.rate_upper, 0.9, 0.97))
    assert fixed.apparent is not None and fixed.apparent.count == raw.count
    assert fixed.accuracy == SAMPLE_ACCURACY and fixed.consistent
    # amounts: every transaction is 10,000 KRW, so the corrected amount is the corrected count's
    assert fixed.amount == pytest.approx(fixed.count * 10_000.0)
    assert fixed.amount_lower <= TRUE_MISSES * 10_000.0 <= fixed.amount_upper
    # perfect accuracy is no correction
    assert correct_for_reviewer_error(raw, ReviewerAccuracy()) is raw


def test_correction_recovers_known_precision_among_alerts() -> None:
    raw = estimate_detected(_alert_side(), ALERTS)
    fixed = estimate_detected(_alert_side(), ALERTS, accuracy=QUEUE_ACCURACY)
    assert raw.count == pytest.approx(118 * 10 + 311 * 2)
    assert not raw.count_lower <= TRUE_DETECTED <= raw.count_upper
    assert fixed.count_lower <= TRUE_DETECTED <= fixed.count_upper
    assert fixed.count == pytest.approx(TRUE_DETECTED, rel=0.02)
    true_precision = TRUE_DETECTED / sum(ALERTS.values())
    assert fixed.rate_lower <= true_precision <= fixed.rate_upper
    assert not raw.rate_lower <= true_precision <= raw.rate_upper


def test_corrected_recall_covers_the_truth_and_the_raw_one_does_not() -> None:
    true_recall = TRUE_DETECTED / (TRUE_DETECTED + TRUE_MISSES)
    raw = estimate_recall(
        estimate_detected(_alert_side(), ALERTS), estimate_misses(_sample_side(), NON_ALERTED)
    )
    detected = estimate_detected(_alert_side(), ALERTS, accuracy=QUEUE_ACCURACY)
    misses = estimate_misses(_sample_side(), NON_ALERTED, accuracy=SAMPLE_ACCURACY)
    fixed = estimate_recall(detected, misses)
    assert raw.upper < true_recall
    assert fixed.lower <= true_recall <= fixed.upper
    assert fixed.recall == pytest.approx(true_recall, abs=0.02)
    # the detected interval widens the recall interval beyond the misses' alone
    point = estimate_recall(detected.count, misses)
    assert fixed.lower <= point.lower and fixed.upper >= point.upper
    assert fixed.detected_lower == pytest.approx(detected.count_lower)


def test_amount_correction_is_exact_on_a_census() -> None:
    # 1,000 transactions of 10,000 KRW, 100 misuse; decided with Se 0.9 (90) and Sp 0.95 (45 false)
    sample = pd.DataFrame(_decided("a", 100, 900, 90, 45))
    fixed = estimate_misses(
        sample, {"a": 1_000}, population_mean_amount={"a": 10_000.0}, accuracy=ReviewerAccuracy(0.9, 0.95)
    )
    assert fixed.count == pytest.approx(100.0)
    assert fixed.count_lower == pytest.approx(100.0) and fixed.count_upper == pytest.approx(100.0)
    assert fixed.amount == pytest.approx(1_000_000.0)
    recall = amount_recall((3_000_000.0, 3_000_000.0, 3_000_000.0), fixed)
    assert recall.recall == pytest.approx(0.75)


def test_a_sample_below_the_false_confirmation_rate_flags_the_assumption() -> None:
    # 1 confirmation in 1,000 while the assumed specificity predicts 50 false ones alone
    sample = pd.DataFrame(_decided("a", 0, 1_000, 0, 1))
    fixed = estimate_misses(sample, {"a": 100_000}, accuracy=ReviewerAccuracy(0.9, 0.95))
    assert not fixed.consistent
    assert fixed.count == 0.0 and fixed.count_upper == 0.0


def test_corrected_intervals_cover_the_truth_in_repeated_samples() -> None:
    """Random reviewer errors at the assumed rates: the corrected interval covers the true misses and
    recall in at least 90 % of repetitions; the uncorrected one almost never does."""
    rng = np.random.default_rng(17)
    sizes, rates = {"low": 60_000, "high": 15_000}, {"low": 0.006, "high": 0.03}
    population = {k: rng.random(n) < rates[k] for k, n in sizes.items()}
    true_misses = sum(int(v.sum()) for v in population.values())
    alerts = {"r1": 8_000, "r2": 2_000}
    alert_truth = {"r1": rng.random(8_000) < 0.05, "r2": rng.random(2_000) < 0.3}
    true_detected = sum(int(v.sum()) for v in alert_truth.values())
    true_recall = true_detected / (true_detected + true_misses)
    sample_acc, queue_acc = ReviewerAccuracy(0.92, 0.99), ReviewerAccuracy(0.85, 0.92)

    def decide(truth: np.ndarray, accuracy: ReviewerAccuracy) -> np.ndarray:
        u = rng.random(len(truth))
        return np.where(truth, u < accuracy.sensitivity, u < accuracy.false_positive_rate).astype(int)

    def draw(pop: dict[str, np.ndarray], n: int, accuracy: ReviewerAccuracy) -> pd.DataFrame:
        parts = []
        for stratum, values in pop.items():
            picked = rng.choice(values, size=n, replace=False)
            found = decide(picked, accuracy)
            parts.append(pd.DataFrame({"stratum": stratum, "is_misuse": found, "misuse_amount": found * 1.0}))
        return pd.concat(parts, ignore_index=True)

    repetitions, covered, covered_raw, covered_recall = 150, 0, 0, 0
    for _ in range(repetitions):
        sample = draw(population, 1_000, sample_acc)
        misses = estimate_misses(sample, sizes, accuracy=sample_acc)
        covered += misses.count_lower <= true_misses <= misses.count_upper
        raw = misses.apparent
        covered_raw += raw.count_lower <= true_misses <= raw.count_upper
        detected = estimate_detected(draw(alert_truth, 800, queue_acc), alerts, accuracy=queue_acc)
        recall = estimate_recall(detected, misses)
        covered_recall += recall.lower <= true_recall <= recall.upper
    assert covered / repetitions >= 0.9
    assert covered_recall / repetitions >= 0.9
    assert covered_raw / repetitions <= 0.2


def test_ratio_interval_reduces_to_the_endpoint_map_for_a_known_denominator() -> None:
    low, high = ratio_interval((40.0, 20.0, 90.0), (60.0, 60.0, 60.0))
    assert low == pytest.approx(20 / 60) and high == pytest.approx(90 / 60)
    low, high = ratio_interval((40.0, 20.0, 90.0), (60.0, 50.0, 72.0))
    assert low < 20 / 60 and high > 90 / 60
    # a denominator interval reaching zero leaves the upper end open
    assert ratio_interval((40.0, 20.0, 90.0), (60.0, 0.0, 130.0))[1] == float("inf")
