"""Detection metrics under a daily review budget, and prequential splits.

All functions are pure: arrays in, numbers out. "Day" is any hashable label of a review day
(a date, an integer day number); rows of one day compete for that day's ``k`` review slots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def roc_auc(y_true: Any, score: Any) -> float:
    """ROC-AUC, or NaN when only one class is present."""
    y = np.asarray(y_true).astype(int)
    if y.min(initial=0) == y.max(initial=0):
        return float("nan")
    return float(roc_auc_score(y, np.asarray(score, dtype=float)))


def average_precision(y_true: Any, score: Any) -> float:
    """Average precision (area under the precision-recall curve), NaN without positives."""
    y = np.asarray(y_true).astype(int)
    if y.sum() == 0:
        return float("nan")
    return float(average_precision_score(y, np.asarray(score, dtype=float)))


def _frame(**columns: Any) -> pd.DataFrame:
    frame = pd.DataFrame({name: np.asarray(values) for name, values in columns.items()})
    frame["_order"] = np.arange(len(frame))
    return frame


def top_k_per_day(day: Any, score: Any, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` highest-scoring rows of each day (ties: earlier row first)."""
    if k < 0:
        raise ValueError("k must be non-negative")
    frame = _frame(day=day, score=np.asarray(score, dtype=float))
    frame = frame.sort_values(["day", "score", "_order"], ascending=[True, False, True], kind="stable")
    rank = frame.groupby("day", sort=False).cumcount()
    mask = np.zeros(len(frame), dtype=bool)
    mask[frame["_order"].to_numpy()[rank.to_numpy() < k]] = True
    return mask


@dataclass(frozen=True)
class BudgetMetrics:
    """Outcome of reviewing the top ``k`` rows per day.

    Attributes
    ----------
    k : int
        Review budget per day.
    days : int
        Days in the evaluation.
    alerts : int
        Rows reviewed in total.
    hits : int
        Reviewed rows that are misuse.
    precision : float
        hits / alerts.
    recall : float
        hits / all misuse rows.
    amount_precision : float
        Misuse amount among the alerts / total amount of the alerts.
    amount_recall : float
        Misuse amount among the alerts / all misuse amount.
    alerts_per_day : float
        alerts / days.
    """

    k: int
    days: int
    alerts: int
    hits: int
    precision: float
    recall: float
    amount_precision: float
    amount_recall: float
    alerts_per_day: float


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero (nothing to measure)."""
    return float(numerator / denominator) if denominator else float("nan")


def precision_recall_at_k_per_day(
    day: Any,
    score: Any,
    y_true: Any,
    k: int,
    amount: Any | None = None,
    amount_at_stake: Any | None = None,
) -> BudgetMetrics:
    """Precision and recall, by count and by amount, when reviewers clear ``k`` rows a day.

    Parameters
    ----------
    day, score, y_true : array-like of shape (n,)
        Review day, model score (higher = review first), 1 for misuse.
    k : int
        Rows reviewed per day.
    amount : array-like, optional
        Transaction amount (absolute value is used); defaults to 1 per row.
    amount_at_stake : array-like, optional
        Misuse amount per row; defaults to ``amount`` on misuse rows and 0 elsewhere.
    """
    y = np.asarray(y_true).astype(int)
    amt = np.ones(len(y)) if amount is None else np.abs(np.asarray(amount, dtype=float))
    stake = amt * y if amount_at_stake is None else np.asarray(amount_at_stake, dtype=float)
    alerted = top_k_per_day(day, score, k)
    days = len(pd.unique(np.asarray(day)))
    alerts = int(alerted.sum())
    hits = int(y[alerted].sum())
    return BudgetMetrics(
        k=k,
        days=days,
        alerts=alerts,
        hits=hits,
        precision=ratio(hits, alerts),
        recall=ratio(hits, y.sum()),
        amount_precision=ratio(stake[alerted].sum(), amt[alerted].sum()),
        amount_recall=ratio(stake[alerted].sum(), stake.sum()),
        alerts_per_day=ratio(alerts, days),
    )


def alerts_per_day(day: Any, alerted: Any) -> float:
    """Mean number of alerted rows per day (days without alerts count as zero)."""
    frame = pd.DataFrame({"day": np.asarray(day), "alerted": np.asarray(alerted).astype(bool)})
    per_day = frame.groupby("day")["alerted"].sum()
    return float(per_day.mean()) if len(per_day) else float("nan")


@dataclass(frozen=True)
class CardPrecision:
    """Card (employee) precision@k: mean over days and the per-day values."""

    mean: float
    per_day: list[float]
    compromised_per_day: list[int]


def card_precision_at_k(
    day: Any,
    entity: Any,
    score: Any,
    y_true: Any,
    k: int,
    remove_detected: bool = True,
) -> CardPrecision:
    """The Fraud Detection Handbook's card precision@k.

    Each day, every card (or employee) gets the highest score of its transactions that day and
    is compromised that day when any of them is misuse; the top ``k`` cards are reviewed and the
    day's precision is (compromised among them) / ``k``. With ``remove_detected`` a card found
    on an earlier day leaves the ranking of later days, as in the handbook.

    Parameters
    ----------
    day, entity, score, y_true : array-like of shape (n,)
    k : int
        Cards reviewed per day.
    remove_detected : bool, default=True
    """
    if k <= 0:
        raise ValueError("k must be positive")
    frame = pd.DataFrame(
        {
            "day": np.asarray(day),
            "entity": np.asarray(entity),
            "score": np.asarray(score, dtype=float),
            "y": np.asarray(y_true).astype(int),
        }
    )
    detected: set[Any] = set()
    per_day: list[float] = []
    compromised: list[int] = []
    for _, rows in frame.groupby("day", sort=True):
        rows = rows[~rows["entity"].isin(detected)]
        cards = rows.groupby("entity", sort=True).agg(score=("score", "max"), y=("y", "max"))
        compromised.append(int(cards["y"].sum()))
        top = cards.sort_values("score", ascending=False, kind="stable").head(k)
        found = top.index[top["y"] == 1]
        per_day.append(len(found) / k)
        if remove_detected:
            detected.update(found)
    mean = float(np.mean(per_day)) if per_day else float("nan")
    return CardPrecision(mean=mean, per_day=per_day, compromised_per_day=compromised)


@dataclass(frozen=True)
class PrequentialWindow:
    """One prequential fold: train on ``[train_start, train_end)``, wait out the label delay,
    test on ``[test_start, test_end)``. Labels of training rows are usable only from
    ``train_end + delay``, which is ``test_start``."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @property
    def delay(self) -> pd.Timedelta:
        return self.test_start - self.train_end

    def masks(self, timestamps: Any) -> tuple[np.ndarray, np.ndarray]:
        """Boolean train and test masks for ``timestamps``."""
        ts = pd.to_datetime(pd.Series(np.asarray(timestamps))).to_numpy()
        train = (ts >= self.train_start.to_datetime64()) & (ts < self.train_end.to_datetime64())
        test = (ts >= self.test_start.to_datetime64()) & (ts < self.test_end.to_datetime64())
        return train, test


