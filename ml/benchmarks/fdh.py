"""The Fraud Detection Handbook's evaluation protocol (chapters 3 and 5), in plain Python.

Train on a window of days, skip the label delay, test on the following days. On each test day
the cards already known to be compromised (a fraud in the training window, or in the delay
period up to the test day minus delay minus one) are removed before scoring. Metrics: ROC-AUC,
average precision, and card precision@100 with cards found on earlier test days removed.
"""

from __future__ import annotations

import itertools
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ml.evaluation import PrequentialWindow, average_precision, card_precision_at_k, roc_auc

logger = logging.getLogger(__name__)

#: Chapter 3 (train 7, delay 7, test 7 days; 15 features), held-out week.
HANDBOOK_CH3 = {
    "logistic regression": (0.871, 0.606, 0.291),
    "decision tree, depth 2": (0.763, 0.496, 0.241),
    "decision tree, unlimited": (0.788, 0.309, 0.243),
    "random forest": (0.867, 0.658, 0.287),
    "XGBoost": (0.862, 0.639, 0.273),
}

ModelFactory = Callable[[], ClassifierMixin | Pipeline]


def handbook_models(n_jobs: int = 2, seed: int = 0) -> dict[str, ModelFactory]:
    """The chapter-3 models (LightGBM in place of XGBoost), each behind a StandardScaler."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(random_state=seed)),
        "decision tree, depth 2": lambda: make_pipeline(
            StandardScaler(), DecisionTreeClassifier(max_depth=2, random_state=seed)
        ),
        "decision tree, unlimited": lambda: make_pipeline(
            StandardScaler(), DecisionTreeClassifier(random_state=seed)
        ),
        "random forest": lambda: make_pipeline(
            StandardScaler(), RandomForestClassifier(random_state=seed, n_jobs=n_jobs)
        ),
        "LightGBM": lambda: make_pipeline(
            StandardScaler(), LGBMClassifier(random_state=seed, n_jobs=n_jobs, verbose=-1)
        ),
    }


def lightgbm_factory(params: dict[str, Any], n_jobs: int = 2, seed: int = 0) -> ModelFactory:
    """A LightGBM model with the given hyper-parameters."""
    from lightgbm import LGBMClassifier

    return lambda: LGBMClassifier(random_state=seed, n_jobs=n_jobs, verbose=-1, **params)


#: Hyper-parameters tried on the validation folds.
LIGHTGBM_GRID: dict[str, list[Any]] = {
    "n_estimators": [200],
    "learning_rate": [0.05],
    "num_leaves": [7, 31],
    "min_child_samples": [20, 100],
}


def grid(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``space``."""
    keys = list(space)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*space.values())]


def add_day_index(frame: pd.DataFrame) -> pd.DataFrame:
    """``TX_TIME_DAYS``: whole days since the first day of the data (the handbook's day number)."""
    out = frame.copy()
    when = pd.to_datetime(out["TX_DATETIME"])
    out["TX_TIME_DAYS"] = (when.dt.normalize() - when.min().normalize()).dt.days
    return out


