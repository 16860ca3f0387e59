"""Gradient-boosted trees on matured labels, calibrated, with reasons per row.

`SupervisedModel` follows scikit-learn's estimator contract. ``fit`` takes only labelled rows (the
caller drops unlabelled ones; see `ml.labels`) with their inverse-propensity weights, in time
order. The trees learn on the earlier rows; the latest ``calibration_fraction`` of rows fits the
calibration map (isotonic, or Platt scaling when that slice holds few positives), so calibrated
probabilities are measured on data later than what the trees saw. Reasons come from LightGBM's
TreeSHAP contributions (``pred_contrib=True``), in log-odds, put into words by `ml.explain`.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ml.explain import Reason, feature_phrases, load_parameters, model_reason

CALIBRATIONS = ("auto", "isotonic", "sigmoid", "none")


def default_params(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Constructor arguments from ``ml/config/supervised.yml`` (``top_n_reasons`` -> ``top_n``)."""
    params = load_parameters("supervised", overrides=overrides)
    params["top_n"] = params.pop("top_n_reasons")
    return params


def as_frame(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame (arrays get columns ``x0``, ``x1``, ...)."""
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-d array, got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])


class SupervisedModel(ClassifierMixin, BaseEstimator):
    """LightGBM classifier with a calibration map fitted on the time-later slice.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree, reg_lambda
        LightGBM parameters (see ``ml/config/supervised.yml``).
    calibration : {"auto", "isotonic", "sigmoid", "none"}, default="auto"
        Calibration map. ``auto`` is isotonic with at least ``min_isotonic_positives`` positives
        in the calibration slice, else Platt (sigmoid).
    calibration_fraction : float, default=0.25
        Latest share of the rows (in the order given) held out for calibration.
    min_isotonic_positives : int, default=50
    top_n : int, default=3
        Reasons per row in `explain`.
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    booster_ : lightgbm.LGBMClassifier
        Trees fitted on the earlier rows.
    calibrator_ : IsotonicRegression, LogisticRegression or None
        Map from the trees' log-odds to a probability.
    calibration_method_ : str
        ``isotonic``, ``sigmoid`` or ``none`` (no calibration slice with both classes).
    categories_ : dict
        Categories of each text column, fixed at fit.
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_train_rows_, n_calibration_rows_ : int
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        calibration: str = "auto",
        calibration_fraction: float = 0.25,
        min_isotonic_positives: int = 50,
        top_n: int = 3,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.min_isotonic_positives = min_isotonic_positives
        self.top_n = top_n
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _prepare(self, X: Any, fitting: bool = False) -> pd.DataFrame:
        frame = as_frame(X)
        if fitting:
            self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
            self.n_features_in_ = frame.shape[1]
            self.categories_ = {}
        else:
            missing = [c for c in self.feature_names_in_ if c not in frame.columns]
            if missing:
                raise ValueError(f"missing feature columns: {missing}")
        frame = frame.loc[:, list(self.feature_names_in_)].copy()
        for column in frame.columns:
            series = frame[column]
            if pd.api.types.is_bool_dtype(series):
                frame[column] = series.astype(float)
            elif pd.api.types.is_numeric_dtype(series):
                frame[column] = pd.to_numeric(series, errors="coerce").astype(float)
            elif pd.api.types.is_datetime64_any_dtype(series):
                raise ValueError(f"column {column!r} is a timestamp; derive numeric features from it first")
            else:
                text = series.astype("string")
                if fitting:
                    self.categories_[column] = sorted(text.dropna().unique().tolist())
                frame[column] = pd.Categorical(text, categories=self.categories_.get(column, []))
        return frame

    def _make_booster(self) -> lgb.LGBMClassifier:
        return lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            verbose=-1,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SupervisedModel:
        """Fit trees on the earlier rows and the calibration map on the latest ones.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
            Labelled rows in time order (oldest first).
        y : array-like of shape (n_samples,)
            1 for misuse, 0 for cleared; missing labels are an error.
        sample_weight : array-like, optional
            Inverse-propensity weights.
        """
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        frame = self._prepare(X, fitting=True)
        target = pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce").to_numpy(dtype=float)
        if np.isnan(target).any():
            raise ValueError("y has missing labels; train only on labelled rows")
        target = target.astype(int)
        if set(np.unique(target)) - {0, 1} or len(np.unique(target)) < 2:
            raise ValueError("y needs both classes, coded 0 and 1")
        weight = np.ones(len(target)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.array([0, 1])

        n_cal = round(len(target) * self.calibration_fraction) if self.calibration != "none" else 0
        split = len(target) - n_cal
        cal_y = target[split:]
        if n_cal == 0 or len(np.unique(cal_y)) < 2 or len(np.unique(target[:split])) < 2:
            split = len(target)
        self.booster_ = self._make_booster()
        self.booster_.fit(frame.iloc[:split], target[:split], sample_weight=weight[:split])
        self.n_train_rows_ = split
        self.n_calibration_rows_ = len(target) - split
        self.calibrator_ = None
        self.calibration_method_ = "none"
        if self.n_calibration_rows_:
            margin = self._margin(frame.iloc[split:])
            positives = int(target[split:].sum())
            method = self.calibration
            if method == "auto":
                method = "isotonic" if positives >= self.min_isotonic_positives else "sigmoid"
            if method == "isotonic":
                calibrator: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                calibrator.fit(margin, target[split:], sample_weight=weight[split:])
            else:
                calibrator = LogisticRegression(C=1e4)
                calibrator.fit(margin.reshape(-1, 1), target[split:], sample_weight=weight[split:])
            self.calibrator_ = calibrator
            self.calibration_method_ = method
        return self

    def _margin(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.predict(frame, raw_score=True), dtype=float)

    def _scoring_input(self, X: Any) -> pd.DataFrame:
        """The trees' input: `_prepare`'s values, without its per-column copies when all are numeric.

        Without text columns LightGBM turns the prepared frame into one float64 matrix anyway;
        here that matrix is built once, column by column (booleans 0/1, missing values NaN, the
        same float64 values `_prepare` gives), and wrapped without a copy. Float64, not float32:
        the trees' thresholds are doubles learned on float64 values, so a value rounded to float32
        could fall on the other side of one.
        """
        frame = as_frame(X)
        names = list(self.feature_names_in_)
        numeric = all(
            c in frame.columns
            and (pd.api.types.is_bool_dtype(frame[c]) or pd.api.types.is_numeric_dtype(frame[c]))
            for c in names
        )
        if getattr(self, "categories_", None) or not numeric:
            return self._prepare(X)  # text columns, or an error to report
        matrix = np.empty((len(frame), len(names)), dtype=np.float64)
        for j, column in enumerate(names):
            matrix[:, j] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.DataFrame(matrix, columns=names, index=frame.index, copy=False)

    def decision_function(self, X: Any) -> np.ndarray:
        """The trees' log-odds (uncalibrated; higher = more likely misuse)."""
        check_is_fitted(self, "booster_")
        return self._margin(self._scoring_input(X))

    def calibrate(self, margin: Any) -> np.ndarray:
        """Calibrated probability of misuse from the trees' log-odds (`decision_function`).

        ``predict_proba(X)[:, 1]`` is ``calibrate(decision_function(X))``: a caller that needs
        both the probability and the log-odds (the score and its tie-break) predicts once.
        """
        check_is_fitted(self, "booster_")
        margin = np.asarray(margin, dtype=float)
        if self.calibrator_ is None:
            p = 1.0 / (1.0 + np.exp(-margin))
        elif isinstance(self.calibrator_, IsotonicRegression):
            p = self.calibrator_.predict(margin)
        else:
            p = self.calibrator_.predict_proba(margin.reshape(-1, 1))[:, 1]
        return np.clip(np.asarray(p, dtype=float), 0.0, 1.0)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, shape (n_samples, 2); column 1 is misuse."""
        p = self.calibrate(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """1 where the calibrated probability is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: Any) -> pd.DataFrame:
        """TreeSHAP contribution of each feature to each row's log-odds (bias column excluded)."""
        check_is_fitted(self, "booster_")
        frame = self._prepare(X)
        contrib = np.asarray(self.booster_.predict(frame, pred_contrib=True), dtype=float)
        return pd.DataFrame(contrib[:, :-1], columns=list(self.feature_names_in_), index=frame.index)

    def explain(self, X: Any, top_n: int | None = None) -> list[list[Reason]]:
        """The features that raised each row's score most, as reviewer sentences.

        Only positive contributions are reasons, so an ordinary row may get none.
        """
        frame = as_frame(X)
        contrib = self.contributions(frame)
        n = self.top_n if top_n is None else top_n
        phrases = feature_phrases()
        values = contrib.to_numpy()
        order = np.argsort(-values, axis=1, kind="stable")[:, :n]
        names = list(contrib.columns)
        reasons: list[list[Reason]] = []
        for i, idx in enumerate(order):
            row = frame.iloc[i]
            reasons.append(
                [
                    model_reason(names[j], row[names[j]], values[i, j], phrases)
                    for j in idx
                    if values[i, j] > 0
                ]
            )
        return reasons
