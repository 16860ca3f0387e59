"""Population stability index (PSI) between a reference sample and a recent one."""

from __future__ import annotations

import numpy as np
import pandas as pd


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10, floor: float = 1e-4) -> float:
    """PSI = Σ (c - r) · ln(c / r) over quantile bins of the reference.

    Parameters
    ----------
    reference, current : array-like
        Values of one feature; missing values form their own bin.
    bins : int
        Quantile bins of the reference (ties collapse bins).
    floor : float
        Smallest share per bin, so empty bins do not give infinity.

    Notes
    -----
    Common reading: below 0.1 stable, 0.1 to 0.25 moderate shift, above 0.25 a major shift.
    """
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    finite = ref[np.isfinite(ref)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))) if len(finite) else np.array([0.0])
    edges = edges[1:-1]

    def shares(values: np.ndarray) -> np.ndarray:
        missing = ~np.isfinite(values)
        index = np.searchsorted(edges, values[~missing], side="right")
        counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
        counts = np.append(counts, missing.sum())
        return np.maximum(counts / len(values), floor)

    r, c = shares(ref), shares(cur)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_by_day(
    reference: pd.DataFrame, recent: pd.DataFrame, features: list[str], day_column: str = "transacted_date"
) -> pd.DataFrame:
    """PSI of each feature for each day of ``recent`` against ``reference``: columns day, feature, psi, rows."""
    rows = []
    for day, group in recent.groupby(day_column):
        for feature in features:
            if feature in group and feature in reference:
                rows.append(
                    {
                        "day": pd.Timestamp(day).date(),
                        "feature": feature,
                        "psi": psi(reference[feature].astype(float), group[feature].astype(float)),
                        "rows": len(group),
                    }
                )
    return pd.DataFrame(rows, columns=["day", "feature", "psi", "rows"])