def prequential_window(
    train_start: Any, train_days: int = 7, delay_days: int = 7, test_days: int = 7
) -> PrequentialWindow:
    """A window starting at ``train_start`` (midnight-aligned by the caller if wanted)."""
    if min(train_days, test_days) <= 0 or delay_days < 0:
        raise ValueError("train and test windows must be positive and the delay non-negative")
    start = pd.Timestamp(train_start)
    train_end = start + pd.Timedelta(days=train_days)
    test_start = train_end + pd.Timedelta(days=delay_days)
    return PrequentialWindow(start, train_end, test_start, test_start + pd.Timedelta(days=test_days))


def prequential_folds(
    last_train_start: Any,
    n_folds: int = 4,
    train_days: int = 7,
    delay_days: int = 7,
    test_days: int = 7,
    step_days: int | None = None,
) -> list[PrequentialWindow]:
    """``n_folds`` windows, the latest starting at ``last_train_start``, each earlier by a step.

    The step defaults to ``test_days`` so the test windows tile the calendar without overlap.
    Returned oldest first.
    """
    step = pd.Timedelta(days=test_days if step_days is None else step_days)
    start = pd.Timestamp(last_train_start)
    folds = [prequential_window(start - i * step, train_days, delay_days, test_days) for i in range(n_folds)]
    return folds[::-1]


def prequential_split(
    timestamps: Any, train_start: Any, train_days: int = 7, delay_days: int = 7, test_days: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test masks for one prequential window (see `prequential_window`)."""
    return prequential_window(train_start, train_days, delay_days, test_days).masks(timestamps)


def summarize(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard deviation, ignoring NaN."""
    array = np.asarray(list(values), dtype=float)
    if not np.isfinite(array).any():
        return float("nan"), float("nan")
    return float(np.nanmean(array)), float(np.nanstd(array))
