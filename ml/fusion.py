"""The hybrid score: rules, anomaly scores and labels in one number in [0, 1] with reasons.

Two modes, chosen at fit time by `select_mode`:

``cold_start``
    Fewer than ``min_positive_labels`` matured positive labels (or fewer than
    ``min_negative_labels`` negatives). The score is a weighted mean of percentile ranks, each
    against the reference rows (a seeded sample of the transactions known at the fit, see
    ``max_reference_rows`` in ``ml/config/system.yml``): the rules' rank (highest unsuppressed
    severity, hit count breaking ties; no hit ranks 0) and the mean rank of the unsupervised
    detectors' scores. It orders the grey zone but is not a probability.
``stacked``
    Enough labels. Rule flags, hit counts, the highest severity and the anomaly scores are
    features of the supervised model (stacking, as in XGBOD); the score is its calibrated
    probability. A rule whose hits have fewer than ``min_rule_labels`` matured labels (or a
    rule added since the fit) is still in cold start: the trees cannot have learned what its
    hits mean, so a row it hits scores at least the share of confirmed misuse among the
    reviewed hits of the row's highest severity (the *rule floor*, shrunk towards the share
    over all reviewed hits by ``rule_prior_strength``). Without it a new rule's hits rank by
    everything but the rule until reviews of them mature, and they never get reviewed.

The switch is one-way per fit: the mode is re-chosen each time the model is retrained on the
labels matured by then, so a deployment moves to ``stacked`` at the first retraining past the
threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ml.explain import Reason, feature_phrases, load_parameters, model_reason
from ml.labels import TrainingSet, isin
from ml.supervised import SupervisedModel, as_frame, default_params

COLD_START = "cold_start"
STACKED = "stacked"
NON_FEATURE_COLUMNS = (
    "transaction_id",
    "employee_id",
    "card_id",
    "transacted_at",
    "transacted_date",
    "merchant_key",
    "rule_ids_hit",
)


def fusion_params(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """`HybridModel` arguments from ``ml/config/fusion.yml``."""
    return load_parameters("fusion", overrides=overrides)


def select_mode(n_positive: int, n_negative: int, min_positive_labels: int, min_negative_labels: int) -> str:
    """``stacked`` when both label counts reach their thresholds, else ``cold_start``."""
    if n_positive >= min_positive_labels and n_negative >= min_negative_labels:
        return STACKED
    return COLD_START


def feature_columns(frame: pd.DataFrame, exclude: tuple[str, ...] = NON_FEATURE_COLUMNS) -> list[str]:
    """Columns of a features frame that are model inputs (identifiers and timestamps left out)."""
    return [
        c for c in frame.columns if c not in exclude and not pd.api.types.is_datetime64_any_dtype(frame[c])
    ]


def stacking_features(
    features: pd.DataFrame,
    rule_hits: pd.DataFrame | None = None,
    anomaly_scores: pd.DataFrame | Mapping[str, Any] | None = None,
    rule_ids: list[str] | None = None,
    rule_flag_prefix: str = "rule__",
    anomaly_prefix: str = "anomaly__",
) -> pd.DataFrame:
    """Add rule flags, counts, severity and anomaly scores to the transaction features.

    Suppressed hits (``is_suppressed``) and hits that may not alert (``is_alert_candidate``
    false, e.g. draft or shadow rules) do not count, so a suppression lowers the score as well
    as the alert; their number is kept as ``suppressed_hit_count``.

    Parameters
    ----------
    features : DataFrame
        One row per transaction with ``transaction_id`` (the features mart).
    rule_hits : DataFrame, optional
        ``fct_rule_hits`` rows: transaction_id, rule_id, severity, optionally is_suppressed,
        is_alert_candidate. When given, ``rule_hit_count`` and ``rule_max_severity`` are
        recomputed from the counted hits.
    anomaly_scores : DataFrame or mapping, optional
        Detector scores: a frame with ``transaction_id`` and one column per detector, or a
        mapping detector name -> scores aligned with ``features``.
    rule_ids : list of str, optional
        Rules that get a flag column; default every rule in ``rule_hits``. Pass the training
        list when scoring so the columns match.

    Returns
    -------
    DataFrame, same rows and order as ``features``.
    """
    out = features.copy()
    ids = out["transaction_id"]
    if rule_hits is not None:
        hits = rule_hits
        counted = np.ones(len(hits), dtype=bool)
        if "is_alert_candidate" in hits:
            counted &= hits["is_alert_candidate"].fillna(False).astype(bool).to_numpy()
        if "is_suppressed" in hits:
            counted &= ~hits["is_suppressed"].fillna(False).astype(bool).to_numpy()
        active = hits[counted]
        suppressed = hits[~counted].groupby("transaction_id").size()
        out["rule_hit_count"] = (
            ids.map(active.groupby("transaction_id").size()).fillna(0).astype(int).to_numpy()
        )
        severity = pd.to_numeric(active["severity"], errors="coerce")
        out["rule_max_severity"] = (
            ids.map(severity.groupby(active["transaction_id"]).max()).fillna(0).astype(int).to_numpy()
        )
        out["suppressed_hit_count"] = ids.map(suppressed).fillna(0).astype(int).to_numpy()
        flagged = active.groupby("rule_id")["transaction_id"].agg(set)
        for rule_id in sorted(rule_ids if rule_ids is not None else hits["rule_id"].dropna().unique()):
            members = flagged.get(rule_id, set())
            out[f"{rule_flag_prefix}{rule_id}"] = isin(ids, members).astype(int)
    if anomaly_scores is not None:
        if isinstance(anomaly_scores, pd.DataFrame):
            scores = anomaly_scores.set_index("transaction_id")
            for column in scores.columns:
                out[f"{anomaly_prefix}{column}"] = ids.map(scores[column]).astype(float).to_numpy()
        else:
            for name, values in anomaly_scores.items():
                array = np.asarray(values, dtype=float)
                if len(array) != len(out):
                    raise ValueError(f"anomaly scores {name!r} have {len(array)} rows, features {len(out)}")
                out[f"{anomaly_prefix}{name}"] = array
    return out


def _rank_against(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of reference values strictly below each value (0 for the minimum, NaN -> 0)."""
    if len(reference) == 0:
        return np.zeros(len(values))
    clean = np.where(np.isfinite(values), values, -np.inf)
    return np.searchsorted(reference, clean, side="left") / len(reference)


