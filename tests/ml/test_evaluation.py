"""Metric functions against hand-computed answers; prequential splits never leak."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.evaluation import (
    alerts_per_day,
    average_precision,
    card_precision_at_k,
    precision_recall_at_k_per_day,
    prequential_folds,
    prequential_split,
    prequential_window,
    roc_auc,
    top_k_per_day,
)

# two days; day 1: four transactions of cards A, B, C, D; day 2: A again, C, B, E
DAY = [1, 1, 1, 1, 2, 2, 2, 2]
CARD = ["A", "B", "C", "D", "A", "C", "B", "E"]
SCORE = [0.9, 0.8, 0.7, 0.1, 0.95, 0.6, 0.5, 0.4]
LABEL = [1, 0, 1, 1, 1, 1, 0, 0]
AMOUNT = [100.0, 50.0, 30.0, 20.0, 10.0, 40.0, 60.0, 5.0]


def test_roc_auc_and_average_precision() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]) == 0.75
    assert math.isnan(roc_auc([0, 0], [0.1, 0.2]))
    # ranking 1, 0, 1: precision at the two hits is 1 and 2/3
    assert average_precision([1, 0, 1], [0.9, 0.5, 0.1]) == pytest.approx((1 + 2 / 3) / 2)
    assert math.isnan(average_precision([0, 0], [0.3, 0.2]))


def test_top_k_per_day_breaks_ties_by_row_order() -> None:
    mask = top_k_per_day([1, 1, 1, 2], [0.5, 0.5, 0.9, 0.1], k=2)
    assert mask.tolist() == [True, False, True, True]


def test_precision_recall_at_k_per_day() -> None:
    m = precision_recall_at_k_per_day(DAY, SCORE, LABEL, k=2, amount=AMOUNT)
    # day 1 reviews A (fraud, 100) and B (genuine, 50); day 2 reviews A (fraud, 10) and C (fraud, 40)
    assert (m.alerts, m.hits, m.days) == (4, 3, 2)
    assert m.precision == pytest.approx(3 / 4)
    assert m.recall == pytest.approx(3 / 5)
    assert m.amount_precision == pytest.approx(150 / 200)
    assert m.amount_recall == pytest.approx(150 / 200)
    assert m.alerts_per_day == 2.0


def test_amount_at_stake_overrides_amount() -> None:
    stake = [50.0, 0, 0, 0, 0, 0, 0, 0]
    m = precision_recall_at_k_per_day(DAY, SCORE, LABEL, k=1, amount=AMOUNT, amount_at_stake=stake)
    assert m.amount_recall == 1.0
    assert m.amount_precision == pytest.approx(50 / 110)


def test_card_precision_at_k_handbook_definition() -> None:
    kept = card_precision_at_k(DAY, CARD, SCORE, LABEL, k=2, remove_detected=False)
    # day 1: A (0.9, fraud), B (0.8) -> 1/2; day 2: A (0.95, fraud), C (0.6, fraud) -> 2/2
    assert kept.per_day == [0.5, 1.0]
    assert kept.mean == 0.75
    removed = card_precision_at_k(DAY, CARD, SCORE, LABEL, k=2)
    # A was found on day 1, so day 2 ranks C (fraud) and B -> 1/2
    assert removed.per_day == [0.5, 0.5]
    assert removed.mean == 0.5
    assert removed.compromised_per_day == [3, 1]


def test_card_precision_uses_max_score_per_card_and_divides_by_k() -> None:
    result = card_precision_at_k([1, 1, 1], ["A", "A", "B"], [0.1, 0.9, 0.5], [1, 0, 0], k=5)
    # A ranks first on its max score 0.9 and is compromised (one fraud that day); 1 of k=5
    assert result.mean == pytest.approx(0.2)


def test_alerts_per_day() -> None:
    assert alerts_per_day([1, 1, 2, 3], [True, True, False, True]) == pytest.approx(1.0)


def test_prequential_window_never_leaks() -> None:
    rng = np.random.default_rng(0)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60 * 86400, 5000), unit="s")
    train, test = prequential_split(ts, "2024-01-10", train_days=14, delay_days=7, test_days=7)
    assert train.any() and test.any()
    assert not (train & test).any()
    window = prequential_window("2024-01-10", 14, 7, 7)
    assert ts[train].max() < window.train_end
    assert ts[test].min() >= window.train_end + pd.Timedelta(days=7)
    assert ts[test].min() - ts[train].max() > pd.Timedelta(days=7)
    assert window.delay == pd.Timedelta(days=7)


def test_prequential_folds_tile_the_calendar_in_order() -> None:
    folds = prequential_folds("2018-07-11", n_folds=4)
    assert [f.test_start for f in folds] == list(pd.date_range("2018-07-04", periods=4, freq="7D"))
    for fold in folds:
        assert fold.test_start - fold.train_end == pd.Timedelta(days=7)
        assert fold.train_end - fold.train_start == pd.Timedelta(days=7)
    with pytest.raises(ValueError):
        prequential_window("2018-07-11", train_days=0)
