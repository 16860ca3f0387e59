"""The whole detection system as one fitted object: detectors, the hybrid model and its inputs.

`train_system` fits everything on what is known at a cut-off (features of earlier transactions,
outcomes matured by then); `DetectionSystem.score` turns features and rule hits of any later
transactions into one ranked, explained score. The registry stores the fitted object whole, so
scoring always uses exactly what the champion was trained with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.detectors import AnomalyDetector
from ml.explain import Reason, load_parameters
from ml.fusion import NON_FEATURE_COLUMNS, TrainedHybrid, stacking_features, train_hybrid
from ml.labels import TrainingSet, build_training_set, isin

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
    """Columns the unsupervised detectors see: numeric features, no identifiers, rule outputs or
    features computed from review outcomes (``outcome_features`` in ``ml/config/system.yml``)."""
    skip = set(NON_FEATURE_COLUMNS) | {"rule_hit_count", "legacy_rule_hit_count", "rule_max_severity"}
    skip |= set(load_parameters("system")["outcome_features"])
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
        """Model inputs of ``features`` with the rule flags and the detectors' scores (row for row)."""
        inputs = model_inputs(features, self.categories)
        columns = inputs[self.detector_features]
        scores = {name: detector.decision_function(columns) for name, detector in self.detectors.items()}
        return stacking_features(inputs, rule_hits, scores, rule_ids=self.rule_ids)

    def score(
        self,
        features: pd.DataFrame,
        rule_hits: pd.DataFrame | None,
        *,
        explain: bool = True,
        stacked: pd.DataFrame | None = None,
        chunk_rows: int | None = None,
    ) -> pd.DataFrame:
        """One row per transaction: score, probability, component scores, mode and reasons.

        ``explain=False`` leaves ``reasons`` empty (evaluations need the ranking only, and the
        per-row contributions cost more than the scores). ``stacked`` is `stack`'s output for
        ``features`` (row for row) when the caller has it already, e.g. to explain some of the
        rows it scored: they keep the detector scores they were ranked with and the detectors do
        not run again.

        The rows are scored ``chunk_rows`` at a time (default ``score_chunk_rows`` in
        ``ml/config/system.yml``), so the stacking features, detector scores and the trees'
        input exist for one chunk at a time; see `score_batches`. The result does not depend on
        the chunk size.
        """
        if stacked is not None and len(stacked) != len(features):
            raise ValueError(f"stacked has {len(stacked)} rows, features {len(features)}")
        size = score_chunk_rows(chunk_rows)

        def batches() -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]]:
            for start in range(0, max(len(features), 1), size):
                rows = features.iloc[start : start + size]
                if stacked is not None:
                    yield rows, None, stacked.iloc[start : start + size]
                elif len(rows) == len(features):
                    yield rows, rule_hits, None  # one chunk: every hit may belong to it
                else:
                    yield rows, _hits_of(rule_hits, rows), None

        return self.score_batches(batches(), explain=explain)

    def score_batches(
        self,
        batches: Iterable[tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]],
        *,
        explain: bool = False,
    ) -> pd.DataFrame:
        """`score` of the concatenated batches, holding one batch's intermediate frames at a time.

        Parameters
        ----------
        batches : iterable of (features, rule_hits, stacked)
            Consecutive row blocks, e.g. read from the warehouse a chunk at a time: the features
            rows, the rule hits of those rows (others are ignored) and, optionally, `stack`'s
            output for them (then ``rule_hits`` is not used).
        explain : bool, default False

        Notes
        -----
        Every column but one is computed row by row: the detectors score each row against their
        training sample alone (Isolation Forest; `TailScorer` for ECOD / COPOD), the hybrid ranks
        it against its reference rows or runs the trees on it, so a row's score, probability,
        tie-break, rule score and reasons do not depend on the rows scored with it.
        ``score_unsupervised`` is the exception: the mean percentile rank of the detectors' scores
        *among the rows of this call*. It is computed once all batches are scored, from their
        anomaly scores (kept for every row, one float per detector), so it equals the one-batch
        value too.
        """
        parts: list[pd.DataFrame] = []
        anomaly_parts: list[pd.DataFrame] = []
        for features, rule_hits, stacked in batches:
            if stacked is None:
                stacked = self.stack(features, rule_hits)
            elif len(stacked) != len(features):
                raise ValueError(f"stacked has {len(stacked)} rows, features {len(features)}")
            scored = self.hybrid.model.score_frame(
                stacked.reindex(columns=self.hybrid.feature_names, fill_value=0),
                ids=stacked["transaction_id"],
                explain=explain,
            )
            anomaly = [c for c in stacked.columns if c.startswith("anomaly__")]
            anomaly_parts.append(stacked[anomaly].reset_index(drop=True))
            scored["score_unsupervised"] = np.nan  # set below, over every batch
            scored["score_rules"] = stacked.get(
                "rule_max_severity", pd.Series(0, index=stacked.index)
            ).to_numpy()
            for column in ("employee_id", "card_id", "transacted_at", "transacted_date", "amount"):
                if column in features:
                    values = features[column]
                    # Arrow-backed strings are passed on as they are, not as Python objects
                    text = isinstance(values.dtype, pd.StringDtype)
                    scored[column] = values.array if text else values.to_numpy()
            parts.append(scored.reset_index(drop=True))
            del stacked
        if not parts:
            raise ValueError("nothing to score: no batches")
        scored = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        anomaly = pd.concat(anomaly_parts, ignore_index=True) if len(anomaly_parts) > 1 else anomaly_parts[0]
        scored["score_unsupervised"] = (
            anomaly.rank(pct=True).mean(axis=1).to_numpy() if anomaly.shape[1] else np.nan
        )
        return scored

    def explain(self, stacked: pd.DataFrame) -> list[list[Reason]]:
        """The model reasons of rows already stacked (`stack`), e.g. the day's alerts.

        The same reasons ``score(..., stacked=stacked)["reasons"]`` gives, without scoring the
        rows again.
        """
        return self.hybrid.model.explain(stacked.reindex(columns=self.hybrid.feature_names, fill_value=0))