class HybridModel(BaseEstimator):
    """One score in [0, 1] from rules, anomaly scores and (when there are enough) labels.

    Parameters
    ----------
    min_positive_labels, min_negative_labels : int
        Switch-over thresholds (see `select_mode`).
    rule_weight, anomaly_weight : float
        Weights of the rules' and the detectors' percentile ranks in cold start.
    severity_column, count_column : str
        Features with the highest unsuppressed severity and the unsuppressed hit count.
    anomaly_prefix : str
        Prefix of the detector score columns.
    rule_flag_prefix : str
        Prefix of the per-rule hit flags.
    min_rule_labels : int
        Matured labels on a rule's hits below which the rule floor applies to them (stacked).
    rule_prior_strength : float
        Pseudo-count shrinking each severity's reviewed-hit precision towards the precision of
        all reviewed hits.
    supervised_params : dict, optional
        `SupervisedModel` arguments; default ``ml/config/supervised.yml``.
    top_n : int, default=3
        Reasons per row.

    Attributes
    ----------
    mode_ : str
        ``cold_start`` or ``stacked``.
    n_positive_labels_, n_negative_labels_ : int
        Labels seen at fit.
    anomaly_columns_ : list of str
    rule_reference_ : ndarray
        Sorted rule signal (severity + count / (count + 1)) of the reference rows.
    anomaly_reference_ : dict of str to ndarray
        Sorted scores of each detector on the reference rows.
    supervised_ : SupervisedModel or None
        The stacked model (``stacked`` mode only).
    rule_label_counts_ : dict of str to int
        Matured labels on each rule flag's hits (``stacked`` mode; empty in cold start).
    unlearned_rule_columns_ : list of str
        Rule flags under ``min_rule_labels`` (``stacked`` mode).
    severity_precision_ : dict of int to float
        The rule floor per highest severity; key -1 holds the share over every reviewed hit,
        used for a severity not seen among them.
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    """

    def __init__(
        self,
        min_positive_labels: int = 50,
        min_negative_labels: int = 50,
        rule_weight: float = 0.6,
        anomaly_weight: float = 0.4,
        severity_column: str = "rule_max_severity",
        count_column: str = "rule_hit_count",
        anomaly_prefix: str = "anomaly__",
        rule_flag_prefix: str = "rule__",
        min_rule_labels: int = 20,
        rule_prior_strength: float = 20.0,
        supervised_params: dict[str, Any] | None = None,
        top_n: int = 3,
    ) -> None:
        self.min_positive_labels = min_positive_labels
        self.min_negative_labels = min_negative_labels
        self.rule_weight = rule_weight
        self.anomaly_weight = anomaly_weight
        self.severity_column = severity_column
        self.count_column = count_column
        self.anomaly_prefix = anomaly_prefix
        self.rule_flag_prefix = rule_flag_prefix
        self.min_rule_labels = min_rule_labels
        self.rule_prior_strength = rule_prior_strength
        self.supervised_params = supervised_params
        self.top_n = top_n

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, reference: Any = None) -> HybridModel:
        """Fit the cold-start references and, with enough labels, the stacked model.

        Parameters
        ----------
        X : DataFrame
            Stacking features (see `stacking_features` and `feature_columns`), in time order.
        y : array-like, optional
            1, 0 or NaN (unlabelled). Only labelled rows train the supervised model.
        sample_weight : array-like, optional
            Inverse-propensity weights (used on the labelled rows).
        reference : array-like of bool, optional
            Rows the cold-start percentile ranks are measured against (default every row). They
            should represent every transaction known, labelled or not (e.g. a uniform sample):
            labelled rows alone are mostly alerted ones, whose rule signal is high.
        """
        frame = as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.anomaly_columns_ = [c for c in frame.columns if str(c).startswith(self.anomaly_prefix)]
        basis = frame if reference is None else frame.loc[np.asarray(reference, dtype=bool)]
        self.rule_reference_ = np.sort(self._rule_signal(basis))
        self.anomaly_reference_ = {
            c: np.sort(basis[c].to_numpy(dtype=float)[np.isfinite(basis[c].to_numpy(dtype=float))])
            for c in self.anomaly_columns_
        }
        target = (
            np.full(len(frame), np.nan)
            if y is None
            else pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce").to_numpy(dtype=float)
        )
        labeled = ~np.isnan(target)
        self.n_positive_labels_ = int((target[labeled] == 1).sum())
        self.n_negative_labels_ = int((target[labeled] == 0).sum())
        self.mode_ = select_mode(
            self.n_positive_labels_,
            self.n_negative_labels_,
            self.min_positive_labels,
            self.min_negative_labels,
        )
        self.supervised_ = None
        self.rule_label_counts_: dict[str, int] = {}
        self.unlearned_rule_columns_: list[str] = []
        self.severity_precision_: dict[int, float] = {}
        if self.mode_ == STACKED:
            weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)[labeled]
            params = self.supervised_params if self.supervised_params is not None else default_params()
            self.supervised_ = SupervisedModel(**params).fit(
                frame.loc[labeled], target[labeled].astype(int), sample_weight=weight
            )
            self._fit_rule_floor(frame.loc[labeled], target[labeled])
        return self

    def _fit_rule_floor(self, labeled: pd.DataFrame, target: np.ndarray) -> None:
        """Label counts per rule flag and the reviewed-hit precision per highest severity."""
        flags = self._flag_columns(labeled)
        hits = labeled[flags].to_numpy(dtype=float) > 0 if flags else np.zeros((len(labeled), 0), bool)
        counts = hits.sum(axis=0)
        self.rule_label_counts_ = {c: int(n) for c, n in zip(flags, counts, strict=True)}
        self.unlearned_rule_columns_ = [
            c for c, n in self.rule_label_counts_.items() if n < self.min_rule_labels
        ]
        severity = self._severity(labeled)
        hit = severity > 0
        if not hit.any():
            return
        base = float(target[hit].mean())
        strength = float(self.rule_prior_strength)
        self.severity_precision_ = {-1: base}
        for level in np.unique(severity[hit]):
            at = severity == level
            rate = (float(target[at].sum()) + strength * base) / (float(at.sum()) + strength)
            self.severity_precision_[int(level)] = rate

    def _flag_columns(self, frame: pd.DataFrame) -> list[str]:
        return [str(c) for c in frame.columns if str(c).startswith(self.rule_flag_prefix)]

    def _severity(self, frame: pd.DataFrame) -> np.ndarray:
        if self.severity_column not in frame:
            return np.zeros(len(frame))
        return pd.to_numeric(frame[self.severity_column], errors="coerce").fillna(0).to_numpy(dtype=float)

    def rule_floor(self, X: Any) -> np.ndarray:
        """The least score of each row (stacked mode): its rule floor when it hits a rule the
        trees have not learned (under ``min_rule_labels`` matured labels, or no flag at the
        fit), else 0."""
        check_is_fitted(self, "mode_")
        frame = as_frame(X)
        precision = getattr(self, "severity_precision_", {})
        if self.mode_ != STACKED or not precision:
            return np.zeros(len(frame))
        unlearned = np.zeros(len(frame), dtype=bool)
        for column in self.unlearned_rule_columns_:
            if column in frame:
                unlearned |= frame[column].to_numpy(dtype=float) > 0
        if self.count_column in frame:
            flags = [c for c in self.rule_label_counts_ if c in frame]
            flagged = frame[flags].to_numpy(dtype=float).sum(axis=1) if flags else np.zeros(len(frame))
            counted = pd.to_numeric(frame[self.count_column], errors="coerce").fillna(0).to_numpy(dtype=float)
            unlearned |= counted > flagged  # hits of a rule with no flag: added since the fit
        severity = np.clip(self._severity(frame).astype(int), 0, None)
        lookup = np.full(max(int(severity.max(initial=0)), *precision) + 1, precision[-1])
        for level, rate in precision.items():
            if level >= 0:
                lookup[level] = rate
        return np.where(unlearned & (severity > 0), lookup[severity], 0.0)

    def _rule_signal(self, frame: pd.DataFrame) -> np.ndarray:
        n = len(frame)
        severity = (
            pd.to_numeric(frame[self.severity_column], errors="coerce").fillna(0).to_numpy(dtype=float)
            if self.severity_column in frame
            else np.zeros(n)
        )
        count = (
            pd.to_numeric(frame[self.count_column], errors="coerce").fillna(0).to_numpy(dtype=float)
            if self.count_column in frame
            else np.zeros(n)
        )
        return severity + count / (count + 1.0)

    def _components(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        rule_rank = _rank_against(self.rule_reference_, self._rule_signal(frame))
        if not self.anomaly_columns_:
            return rule_rank, None
        ranks = [
            _rank_against(self.anomaly_reference_[c], frame[c].to_numpy(dtype=float))
            for c in self.anomaly_columns_
        ]
        return rule_rank, np.mean(ranks, axis=0)

    def _weights(self) -> tuple[float, float]:
        rule_w = float(self.rule_weight)
        anomaly_w = float(self.anomaly_weight) if self.anomaly_columns_ else 0.0
        total = rule_w + anomaly_w
        if total <= 0:
            raise ValueError("rule_weight and anomaly_weight must not both be zero")
        return rule_w / total, anomaly_w / total

    def score(self, X: Any) -> np.ndarray:
        """Score in [0, 1] per row, higher = review first."""
        check_is_fitted(self, "mode_")
        frame = as_frame(X)
        if self.mode_ == STACKED:
            return np.maximum(self.supervised_.predict_proba(frame)[:, 1], self.rule_floor(frame))
        rule_rank, anomaly_rank = self._components(frame)
        rule_w, anomaly_w = self._weights()
        score = rule_w * rule_rank
        if anomaly_rank is not None:
            score = score + anomaly_w * anomaly_rank
        return np.clip(score, 0.0, 1.0)

    def tiebreak(self, X: Any) -> np.ndarray:
        """A secondary ordering for equal scores (the trees' log-odds, or the rule signal)."""
        frame = as_frame(X)
        if self.mode_ == STACKED:
            return self.supervised_.decision_function(frame)
        return self._rule_signal(frame)

    def explain(self, X: Any, top_n: int | None = None) -> list[list[Reason]]:
        """Reasons per row: model contributions (stacked) or the fused ranks (cold start)."""
        check_is_fitted(self, "mode_")
        frame = as_frame(X)
        n = self.top_n if top_n is None else top_n
        if self.mode_ == STACKED:
            reasons = self.supervised_.explain(frame, top_n=n)
            floor = self.rule_floor(frame)
            raised = np.flatnonzero(floor > 0)
            if len(raised):
                phrases = feature_phrases()
                model = self.supervised_.predict_proba(frame.iloc[raised])[:, 1]
                for i, p in zip(raised, model, strict=True):
                    if floor[i] > p:
                        reason = model_reason("unlearned_rule_floor", float(floor[i]), floor[i] - p, phrases)
                        reasons[i] = [_with_source(reason, "rule"), *reasons[i]][:n]
            return reasons
        phrases = feature_phrases()
        rule_rank, anomaly_rank = self._components(frame)
        rule_w, anomaly_w = self._weights()
        severity = (
            pd.to_numeric(frame[self.severity_column], errors="coerce").fillna(0).to_numpy()
            if self.severity_column in frame
            else np.zeros(len(frame))
        )
        out: list[list[Reason]] = []
        for i in range(len(frame)):
            parts: list[Reason] = []
            if rule_rank[i] > 0:
                reason = model_reason(self.severity_column, int(severity[i]), rule_w * rule_rank[i], phrases)
                parts.append(_with_source(reason, "rule"))
            if anomaly_rank is not None and anomaly_rank[i] > 0:
                reason = model_reason(
                    "anomaly_rank", float(anomaly_rank[i]), anomaly_w * anomaly_rank[i], phrases
                )
                parts.append(_with_source(reason, "anomaly"))
            parts.sort(key=lambda r: -r.contribution)
            out.append(parts[:n])
        return out

    def score_frame(self, X: Any, ids: Any = None, explain: bool = True) -> pd.DataFrame:
        """Score, tie-break, mode and reasons per row, ready for `ml.policy.decide_alerts`.

        Parameters
        ----------
        X : DataFrame
            Stacking features.
        ids : array-like, optional
            Transaction ids (a ``transaction_id`` column is added when given).
        explain : bool, default True
            Compute the reasons; when False every row gets an empty list.
        """
        check_is_fitted(self, "mode_")
        frame = as_frame(X)
        out = pd.DataFrame(index=frame.index)
        if ids is not None:
            text = isinstance(ids, pd.Series) and isinstance(ids.dtype, pd.StringDtype)
            out["transaction_id"] = ids.array if text else np.asarray(ids)  # strings stay in Arrow
        if self.mode_ == STACKED:
            # the trees predict once: the log-odds are the tie-break, calibrated they are the score
            margin = self.supervised_.decision_function(frame)
            out["score"] = np.maximum(self.supervised_.calibrate(margin), self.rule_floor(frame))
            out["probability"] = out["score"]
            out["tiebreak"] = margin
        else:
            out["score"] = self.score(frame)
            out["probability"] = np.nan
            out["tiebreak"] = self._rule_signal(frame)
        out["score_mode"] = self.mode_
        out["reasons"] = self.explain(frame) if explain else [[] for _ in range(len(frame))]
        return out


def _with_source(reason: Reason, source: str) -> Reason:
    return Reason(source, reason.key, reason.value, reason.contribution, reason.text_en, reason.text_ko)


def make_hybrid(
    overrides: dict[str, Any] | None = None, supervised: dict[str, Any] | None = None
) -> HybridModel:
    """A `HybridModel` with ``ml/config/fusion.yml`` and ``ml/config/supervised.yml`` parameters."""
    params = fusion_params(overrides)
    return HybridModel(**params, supervised_params=default_params(supervised))


@dataclass
class TrainedHybrid:
    """A fitted `HybridModel` with what the registry records about its training.

    Attributes
    ----------
    model : HybridModel
    feature_names : list of str
    train_ids : list
        Transactions known at the cut-off (the labelled ones train the trees; a sample of all
        of them is the cold-start reference), hashed into the registry's data fingerprint.
    training_window : (Timestamp, Timestamp)
    summary : dict
        Label counts, mode and cut-off.
    """

    model: HybridModel
    feature_names: list[str]
    train_ids: list[Any]
    training_window: tuple[pd.Timestamp, pd.Timestamp]
    summary: dict[str, Any]


def train_hybrid(
    stacked: pd.DataFrame,
    training: TrainingSet,
    fusion_overrides: dict[str, Any] | None = None,
    supervised_overrides: dict[str, Any] | None = None,
    reference_ids: Any = None,
) -> TrainedHybrid:
    """Fit the hybrid on the transactions known at the training set's cut-off.

    Parameters
    ----------
    stacked : DataFrame
        `stacking_features` output with ``transaction_id`` and ``transacted_at``: every known
        transaction, or (as `ml.system.train_system` passes) every labelled one plus the
        reference rows. Rows missing from ``training`` are left out.
    training : TrainingSet
        Labels and IPW weights at the cut-off (`ml.labels.build_training_set`), over every
        transaction known (its propensities need them all).
    fusion_overrides, supervised_overrides : dict, optional
        Overrides of ``ml/config/fusion.yml`` and ``ml/config/supervised.yml``.
    reference_ids : array-like, optional
        Transactions of ``stacked`` the cold-start ranks are measured against (default every
        row of ``stacked``).
    """
    known = training.frame[["transaction_id", "label", "ipw_weight"]]
    rows = stacked.merge(known, on="transaction_id", how="inner", validate="one_to_one")
    rows = rows.sort_values(["transacted_at", "transaction_id"], kind="stable").reset_index(drop=True)
    features = feature_columns(stacked)
    reference = None if reference_ids is None else isin(rows["transaction_id"], reference_ids)
    model = make_hybrid(fusion_overrides, supervised_overrides)
    model.fit(
        rows[features],
        rows["label"].to_numpy(dtype=float),
        rows["ipw_weight"].to_numpy(dtype=float),
        reference=reference,
    )
    times = pd.to_datetime(training.frame["transacted_at"])
    window = (pd.Timestamp(times.min()), pd.Timestamp(times.max()))
    summary = {
        **training.summary(),
        "mode": model.mode_,
        "n_positive_labels": model.n_positive_labels_,
        "n_negative_labels": model.n_negative_labels_,
        "n_rows": len(rows),
        "n_reference_rows": len(rows) if reference is None else int(reference.sum()),
    }
    return TrainedHybrid(model, features, training.frame["transaction_id"].tolist(), window, summary)
