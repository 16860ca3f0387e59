"""Threshold curves: daily alert volume, precision, recall and net value (DOMAIN.md, sections 3.2-3.3).

A row alerts when ``score >= threshold``. Volume counts every row; precision, recall and the
recovered amount come from labelled rows only, each weighted by ``1 / propensity`` of review so a
sample stands for the rows like it (no weights = every labelled row counts once). Unlabelled rows
are never taken as clean.

Monotone by construction: alerts per day (mean and any quantile of the daily counts) and recall
never increase with the threshold. Precision and net value need not be monotone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def candidate_thresholds(score: Any, max_points: int = 200) -> np.ndarray:
    """Up to ``max_points`` thresholds: the distinct scores, thinned by quantiles when many."""
    values = np.unique(np.asarray(score, dtype=float)[np.isfinite(np.asarray(score, dtype=float))])
    if len(values) <= max_points:
        return values
    return np.unique(np.quantile(values, np.linspace(0, 1, max_points)))


def threshold_curve(
    score: Any,
    day: Any,
    label: Any,
    amount: Any | None = None,
    weight: Any | None = None,
    review_cost: float = 30000.0,
    recoverable_share: float = 1.0,
    thresholds: Any | None = None,
    daily_quantile: float = 0.9,
) -> pd.DataFrame:
    """Volume, precision, recall and net value at each threshold.

    Parameters
    ----------
    score : array-like of shape (n,)
        Higher = more suspicious.
    day : array-like of shape (n,)
        Review day of each row; days without any alert count as zero.
    label : array-like of shape (n,)
        1 misuse, 0 clean, NaN unknown.
    amount : array-like, optional
        Misuse amount recoverable when confirmed (KRW); default 0 (net value is then - cost).
    weight : array-like, optional
        Inverse-propensity weight of each labelled row; default 1.
    review_cost : float
        Cost of one review (KRW).
    recoverable_share : float
        Share of a confirmed amount actually recovered.
    thresholds : array-like, optional
        Default: `candidate_thresholds`.
    daily_quantile : float
        Quantile of the daily alert counts reported as ``alerts_per_day_q`` (busy days).

    Returns
    -------
    DataFrame, one row per threshold (ascending): threshold, alerts, alerts_per_day,
    alerts_per_day_q, expected_hits, precision, recall, recovered_amount, review_cost, net_value.
    ``expected_hits`` and ``recovered_amount`` extrapolate the labelled rows' weighted precision
    and amount per alert to every alert.
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(label, dtype=float)
    known = ~np.isnan(y)
    w = np.ones(len(s)) if weight is None else np.nan_to_num(np.asarray(weight, dtype=float))
    w = np.where(known, w, 0.0)
    ya = np.where(known, y, 0.0)
    amt = np.zeros(len(s)) if amount is None else np.abs(np.nan_to_num(np.asarray(amount, dtype=float)))
    days, day_index = np.unique(pd.Series(np.asarray(day)).astype(str).to_numpy(), return_inverse=True)
    grid = candidate_thresholds(s) if thresholds is None else np.sort(np.asarray(thresholds, dtype=float))
    total_positive = float((w * ya).sum())
    rows = []
    for t in grid:
        alerted = s >= t
        per_day = np.bincount(day_index[alerted], minlength=len(days))
        labelled_weight = float(w[alerted].sum())
        hit_weight = float((w * ya)[alerted].sum())
        precision = hit_weight / labelled_weight if labelled_weight > 0 else float("nan")
        value_per_alert = (
            float((w * ya * amt)[alerted].sum()) / labelled_weight if labelled_weight > 0 else 0.0
        )
        n_alerts = int(alerted.sum())
        recovered = value_per_alert * n_alerts * recoverable_share
        cost = review_cost * n_alerts
        rows.append(
            {
                "threshold": float(t),
                "alerts": n_alerts,
                "alerts_per_day": float(per_day.mean()) if len(days) else float("nan"),
                "alerts_per_day_q": float(np.quantile(per_day, daily_quantile))
                if len(days)
                else float("nan"),
                "expected_hits": precision * n_alerts if np.isfinite(precision) else 0.0,
                "precision": precision,
                "recall": hit_weight / total_positive if total_positive > 0 else float("nan"),
                "recovered_amount": recovered,
                "review_cost": cost,
                "net_value": recovered - cost,
            }
        )
    return pd.DataFrame(rows)


def capacity_optimal(curve: pd.DataFrame, capacity: float, statistic: str = "alerts_per_day") -> pd.Series:
    """Best threshold whose daily volume (``statistic``) fits within ``capacity``.

    Among the thresholds that fit, the one with the highest recall (most misuse reached) is taken,
    ties to the higher precision and then the higher threshold. Maximising precision alone would
    pick a threshold that alerts almost nothing and leaves capacity idle; filling the capacity
    with the best-ranked rows gives precision@k at that budget.

    Raises
    ------
    ValueError
        When no threshold fits.
    """
    fits = curve[curve[statistic] <= capacity]
    if fits.empty:
        raise ValueError(f"no threshold keeps {statistic} within {capacity}")
    ranked = fits.assign(
        _recall=fits["recall"].fillna(-1.0), _precision=fits["precision"].fillna(-1.0)
    ).sort_values(["_recall", "_precision", "threshold"], ascending=[False, False, False], kind="stable")
    return ranked.iloc[0].drop(["_recall", "_precision"])


def cost_optimal(
    curve: pd.DataFrame, capacity: float | None = None, statistic: str = "alerts_per_day"
) -> pd.Series:
    """Threshold with the highest net value (recovered - review cost), within capacity if given."""
    fits = curve if capacity is None else curve[curve[statistic] <= capacity]
    if fits.empty:
        raise ValueError(f"no threshold keeps {statistic} within {capacity}")
    ranked = fits.sort_values(["net_value", "threshold"], ascending=[False, False], kind="stable")
    return ranked.iloc[0]
