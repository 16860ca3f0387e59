"""Threshold curves: monotone where they must be, capacity and cost optima."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.analysis.thresholds import capacity_optimal, cost_optimal, threshold_curve


@pytest.fixture
def scored() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 3_000
    y = (rng.random(n) < 0.05).astype(float)
    score = rng.normal(size=n) + 2.0 * y
    label = np.where(rng.random(n) < 0.4, y, np.nan)  # 40% labelled
    return pd.DataFrame(
        {
            "score": score,
            "day": rng.integers(0, 30, n),
            "label": label,
            "amount": rng.uniform(10_000, 500_000, n),
            "weight": np.where(np.isnan(label), np.nan, 1 / 0.4),
        }
    )


def test_curve_is_monotone(scored: pd.DataFrame) -> None:
    curve = threshold_curve(
        scored["score"],
        scored["day"],
        scored["label"],
        scored["amount"],
        scored["weight"],
        review_cost=30_000,
    )
    assert curve["threshold"].is_monotonic_increasing
    assert curve["alerts_per_day"].is_monotonic_decreasing
    assert curve["alerts_per_day_q"].is_monotonic_decreasing
    assert curve["recall"].dropna().is_monotonic_decreasing
    assert curve["alerts"].iloc[0] == len(scored)
    assert curve["recall"].iloc[0] == pytest.approx(1.0)
    assert (curve["net_value"] == curve["recovered_amount"] - curve["review_cost"]).all()
    # precision improves with a higher threshold on this data
    assert curve["precision"].iloc[len(curve) // 2] > curve["precision"].iloc[0]


def test_capacity_optimal_respects_capacity(scored: pd.DataFrame) -> None:
    curve = threshold_curve(
        scored["score"], scored["day"], scored["label"], scored["amount"], scored["weight"]
    )
    for capacity in (2, 5, 20):
        point = capacity_optimal(curve, capacity)
        assert point["alerts_per_day"] <= capacity
        fits = curve[curve["alerts_per_day"] <= capacity]
        assert point["recall"] == pytest.approx(fits["recall"].max())
    with pytest.raises(ValueError):
        capacity_optimal(curve, -1)


def test_cost_optimal_maximises_net_value(scored: pd.DataFrame) -> None:
    curve = threshold_curve(
        scored["score"], scored["day"], scored["label"], scored["amount"], review_cost=30_000
    )
    point = cost_optimal(curve)
    assert point["net_value"] == curve["net_value"].max()
    bounded = cost_optimal(curve, capacity=3)
    assert bounded["alerts_per_day"] <= 3


def test_unlabelled_rows_count_in_volume_only() -> None:
    curve = threshold_curve([1, 2, 3, 4], [0, 0, 1, 1], [np.nan, 0, np.nan, 1], thresholds=[1, 3])
    first = curve.iloc[0]
    assert first["alerts"] == 4 and first["alerts_per_day"] == 2
    assert first["precision"] == pytest.approx(0.5)
    assert curve.iloc[1]["precision"] == pytest.approx(1.0)
