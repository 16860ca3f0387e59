"""The detector zoo: ranking, score direction, estimator contract, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from ml.detectors import DETECTORS, AnomalyDetector, explain_frame, get_spec, make_detector

NAMES = list(DETECTORS)


@pytest.fixture(scope="module")
def fitted(planted) -> dict[str, AnomalyDetector]:
    X, _ = planted
    return {name: AnomalyDetector(name, contamination=0.03, random_state=0).fit(X) for name in NAMES}


def test_registry_has_the_required_zoo() -> None:
    assert {"iforest", "ecod", "copod", "hbos", "lof", "knn", "ocsvm", "pca"} <= set(DETECTORS)
    assert all(spec.description for spec in DETECTORS.values())


@pytest.mark.parametrize("name", NAMES)
def test_ranks_planted_anomalies_first(name, planted, fitted) -> None:
    X, y = planted
    assert roc_auc_score(y, fitted[name].decision_function(X)) > 0.8


@pytest.mark.parametrize("name", NAMES)
def test_higher_score_is_more_anomalous(name, planted, fitted) -> None:
    X, _ = planted
    center = pd.DataFrame([np.zeros(6)], columns=X.columns)
    far = pd.DataFrame([np.full(6, 8.0)], columns=X.columns)
    model = fitted[name]
    assert model.decision_function(far)[0] > model.decision_function(center)[0]
    assert model.predict(far)[0] == 1


@pytest.mark.parametrize("name", NAMES)
def test_fitted_attributes_and_clone(name, planted, fitted) -> None:
    X, _ = planted
    model = fitted[name]
    for attribute in ("imputer_", "scaler_", "detector_", "center_", "spread_", "threshold_"):
        assert hasattr(model, attribute)
    assert model.n_features_in_ == 6
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.decision_scores_.shape == (len(X),)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "detector_")
    with pytest.raises(NotFittedError):
        twin.decision_function(X)


def test_fit_returns_self_and_init_stores_params_only(planted) -> None:
    X, _ = planted
    model = AnomalyDetector("hbos", detector_params={"n_bins": 20})
    assert vars(model) == {
        "detector": "hbos",
        "detector_params": {"n_bins": 20},
        "contamination": 0.1,
        "scaling": "standard",
        "random_state": None,
    }
    assert model.fit(X) is model
    assert model.detector_.n_bins == 20


@pytest.mark.parametrize("name", NAMES)
def test_explain_names_the_planted_feature_first(name, fitted) -> None:
    model = fitted[name]
    row = pd.DataFrame([[0.0, 0.0, 9.0, 0.0, 0.0, 0.0]], columns=model.feature_names_in_)
    reasons = model.explain(row, top_n=3)[0]
    assert reasons[0][0] == "f2"
    assert len(reasons) <= 3
    assert all(isinstance(f, str) and isinstance(c, float) for f, c in reasons)


def test_explain_methods_and_frame(fitted) -> None:
    model = fitted["ecod"]
    row = pd.DataFrame([[0.0, -7.0, 0.0, 0.0, 0.0, 0.0]], columns=model.feature_names_in_)
    tail = model.contributions(row, method="tail")
    assert tail.shape == (1, 6)
    assert np.isclose(tail.sum(), model.decision_function(row)[0])
    assert model.explain(row, method="robust_z")[0][0][0] == "f1"
    frame = explain_frame(model, row, top_n=2, ids=["tx-1"])
    assert list(frame.columns) == ["row_id", "rank", "feature", "value", "contribution"]
    assert frame.iloc[0].to_dict() | {"contribution": 0} == {
        "row_id": "tx-1",
        "rank": 1,
        "feature": "f1",
        "value": -7.0,
        "contribution": 0,
    }
    with pytest.raises(ValueError):
        fitted["iforest"].contributions(row, method="tail")


def test_missing_and_infinite_values_are_imputed() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4))
    X[::7, 1] = np.nan
    X[3, 2] = np.inf
    X[:, 3] = np.nan
    model = AnomalyDetector("iforest", random_state=0).fit(X)
    scores = model.decision_function(X)
    assert np.isfinite(scores).all()
    assert list(model.feature_names_in_) == ["x0", "x1", "x2", "x3"]


def test_pca_stays_finite_on_collinear_features() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=(300, 3))
    X = np.column_stack([base, base[:, 0] + base[:, 1]])
    scores = AnomalyDetector("pca").fit(X).decision_function(X)
    assert np.isfinite(scores).all()


def test_make_detector_filters_parameters_and_rejects_unknown_names() -> None:
    ecod = make_detector("ecod", contamination=0.05, random_state=3)
    assert ecod.contamination == 0.05
    assert get_spec("IForest").name == "iforest"
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("nope")
    with pytest.raises(ValueError, match="scaling"):
        AnomalyDetector("hbos", scaling="minmax").fit(np.zeros((5, 2)) + np.arange(5)[:, None])


@pytest.mark.parametrize("name", ["ecod", "copod"])
def test_tail_scores_do_not_depend_on_the_batch(name) -> None:
    """A transaction's ECOD / COPOD score is the same whatever it is scored with, and equals PyOD's
    score of that row scored alone (PyOD recomputes its CDFs over training rows plus the batch)."""
    rng = np.random.default_rng(3)
    train = rng.lognormal(size=(2_000, 4))
    train[:, 1] = np.round(train[:, 1])  # ties
    rows = rng.lognormal(size=(50, 4))
    rows[-1] = 40.0  # far out in every feature
    detector = AnomalyDetector(detector=name).fit(train)

    together = detector.decision_function(rows)
    alone = np.array([detector.decision_function(rows[i : i + 1])[0] for i in range(len(rows))])
    with_outliers = detector.decision_function(np.vstack([rows, np.full((500, 4), 40.0)]))[: len(rows)]
    np.testing.assert_array_equal(together, alone)  # bit for bit: chunked scoring relies on it
    np.testing.assert_array_equal(together, with_outliers)

    scaled = detector._transform(rows[:5])
    pyod_alone = [detector.detector_.decision_function(scaled[i : i + 1])[0] for i in range(5)]
    np.testing.assert_allclose(together[:5], pyod_alone)
    assert together.argmax() == len(rows) - 1
    np.testing.assert_allclose(detector.contributions(rows).sum(axis=1), together)
