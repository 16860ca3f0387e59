"""Stratified missed-misuse estimates, recall, IPW metrics and below-the-line helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.analysis.estimators import (
    below_the_line,
    below_the_line_sample,
    below_the_line_samples,
    clopper_pearson_interval,
    estimate_misses,
    estimate_recall,
    ipw_precision_recall,
    line_comparison,
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