def score_chunk_rows(chunk_rows: int | None = None) -> int:
    """Rows scored together: ``chunk_rows`` or ``score_chunk_rows`` of ``ml/config/system.yml``."""
    size = int(chunk_rows if chunk_rows is not None else load_parameters("system")["score_chunk_rows"])
    if size < 1:
        raise ValueError(f"a scoring chunk needs at least one row, got {size}")
    return size


def _hits_of(rule_hits: pd.DataFrame | None, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The rule hits of ``rows`` (stacking ignores any other, so a chunk needs only its own)."""
    if rule_hits is None or rule_hits.empty:
        return rule_hits
    return rule_hits[isin(rule_hits["transaction_id"], rows["transaction_id"])]


INDEX_COLUMNS = ("transaction_id", "transacted_at", "category_group")


@dataclass
class TrainingPlan:
    """Which known transactions a retraining at ``cutoff`` reads whole, decided from their ids.

    Attributes
    ----------
    cutoff : Timestamp
    training : TrainingSet
        Labels, strata and IPW weights of every transaction known at the cut-off.
    categories : list of str
        Category groups of the known transactions (the one-hot columns).
    detector_ids : Series
        The detectors' fit sample, in the order drawn.
    reference_ids : Series
        The cold-start reference sample (every known transaction equally likely).
    stacked_ids : Series
        What the detectors score and the hybrid is fitted on: every labelled transaction and the
        reference sample, in time order.
    detectors : list of str
    random_state : int
    """

    cutoff: pd.Timestamp
    training: TrainingSet
    categories: list[str]
    detector_ids: pd.Series
    reference_ids: pd.Series
    stacked_ids: pd.Series
    detectors: list[str]
    random_state: int

    def feature_ids(self) -> pd.Series:
        """Transactions whose whole feature rows the fit needs (the rest only count for weights)."""
        return pd.concat([self.stacked_ids, self.detector_ids], ignore_index=True).drop_duplicates()


def plan_training(
    known: pd.DataFrame,
    outcomes: pd.DataFrame,
    alerts: pd.DataFrame | None,
    cutoff: Any,
    *,
    detectors: list[str] | None = None,
    max_detector_rows: int | None = None,
    max_reference_rows: int | None = None,
    random_state: int = 0,
    label_delay_days: float | None = None,
) -> TrainingPlan:
    """Labels of every transaction before ``cutoff`` and the samples a retraining reads whole.

    Parameters
    ----------
    known : DataFrame
        At least ``transaction_id`` and ``transacted_at`` (``category_group`` when present) of
        the features-mart rows, in the mart's order (time, then id); rows at or after ``cutoff``
        are dropped. The samples are drawn by position, so the same rows give the same samples.
    outcomes, alerts, cutoff, detectors, max_detector_rows, max_reference_rows, random_state, label_delay_days
        See `train_system`.
    """
    params = load_parameters("system")
    names = detectors or list(params["detectors"])
    detector_limit = int(max_detector_rows or params["max_detector_rows"])
    reference_limit = int(max_reference_rows or params["max_reference_rows"])
    cutoff = pd.Timestamp(cutoff)
    before = (pd.to_datetime(known["transacted_at"]) < cutoff).to_numpy()
    index = known.loc[before, [c for c in INDEX_COLUMNS if c in known]].reset_index(drop=True)
    if index.empty:
        raise ValueError(f"no transactions before the cut-off {cutoff}")
    categories = sorted(
        index.get("category_group", pd.Series(dtype=str)).fillna("unknown").astype(str).unique()
    )
    training = build_training_set(
        index[["transaction_id", "transacted_at"]],
        outcomes,
        cutoff,
        alerts,
        label_delay_days=label_delay_days,
    )
    labeled = training.frame.loc[training.frame["is_labeled"], "transaction_id"]
    reference = _seeded_sample(index, reference_limit, random_state)["transaction_id"]
    used = isin(index["transaction_id"], labeled) | isin(index["transaction_id"], reference)
    return TrainingPlan(
        cutoff=cutoff,
        training=training,
        categories=categories,
        detector_ids=_seeded_sample(index, detector_limit, random_state)["transaction_id"],
        reference_ids=reference,
        stacked_ids=index.loc[used, "transaction_id"],
        detectors=names,
        random_state=random_state,
    )


def fit_system(
    plan: TrainingPlan,
    features: pd.DataFrame,
    rule_hits: pd.DataFrame,
    supervised_overrides: dict[str, Any] | None = None,
) -> DetectionSystem:
    """Fit the detectors on the plan's sample and the hybrid on its labelled and reference rows.

    Parameters
    ----------
    plan : TrainingPlan
    features : DataFrame
        Features-mart rows including at least ``plan.feature_ids()`` (others are ignored).
    rule_hits : DataFrame
        ``fct_rule_hits`` of the transactions known at the cut-off: every rule that hit one gets
        a flag column.
    supervised_overrides : dict, optional
        Overrides of ``ml/config/supervised.yml`` for the hybrid's trees.
    """
    rows = features.set_index("transaction_id", drop=False)
    missing = ~isin(plan.feature_ids(), rows.index)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} transactions of the training plan have no feature rows")
    sample = model_inputs(rows.loc[plan.detector_ids].reset_index(drop=True), plan.categories)
    columns = detector_columns(sample)
    fitted = {
        name: AnomalyDetector(detector=name, random_state=plan.random_state).fit(sample[columns])
        for name in plan.detectors
    }
    known_hits = rule_hits[isin(rule_hits["transaction_id"], plan.training.frame["transaction_id"])]
    rule_ids = sorted(known_hits["rule_id"].dropna().unique())
    used = rows.loc[plan.stacked_ids].reset_index(drop=True)
    system = DetectionSystem(fitted, columns, None, rule_ids, plan.categories)  # type: ignore[arg-type]
    stacked = system.stack(used, known_hits[isin(known_hits["transaction_id"], plan.stacked_ids)])
    system.hybrid = train_hybrid(
        stacked, plan.training, supervised_overrides=supervised_overrides, reference_ids=plan.reference_ids
    )
    system.summary = {
        **system.hybrid.summary,
        "detectors": plan.detectors,
        "detector_rows": len(sample),
        "reference_rows": len(plan.reference_ids),
        "stacked_rows": len(stacked),
    }
    return system


def train_system(
    features: pd.DataFrame,
    rule_hits: pd.DataFrame,
    outcomes: pd.DataFrame,
    alerts: pd.DataFrame | None,
    cutoff: Any,
    *,
    detectors: list[str] | None = None,
    max_detector_rows: int | None = None,
    max_reference_rows: int | None = None,
    random_state: int = 0,
    label_delay_days: float | None = None,
    supervised_overrides: dict[str, Any] | None = None,
) -> DetectionSystem:
    """Fit detectors and the hybrid on transactions before ``cutoff`` and outcomes matured by then.

    The detectors score (stack) only the rows the hybrid uses: every transaction with a matured
    label (all of them train the supervised model) and a seeded sample of all known ones, the
    cold-start reference. Unlabelled rows teach the supervised model nothing, so leaving the
    others out bounds a retraining's cost as history grows without changing what it learns from
    labels; the review propensities (IPW weights) still count every known transaction.
    `plan_training` and `fit_system` are the two halves, for callers that read only the rows the
    plan needs.

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
    max_reference_rows : int, optional
        Cold-start ranks are measured against a seeded sample of at most this many known rows
        (default ``ml/config/system.yml``).
    random_state : int
        Seed of the samples and the stochastic detectors.
    label_delay_days : float, optional
        Days a decision must be old at the cut-off to count as a label (default
        ``ml/config/labels.yml``); a backtest passes its own.
    supervised_overrides : dict, optional
        Overrides of ``ml/config/supervised.yml`` for the hybrid's trees (e.g. their seed).
    """
    plan = plan_training(
        features,
        outcomes,
        alerts,
        cutoff,
        detectors=detectors,
        max_detector_rows=max_detector_rows,
        max_reference_rows=max_reference_rows,
        random_state=random_state,
        label_delay_days=label_delay_days,
    )
    return fit_system(plan, features, rule_hits, supervised_overrides)


def _seeded_sample(frame: pd.DataFrame, limit: int, random_state: int) -> pd.DataFrame:
    """At most ``limit`` rows of ``frame``, drawn uniformly with a fixed seed (all when fewer)."""
    if limit < 1:
        raise ValueError(f"a sample needs at least one row, got a limit of {limit}")
    return frame if len(frame) <= limit else frame.sample(limit, random_state=random_state)
