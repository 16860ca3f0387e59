"""The Fraud Detection Handbook's features, vectorised, plus a richer set.

Rolling windows are computed per entity with one sort and binary searches, so 1.2M rows take
seconds. A window of ``w`` days at a transaction at time ``t`` covers ``(t - w, t]`` and includes
the transaction itself, as pandas' time-based rolling does in the handbook's code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HANDBOOK_FEATURES: list[str] = [
    "TX_AMOUNT",
    "TX_DURING_WEEKEND",
    "TX_DURING_NIGHT",
    "CUSTOMER_ID_NB_TX_1DAY_WINDOW",
    "CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_7DAY_WINDOW",
    "CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_30DAY_WINDOW",
    "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW",
    "TERMINAL_ID_NB_TX_1DAY_WINDOW",
    "TERMINAL_ID_RISK_1DAY_WINDOW",
    "TERMINAL_ID_NB_TX_7DAY_WINDOW",
    "TERMINAL_ID_RISK_7DAY_WINDOW",
    "TERMINAL_ID_NB_TX_30DAY_WINDOW",
    "TERMINAL_ID_RISK_30DAY_WINDOW",
]

RICH_FEATURES: list[str] = [
    *HANDBOOK_FEATURES,
    "TX_HOUR",
    "AMOUNT_TO_AVG_7DAY",
    "AMOUNT_TO_AVG_30DAY",
    "AMOUNT_TO_BASELINE",
    "AMOUNT_Z_BASELINE",
    "CUSTOMER_ID_NB_HIGH_14DAY_WINDOW",
    "CUSTOMER_ID_MAX_AMOUNT_1DAY_WINDOW_TO_BASELINE",
    "TERMINAL_ID_RISK_60DAY_WINDOW",
    "TERMINAL_ID_NB_FRAUD_30DAY_WINDOW",
    "TERMINAL_ID_NB_TX_DELAY_WINDOW",
]

_DAY = 86_400
_SPAN = 10**9  # seconds per entity block, far beyond any window


def _keys(entity: np.ndarray, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by (entity, time, row) and the int64 key used for the binary searches."""
    codes = pd.factorize(entity, sort=True)[0].astype(np.int64)
    order = np.lexsort((np.arange(len(seconds)), seconds, codes))
    key = codes[order] * _SPAN + seconds[order]
    return order, key


def _window_bounds(key: np.ndarray, older: int, newer: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ranges ``[left, right)`` of each row's window ``(t - older, t - newer]`` (seconds).

    With ``newer == 0`` the window ends at the row itself, excluding later rows at the same second.
    """
    left = np.searchsorted(key, key - older, side="right")
    right = np.arange(1, len(key) + 1) if newer == 0 else np.searchsorted(key, key - newer, side="right")
    return left, np.maximum(right, left)


def _sum(prefix: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return prefix[right] - prefix[left]


def _prefix(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])


def _unsort(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _divide(numerator: np.ndarray, denominator: np.ndarray, empty: float = 0.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), empty)


def add_features(
    frame: pd.DataFrame,
    delay_days: int = 7,
    windows: tuple[int, ...] = (1, 7, 30),
    rich: bool = True,
) -> pd.DataFrame:
    """Return ``frame`` with the handbook's 15 features (and the richer ones when ``rich``).

    Terminal risk uses labels only from transactions at least ``delay_days`` old, as the
    handbook does, so a feature never reads a label that would not be known yet.
    """
    out = frame.copy()
    when = pd.to_datetime(out["TX_DATETIME"])
    seconds = ((when - when.min()).dt.total_seconds()).to_numpy().astype(np.int64)
    amount = out["TX_AMOUNT"].to_numpy(dtype=float)
    fraud = out["TX_FRAUD"].to_numpy(dtype=float)
    out["TX_DURING_WEEKEND"] = (when.dt.weekday >= 5).astype(int)
    out["TX_DURING_NIGHT"] = (when.dt.hour <= 6).astype(int)

    order, key = _keys(out["CUSTOMER_ID"].to_numpy(), seconds)
    amt, amt_sq = amount[order], amount[order] ** 2
    p_amt, p_one, p_sq = _prefix(amt), _prefix(np.ones(len(amt))), _prefix(amt_sq)
    for w in windows:
        left, right = _window_bounds(key, w * _DAY, 0)
        count = _sum(p_one, left, right)
        out[f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = _unsort(order, count)
        out[f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = _unsort(
            order, _divide(_sum(p_amt, left, right), count)
        )

    if rich:
        # Baseline: the card's spending 14 to 44 days back, before any recent compromise began.
        left, right = _window_bounds(key, 44 * _DAY, 14 * _DAY)
        n_base = _sum(p_one, left, right)
        mean_base = _divide(_sum(p_amt, left, right), n_base, np.nan)
        var_base = _divide(_sum(p_sq, left, right), n_base, np.nan) - mean_base**2
        std_base = np.sqrt(np.clip(var_base, 0, None))
        ratio = _divide(amt, mean_base, np.nan)
        out["AMOUNT_TO_BASELINE"] = _unsort(order, ratio)
        z = np.where(n_base >= 3, _divide(amt - mean_base, std_base, np.nan), np.nan)
        out["AMOUNT_Z_BASELINE"] = _unsort(order, np.clip(z, -50, 50))
        high = _prefix(np.nan_to_num(ratio) > 3)
        left, right = _window_bounds(key, 14 * _DAY, 0)
        out["CUSTOMER_ID_NB_HIGH_14DAY_WINDOW"] = _unsort(order, _sum(high, left, right))
        left, right = _window_bounds(key, _DAY, 0)
        day_max = _rolling_max(amt, left)
        out["CUSTOMER_ID_MAX_AMOUNT_1DAY_WINDOW_TO_BASELINE"] = _unsort(
            order, _divide(day_max, mean_base, np.nan)
        )
        out["AMOUNT_TO_AVG_7DAY"] = _divide(amount, out["CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW"].to_numpy())
        out["AMOUNT_TO_AVG_30DAY"] = _divide(amount, out["CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW"].to_numpy())
        out["TX_HOUR"] = when.dt.hour + when.dt.minute / 60

    order, key = _keys(out["TERMINAL_ID"].to_numpy(), seconds)
    p_fraud, p_one = _prefix(fraud[order]), _prefix(np.ones(len(order)))
    terminal_windows = (*windows, 60) if rich else windows
    for w in terminal_windows:
        left, right = _window_bounds(key, (delay_days + w) * _DAY, delay_days * _DAY)
        count = _sum(p_one, left, right)
        frauds = _sum(p_fraud, left, right)
        if w in windows:
            out[f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = _unsort(order, count)
        out[f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = _unsort(order, _divide(frauds, count))
        if rich and w == 30:
            out["TERMINAL_ID_NB_FRAUD_30DAY_WINDOW"] = _unsort(order, frauds)
    if rich:
        left, right = _window_bounds(key, delay_days * _DAY, 0)
        out["TERMINAL_ID_NB_TX_DELAY_WINDOW"] = _unsort(order, _sum(p_one, left, right))
    return out


def _rolling_max(values: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Max of ``values[left[i]:i+1]`` for every ``i`` (windows are short, so a loop over offsets)."""
    out = values.copy()
    width = int((np.arange(len(values)) - left).max(initial=0))
    for offset in range(1, width + 1):
        idx = np.arange(len(values)) - offset
        ok = idx >= left
        out[ok] = np.maximum(out[ok], values[idx[ok]])
    return out
