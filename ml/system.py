"""The whole detection system as one fitted object: detectors, the hybrid model and its inputs.

`train_system` fits everything on what is known at a cut-off (features of earlier transactions,
outcomes matured by then); `DetectionSystem.score` turns features and rule hits of any later
transactions into one ranked, explained score. The registry stores the fitted object whole, so
scoring always uses exactly what the champion was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.detectors import AnomalyDetector
from ml.explain import load_parameters
from ml.fusion import NON_FEATURE_COLUMNS, TrainedHybrid, stacking_features, train_hybrid
from ml.labels import build_training_set

CATEGORY_PREFIX = "category__"


def model_inputs(features: pd.DataFrame, categories: list[str] | None = None) -> pd.DataFrame:
    """Numeric model inputs from the features mart: booleans as 0/1, the category group one-hot.

    Parameters
    ----------
    features : DataFrame
        Rows of ``features.fct_transaction_features``.
    categories : list of str, optional
        Category groups seen in training (scoring passes them so the columns match).
    """
    out = features.copy()
    if "category_group" in out:
        groups = out.pop("category_group").fillna("unknown").astype(str)
        for group in categories if categories is not None else sorted(groups.unique()):
            out[f"{CATEGORY_PREFIX}{group}"] = (groups == group).astype(int).to_numpy()
    for column in out.columns:
        if column in NON_FEATURE_COLUMNS:
            continue
        if pd.api.types.is_bool_dtype(out[column]) or out[column].dtype == object:
            out[column] = pd.to_numeric(out[column].astype("boolean").astype("Int64"), errors="coerce")
    return out


def detector_columns(frame: pd.DataFrame) -> list[str]:
    """Columns the unsupervised detectors see: numeric features, no identifiers or rule outputs."""
    skip = set(NON_FEATURE_COLUMNS) | {"rule_hit_count", "legacy_rule_hit_count", "rule_max_severity"}
    return [
        c
        for c in frame.columns
        if c not in skip and not c.startswith(CATEGORY_PREFIX) and pd.api.types.is_numeric_dtype(frame[c])
    ]


@dataclass
class DetectionSystem:
    """Fitted detectors and hybrid model, with the columns and rules they were trained on."""

    detectors: dict[str, AnomalyDetector]
    detector_features: list[str]
    hybrid: TrainedHybrid
    rule_ids: list[str]
    categories: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def stack(self, features: pd.DataFrame, rule_hits: pd.DataFrame | None) -> pd.DataFrame:
        inputs = model_inputs(features, self.categories)
        scores = {
            name: detector.decision_function(inputs[self.detector_features])
            for name, detector in self.detectors.items()
        }
        return stacking_features(inputs, rule_hits, scores, rule_ids=self.rule_ids)

    def score(
        self, features: pd.DataFrame, rule_hits: pd.DataFrame | None, *, explain: bool = True
    ) -> pd.DataFrame:
        """One row per transaction: score, probability, component scores, mode and reasons.

        ``explain=False`` leaves ``reasons`` empty (evaluations need the ranking only, and the
        per-row contributions cost more than the scores).
        """
        stacked = self.stack(features, rule_hits)
        for column in self.hybrid.feature_names:
            if column not in stacked:
                stacked[column] = 0
        scored = self.hybrid.model.score_frame(
            stacked[self.hybrid.feature_names], ids=stacked["transaction_id"], explain=explain
        )
        anomaly = [c for c in stacked.columns if c.startswith("anomaly__")]
        ranks = (
            stacked[anomaly].rank(pct=True).mean(axis=1)
            if anomaly
            else pd.Series(np.nan, index=stacked.index)
        )
        scored["score_unsupervised"] = ranks.to_numpy()
        scored["score_rules"] = stacked.get("rule_max_severity", pd.Series(0, index=stacked.index)).to_numpy()
        for column in ("employee_id", "card_id", "transacted_at", "transacted_date", "amount"):
            if column in features:
                scored[column] = features[column].to_numpy()
        return scored.reset_index(drop=True)


def train_system(
    features: pd.DataFrame,
    rule_hits: pd.DataFrame,
    outcomes: pd.DataFrame,
    alerts: pd.DataFrame | None,
    cutoff: Any,
    *,
    detectors: list[str] | None = None,
    max_detector_rows: int | None = None,
    random_state: int = 0,
    label_delay_days: float | None = None,
) -> DetectionSystem:
    """Fit detectors and the hybrid on transactions before ``cutoff`` and outcomes matured by then.

    Parameters
    ----------
    features : DataFrame
        Features-mart rows; only those with ``transacted_at < cutoff`` are used.
    rule_hits, outcomes, alerts : DataFrame
        ``fct_rule_hits``, case outcomes and every alert raised (reviewed or not).
    cutoff : datetime-like
    detectors : list of str, optional
        Detector names (default ``ml/config/system.yml``).
    max_detector_rows : int, optional
        Fit detectors on a seeded sample of at most this many rows (their cost grows with rows).
    label_delay_days : float, optional
        Days a decision must be old at the cut-off to count as a label (default
        ``ml/config/labels.yml``); a backtest passes its own.
    """
    params = load_parameters("system")
    names = detectors or list(params["detectors"])
    limit = int(max_detector_rows or params["max_detector_rows"])
    cutoff = pd.Timestamp(cutoff)
    known = features[pd.to_datetime(features["transacted_at"]) < cutoff].reset_index(drop=True)
    if known.empty:
        raise ValueError(f"no transactions before the cut-off {cutoff}")
    categories = sorted(
        known.get("category_group", pd.Series(dtype=str)).fillna("unknown").astype(str).unique()
    )
    inputs = model_inputs(known, categories)
    columns = detector_columns(inputs)
    sample = inputs if len(inputs) <= limit else inputs.sample(limit, random_state=random_state)
    fitted = {
        name: AnomalyDetector(detector=name, random_state=random_state).fit(sample[columns]) for name in names
    }
    known_hits = rule_hits[rule_hits["transaction_id"].isin(known["transaction_id"])]
    rule_ids = sorted(known_hits["rule_id"].dropna().unique())
    system = DetectionSystem(fitted, columns, None, rule_ids, categories)  # type: ignore[arg-type]
    stacked = system.stack(known, known_hits)
    training = build_training_set(
        known[["transaction_id", "transacted_at"]],
        outcomes,
        cutoff,
        alerts,
        label_delay_days=label_delay_days,
    )
    system.hybrid = train_hybrid(stacked, training)
    system.summary = {**system.hybrid.summary, "detectors": names, "detector_rows": len(sample)}
    return system
