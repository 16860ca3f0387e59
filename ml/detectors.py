"""Unsupervised detector zoo behind one interface.

Every detector comes from PyOD and scores so that a higher value means more anomalous.
`AnomalyDetector` wraps one of them with NaN imputation and scaling as a scikit-learn
estimator, and explains each score as a short list of (feature, contribution) pairs.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

logger = logging.getLogger(__name__)

_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DetectorSpec:
    """What the zoo knows about one detector.

    Attributes
    ----------
    name : str
        Registry key.
    label : str
        Display name.
    target : str
        ``module:Class`` of the PyOD implementation.
    family : str
        Detector family (DOMAIN.md, section 4).
    description : str
        One line on what it finds and where it fails.
    explanation : str
        ``tail`` (per-dimension tail scores that sum to the score) or ``median_delta``.
    published_column : str
        Column of PyOD's published benchmark tables.
    stochastic : bool
        Whether the score depends on ``random_state``.
    timing_rows : int
        Rows used to time fit and score; larger sizes are extrapolated.
    time_exponent : float
        Growth of run time with rows, used to extrapolate to 100k rows.
    """

    name: str
    label: str
    target: str
    family: str
    description: str
    explanation: str
    published_column: str
    stochastic: bool = False
    timing_rows: int = 100_000
    time_exponent: float = 1.0


DETECTORS: dict[str, DetectorSpec] = {
    spec.name: spec
    for spec in (
        DetectorSpec(
            "iforest",
            "Isolation Forest",
            "pyod.models.iforest:IForest",
            "isolation",
            "Random axis-parallel splits isolate rare values quickly; strong on global outliers, scales well.",
            "median_delta",
            "IForest",
            stochastic=True,
        ),
        DetectorSpec(
            "ecod",
            "ECOD",
            "pyod.models.ecod:ECOD",
            "empirical CDF",
            "Sum of per-feature empirical tail probabilities; parameter-free, misses odd combinations.",
            "tail",
            "ECOD",
        ),
        DetectorSpec(
            "copod",
            "COPOD",
            "pyod.models.copod:COPOD",
            "empirical CDF (copula)",
            "Empirical copula tail probabilities per feature; parameter-free, like ECOD.",
            "tail",
            "COPOD",
        ),
        DetectorSpec(
            "hbos",
            "HBOS",
            "pyod.models.hbos:HBOS",
            "histogram",
            "Per-feature histogram density, features assumed independent; the fastest.",
            "median_delta",
            "HBOS",
        ),
        DetectorSpec(
            "lof",
            "LOF",
            "pyod.models.lof:LOF",
            "density",
            "Local density against the neighbours' density; finds local outliers, slow and sensitive to k.",
            "median_delta",
            "LOF",
            timing_rows=20_000,
            time_exponent=1.5,
        ),
        DetectorSpec(
            "knn",
            "kNN",
            "pyod.models.knn:KNN",
            "distance",
            "Distance to the k-th nearest neighbour; strong on global outliers, needs scaling.",
            "median_delta",
            "KNN",
            timing_rows=20_000,
            time_exponent=1.5,
        ),
        DetectorSpec(
            "ocsvm",
            "One-Class SVM",
            "pyod.models.ocsvm:OCSVM",
            "boundary",
            "RBF boundary around the bulk of the data; quadratic cost, hard to tune.",
            "median_delta",
            "OCSVM",
            timing_rows=10_000,
            time_exponent=2.0,
        ),
        DetectorSpec(
            "pca",
            "PCA",
            "pyod.models.pca:PCA",
            "reconstruction",
            "Distance from the principal subspace, weighted by eigenvalue; cheap, linear structure only.",
            "median_delta",
            "PCA",
        ),
    )
}


def detector_names() -> list[str]:
    """Registry keys in display order."""
    return list(DETECTORS)


def get_spec(name: str) -> DetectorSpec:
    """Look up a detector, failing with the list of known names."""
    try:
        return DETECTORS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}") from None


def make_detector(name: str, **params: Any) -> Any:
    """Build an unfitted PyOD detector from the registry.

    Parameters the detector does not accept (``random_state`` for a deterministic one, say)
    are dropped with a debug message, so callers can pass one parameter set to every detector.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"iforest"``.
    **params
        Keyword arguments for the PyOD class.
    """
    spec = get_spec(name)
    module_name, class_name = spec.target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    accepted = inspect.signature(cls.__init__).parameters
    kept = {key: value for key, value in params.items() if key in accepted}
    dropped = sorted(set(params) - set(kept))
    if dropped:
        logger.debug("%s ignores parameters %s", name, dropped)
    return cls(**kept)


def _as_float_array(X: Any) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy(dtype=float, na_value=np.nan)
    array = np.asarray(X, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-d array, got shape {array.shape}")
    return np.where(np.isfinite(array), array, np.nan)


def _robust_spread(X: np.ndarray, center: np.ndarray) -> np.ndarray:
    spread = _MAD_TO_SIGMA * np.median(np.abs(X - center), axis=0)
    std = X.std(axis=0)
    spread = np.where(spread > 0, spread, std)
    return np.where(spread > 0, spread, 1.0)


def _floor_pca_weights(detector: Any, X: np.ndarray) -> None:
    """Keep PyOD's PCA finite when features are exactly collinear.

    PyOD divides each distance by the component's explained-variance ratio, which is exactly
    zero for a collinear direction and turns every score into infinity. Flooring the ratio at
    machine epsilon keeps the ranking PyOD intends (that component dominates) in finite numbers.
    """
    weights = np.asarray(detector.selected_w_components_, dtype=float)
    if np.all(weights > 0):
        return
    detector.selected_w_components_ = np.maximum(weights, np.finfo(float).eps)
    detector.decision_scores_ = detector.decision_function(X)
    detector._process_decision_scores()


class TailScorer:
    """ECOD / COPOD tail scores of new rows against the training rows alone.

    PyOD's ECOD and COPOD score new rows by recomputing the empirical CDFs over the training rows
    *plus the whole batch being scored*, so a transaction's score depends on which other rows
    were scored with it (a weekly batch, a single day, a backtest window) and each call re-sorts
    the training data. Here every row is scored as PyOD scores a batch of that one row: its
    left tail is (training values <= x, plus itself) / (n + 1), its right tail likewise, and
    the skewness sign is the training data's. Scores no longer depend on the batch, and scoring
    costs a binary search per value.
    """

    def __init__(self, training: np.ndarray, combine: str) -> None:
        from scipy.stats import skew

        self.sorted_ = np.sort(training, axis=0)
        # a constant training column has no skewness (NaN): both tails count, as for zero skew
        self.skew_sign_ = np.nan_to_num(np.sign(skew(training, axis=0)), nan=0.0)
        self.combine = combine

    def _log_table(self) -> np.ndarray:
        """``-log((k + 1) / (n + 1))`` for every count k in 0..n: a tail's score by its count.

        The same float64 division and logarithm the tails used to take value by value, taken
        once per possible count.
        """
        n = self.sorted_.shape[0]
        return -np.log((np.arange(n + 1, dtype=float) + 1) / (n + 1))

    def _column_tails(self, j: int, values: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Tail scores of feature ``j`` for ``values`` (one per row)."""
        column = self.sorted_[:, j]
        n = column.shape[0]
        u_left = table[np.searchsorted(column, values, side="right")]
        u_right = table[n - np.searchsorted(column, values, side="left")]
        sign = self.skew_sign_[j]
        # pyod's u_skew = u_left * -sign(s - 1) + u_right * sign(s + 1): the left tail for negative
        # skewness, the right one for positive, both summed for none (tails are never negative)
        both = u_left + u_right
        u_skew = u_left if sign < 0 else u_right if sign > 0 else both
        if self.combine == "copod":
            return np.maximum(u_skew, both / 2)
        return np.maximum(np.maximum(u_left, u_right), u_skew)

    def tails(self, X: np.ndarray) -> np.ndarray:
        """Per-row, per-feature tail scores (they sum to the row's score)."""
        table = self._log_table()
        out = np.empty(X.shape, dtype=float)
        for j in range(X.shape[1]):
            out[:, j] = self._column_tails(j, X[:, j], table)
        return out

    def score(self, X: np.ndarray) -> np.ndarray:
        """Sum of the tail scores, feature by feature in column order, whatever the batch.

        Adding column after column fixes the order of the additions for every row, so a row's
        score is bit for bit the same alone, in a chunk or in the whole batch (NumPy's row sum of
        the tails matrix adds in this order for a column-major batch of several rows, but pairwise
        for a single row).
        """
        table = self._log_table()
        total = np.zeros(X.shape[0], dtype=float)
        for j in range(X.shape[1]):
            total += self._column_tails(j, X[:, j], table)
        return total


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """A zoo detector with median imputation and scaling in front.

    Parameters
    ----------
    detector : str, default="iforest"
        Registry key (see `DETECTORS`).
    detector_params : dict or None
        Extra parameters for the PyOD detector.
    contamination : float, default=0.1
        Expected share of anomalies; sets ``threshold_`` only, never the ranking.
    scaling : {"standard", "robust", "none"}, default="standard"
        Scaler fitted on the training rows after imputation.
    random_state : int or None
        Seed for stochastic detectors.

    Attributes
    ----------
    imputer_ : SimpleImputer
        Median imputer (non-finite values count as missing).
    scaler_ : StandardScaler, RobustScaler or None
        Fitted scaler.
    detector_ : pyod BaseDetector
        Fitted detector.
    center_ : ndarray of shape (n_features,)
        Median of the scaled training rows, the reference point of explanations.
    spread_ : ndarray of shape (n_features,)
        Robust spread (MAD, else std, else 1) of the scaled training rows.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training rows.
    threshold_ : float
        Score above which a row is predicted anomalous.
    n_features_in_ : int
        Number of features seen in `fit`.
    feature_names_in_ : ndarray of str
        Column names when `fit` got a DataFrame, else ``x0``, ``x1``, ...
    """

    def __init__(
        self,
        detector: str = "iforest",
        detector_params: dict[str, Any] | None = None,
        contamination: float = 0.1,
        scaling: str = "standard",
        random_state: int | None = None,
    ) -> None:
        self.detector = detector
        self.detector_params = detector_params
        self.contamination = contamination
        self.scaling = scaling
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> AnomalyDetector:
        """Fit imputer, scaler and detector on ``X``; ``y`` is ignored."""
        names = np.asarray([str(c) for c in X.columns], dtype=object) if isinstance(X, pd.DataFrame) else None
        array = _as_float_array(X)
        if array.shape[0] < 2:
            raise ValueError("need at least two rows to fit a detector")
        self.n_features_in_ = array.shape[1]
        self.feature_names_in_ = (
            names if names is not None else np.asarray([f"x{j}" for j in range(array.shape[1])], dtype=object)
        )
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(array)
        imputed = self.imputer_.transform(array)
        self.scaler_ = self._make_scaler()
        scaled = imputed if self.scaler_ is None else self.scaler_.fit_transform(imputed)
        self.center_ = np.median(scaled, axis=0)
        self.spread_ = _robust_spread(scaled, self.center_)
        params = {"contamination": self.contamination, "random_state": self.random_state}
        params.update(self.detector_params or {})
        self.detector_ = make_detector(self.detector, **params).fit(scaled)
        if get_spec(self.detector).name == "pca":
            _floor_pca_weights(self.detector_, scaled)
        self.decision_scores_ = np.asarray(self.detector_.decision_scores_, dtype=float)
        self.threshold_ = float(self.detector_.threshold_)
        self.tail_scorer_ = None
        if get_spec(self.detector).explanation == "tail":
            self.tail_scorer_ = TailScorer(scaled, get_spec(self.detector).name)
            # PyOD keeps its last batch's per-row arrays: four copies of the training data in a pickle
            for leftover in ("O", "U_l", "U_r", "U_skew"):
                if hasattr(self.detector_, leftover):
                    delattr(self.detector_, leftover)
        return self

    def _make_scaler(self) -> StandardScaler | RobustScaler | None:
        if self.scaling == "standard":
            return StandardScaler()
        if self.scaling == "robust":
            return RobustScaler()
        if self.scaling == "none":
            return None
        raise ValueError(f"scaling must be 'standard', 'robust' or 'none', got {self.scaling!r}")

    def _transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "detector_")
        array = _as_float_array(X)
        if array.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {array.shape[1]}")
        imputed = self.imputer_.transform(array)
        return imputed if self.scaler_ is None else self.scaler_.transform(imputed)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score per row; higher means more anomalous."""
        return self._score_scaled(self._transform(X))

    def _score_scaled(self, scaled: np.ndarray) -> np.ndarray:
        if getattr(self, "tail_scorer_", None) is not None:
            return self.tail_scorer_.score(scaled)
        return np.asarray(self.detector_.decision_function(scaled), dtype=float)

    def score_samples(self, X: Any) -> np.ndarray:
        """Same as `decision_function` (higher = more anomalous)."""
        return self.decision_function(X)

    def predict(self, X: Any) -> np.ndarray:
        """1 for rows scoring above ``threshold_``, else 0."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def contributions(self, X: Any, method: str = "auto") -> np.ndarray:
        """Per-row, per-feature contribution to the anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        method : {"auto", "tail", "median_delta", "robust_z"}
            ``tail``: ECOD/COPOD per-dimension tail scores, which sum to the score.
            ``median_delta``: score drop when the feature alone is set to the training median.
            ``robust_z``: absolute robust z-score of the feature (model-free).
            ``auto`` picks ``tail`` for ECOD/COPOD and ``median_delta`` otherwise.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        scaled = self._transform(X)
        if method == "auto":
            method = get_spec(self.detector).explanation
        if method == "tail":
            if get_spec(self.detector).explanation != "tail":
                raise ValueError(f"tail contributions exist only for ECOD and COPOD, not {self.detector}")
            return self.tail_scorer_.tails(scaled)
        if method == "robust_z":
            return np.abs(scaled - self.center_) / self.spread_
        if method == "median_delta":
            base = self._score_scaled(scaled)
            out = np.empty_like(scaled)
            for j in range(scaled.shape[1]):
                moved = scaled.copy()
                moved[:, j] = self.center_[j]
                out[:, j] = base - self._score_scaled(moved)
            return out
        raise ValueError(f"unknown explanation method {method!r}")

    def explain(self, X: Any, top_n: int = 3, method: str = "auto") -> list[list[tuple[str, float]]]:
        """The features that raise each row's score most, largest first.

        Only positive contributions are listed, so a row with nothing unusual gets an empty list.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        top_n : int, default=3
        method : str, default="auto"
            See `contributions`.

        Returns
        -------
        list of list of (feature name, contribution)
        """
        contrib = self.contributions(X, method=method)
        names = self.feature_names_in_
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top_n]
        return [
            [(str(names[j]), round(float(row[j]), 4)) for j in idx if row[j] > 0]
            for row, idx in zip(contrib, order, strict=True)
        ]


def explain_frame(
    model: AnomalyDetector, X: pd.DataFrame, top_n: int = 3, ids: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Explanations as a long table: one row per (row, rank) with the feature's value.

    Parameters
    ----------
    model : AnomalyDetector
        A fitted detector.
    X : DataFrame
        Rows to explain, with the training columns.
    top_n : int
        Features per row.
    ids : sequence, optional
        Row identifiers (e.g. transaction ids); defaults to ``X.index``.
    """
    ids = list(X.index if ids is None else ids)
    records = []
    for row_id, (_, row), reasons in zip(ids, X.iterrows(), model.explain(X, top_n=top_n), strict=True):
        for rank, (feature, contribution) in enumerate(reasons, start=1):
            records.append(
                {
                    "row_id": row_id,
                    "rank": rank,
                    "feature": feature,
                    "value": row[feature],
                    "contribution": contribution,
                }
            )
    return pd.DataFrame.from_records(records, columns=["row_id", "rank", "feature", "value", "contribution"])