def handbook_sets(frame: pd.DataFrame, window: PrequentialWindow) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows and the test rows left after removing known compromised cards, per day."""
    when = pd.to_datetime(frame["TX_DATETIME"])
    train = frame[(when >= window.train_start) & (when < window.train_end)]
    known = set(train.loc[train["TX_FRAUD"] == 1, "CUSTOMER_ID"])
    first = int(frame.loc[when >= window.train_start, "TX_TIME_DAYS"].min())
    train_days = (window.train_end - window.train_start).days
    delay = window.delay.days
    test_days = (window.test_end - window.test_start).days
    parts = []
    for d in range(test_days):
        just_known = frame[(frame["TX_TIME_DAYS"] == first + train_days + d - 1) & (frame["TX_FRAUD"] == 1)]
        known |= set(just_known["CUSTOMER_ID"])
        day_rows = frame[frame["TX_TIME_DAYS"] == first + train_days + delay + d]
        parts.append(day_rows[~day_rows["CUSTOMER_ID"].isin(known)])
    return train, pd.concat(parts)


def score_fold(
    factory: ModelFactory, train: pd.DataFrame, test: pd.DataFrame, features: Sequence[str], top_k: int = 100
) -> dict[str, float]:
    """Fit on ``train``, score ``test``: ROC-AUC, AP, card precision@k, seconds."""
    start = time.perf_counter()
    model = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        model.fit(train[list(features)], train["TX_FRAUD"])
        score = model.predict_proba(test[list(features)])[:, 1]
    y = test["TX_FRAUD"].to_numpy()
    cp = card_precision_at_k(test["TX_TIME_DAYS"], test["CUSTOMER_ID"], score, y, k=top_k)
    return {
        "roc_auc": roc_auc(y, score),
        "average_precision": average_precision(y, score),
        "card_precision": cp.mean,
        "train_rows": len(train),
        "test_rows": len(test),
        "seconds": time.perf_counter() - start,
    }


def run_folds(
    frame: pd.DataFrame,
    folds: Sequence[PrequentialWindow],
    factory: ModelFactory,
    features: Sequence[str],
    train_days: int | None = None,
) -> pd.DataFrame:
    """Score one model on every fold; ``train_days`` widens the training window backwards."""
    rows = []
    for i, fold in enumerate(folds):
        train, test = handbook_sets(frame, fold)
        if train_days is not None:
            # A wider training window; the test set stays the fold's own, so rows compare.
            when = pd.to_datetime(frame["TX_DATETIME"])
            train = frame[(when >= fold.train_end - pd.Timedelta(days=train_days)) & (when < fold.train_end)]
        rows.append(
            {"fold": i, "test_start": fold.test_start.date(), **score_fold(factory, train, test, features)}
        )
    return pd.DataFrame(rows)


@dataclass
class TunedModel:
    """Grid search on validation folds, then the chosen parameters on the test folds."""

    name: str
    features: list[str]
    train_days: int
    params: dict[str, Any]
    validation: pd.DataFrame
    test: pd.DataFrame
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)


def tune_lightgbm(
    name: str,
    frame: pd.DataFrame,
    validation_folds: Sequence[PrequentialWindow],
    test_folds: Sequence[PrequentialWindow],
    features: Sequence[str],
    train_days: int = 7,
    space: dict[str, list[Any]] | None = None,
    n_jobs: int = 2,
) -> TunedModel:
    """Pick LightGBM's hyper-parameters by mean validation AP, then score the test folds.

    A ``space`` with one value per parameter skips the search but still reports validation.
    """
    candidates = []
    best: tuple[float, dict[str, Any], pd.DataFrame] | None = None
    for params in grid(space or LIGHTGBM_GRID):
        result = run_folds(frame, validation_folds, lightgbm_factory(params, n_jobs), features, train_days)
        ap = float(result["average_precision"].mean())
        candidates.append({**params, "validation_ap": ap, "validation_cp": result["card_precision"].mean()})
        logger.info("%s %s: validation AP %.3f", name, params, ap)
        if best is None or ap > best[0]:
            best = (ap, params, result)
    assert best is not None
    test = run_folds(frame, test_folds, lightgbm_factory(best[1], n_jobs), features, train_days)
    return TunedModel(
        name=name,
        features=list(features),
        train_days=train_days,
        params=best[1],
        validation=best[2],
        test=test,
        candidates=pd.DataFrame(candidates),
    )


def card_precision_ceiling(
    frame: pd.DataFrame, folds: Sequence[PrequentialWindow], top_k: int = 100
) -> list[float]:
    """Card precision@k of a perfect ranking on each fold's test set: the best any model can do."""
    out = []
    for fold in folds:
        _, test = handbook_sets(frame, fold)
        y = test["TX_FRAUD"].to_numpy()
        out.append(card_precision_at_k(test["TX_TIME_DAYS"], test["CUSTOMER_ID"], y, y, k=top_k).mean)
    return out


def mean_std(values: pd.Series) -> str:
    """``0.123 ± 0.010``."""
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}"


def fold_summary(result: pd.DataFrame) -> dict[str, float]:
    """Means over folds."""
    return {
        "roc_auc": float(result["roc_auc"].mean()),
        "average_precision": float(result["average_precision"].mean()),
        "card_precision": float(result["card_precision"].mean()),
    }


def compromised_share(frame: pd.DataFrame) -> float:
    """Share of (card, day) pairs with a fraud, a floor reference for card precision."""
    per = frame.groupby(["TX_TIME_DAYS", "CUSTOMER_ID"])["TX_FRAUD"].max()
    return float(np.mean(per))
