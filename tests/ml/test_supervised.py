"""The supervised model: learns a planted pattern, calibrated, explained in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from ml.explain import describe_feature, load_parameters
from ml.supervised import SupervisedModel, default_params

PLANTED = "amount_robust_z_own"


def planted_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Noise features plus one planted driver of misuse (and a weak boolean one)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 4)), columns=["txn_count_7d", "days_since_hire", "noise_a", "noise_b"]
    )
    X[PLANTED] = rng.exponential(1.0, n)
    X["is_night"] = rng.random(n) < 0.1
    X["category_group"] = rng.choice(["meal", "taxi", "supplies"], n)
    logit = -4.5 + 2.0 * X[PLANTED] + 0.5 * X["is_night"]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted() -> tuple[SupervisedModel, pd.DataFrame, np.ndarray]:
    X, y = planted_data(6_000, seed=11)
    model = SupervisedModel(n_estimators=150, random_state=0).fit(X.iloc[:4_000], y[:4_000])
    return model, X.iloc[4_000:], y[4_000:]


def test_learns_planted_pattern(fitted) -> None:
    model, X_test, y_test = fitted
    p = model.predict_proba(X_test)[:, 1]
    assert roc_auc_score(y_test, p) > 0.85
    assert model.classes_.tolist() == [0, 1]
    assert model.n_features_in_ == X_test.shape[1]
    assert model.n_train_rows_ + model.n_calibration_rows_ == 4_000
    assert model.n_calibration_rows_ == 1_000


def test_calibrated_probabilities(fitted) -> None:
    model, X_test, y_test = fitted
    p = model.predict_proba(X_test)[:, 1]
    assert np.all((p >= 0) & (p <= 1))
    assert model.calibration_method_ == "isotonic"
    bins = pd.qcut(p, 5, duplicates="drop")
    table = pd.DataFrame({"p": p, "y": y_test, "bin": bins}).groupby("bin", observed=True).mean()
    assert (table["p"] - table["y"]).abs().max() < 0.08, table
    assert abs(p.mean() - y_test.mean()) < 0.03


def test_platt_when_few_positives() -> None:
    X, y = planted_data(1_200, seed=5)
    model = SupervisedModel(n_estimators=60, min_isotonic_positives=10_000).fit(X, y)
    assert model.calibration_method_ == "sigmoid"
    p = model.predict_proba(X)[:, 1]
    assert np.all((p >= 0) & (p <= 1))


def test_explanations_name_the_planted_feature_first(fitted) -> None:
    model, X_test, _ = fitted
    p = model.predict_proba(X_test)[:, 1]
    top = X_test.iloc[np.argsort(-p)[:20]]
    reasons = model.explain(top)
    firsts = [r[0].key for r in reasons if r]
    assert len(firsts) == 20
    assert firsts.count(PLANTED) >= 18
    first = next(r[0] for r in reasons if r[0].key == PLANTED)
    assert "robust deviations" in first.text_en and "raised the score" in first.text_en
    assert "본인 90일" in first.text_ko
    contrib = model.contributions(top)
    assert list(contrib.columns) == list(X_test.columns)


def test_estimator_contract() -> None:
    model = SupervisedModel(n_estimators=20, num_leaves=7)
    assert not hasattr(model, "booster_")
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    X, y = planted_data(600, seed=2)
    assert model.fit(X, y) is model
    with pytest.raises(ValueError, match="missing labels"):
        SupervisedModel(n_estimators=5).fit(X, np.where(np.arange(len(y)) % 7 == 0, np.nan, y))
    with pytest.raises(ValueError, match="missing feature"):
        model.predict_proba(X.drop(columns=["noise_a"]))


def test_sample_weights_shift_the_probabilities() -> None:
    X, y = planted_data(3_000, seed=8)
    weight = np.where(y == 1, 5.0, 1.0)
    plain = SupervisedModel(n_estimators=60).fit(X, y)
    weighted = SupervisedModel(n_estimators=60).fit(X, y, sample_weight=weight)
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_phrases_have_a_generic_fallback_and_defaults_load() -> None:
    text_en, text_ko = describe_feature("unheard_of_feature", 3.14159)
    assert "unheard_of_feature" in text_en and "3.14" in text_en and text_ko
    text_en, _ = describe_feature("is_on_leave", True)
    assert text_en.startswith("paid while the employee was on leave")
    text_en, _ = describe_feature("amount_to_own_median", 3.2)
    assert text_en == "amount 3.2× the employee's 90-day median raised the score"
    text_en, _ = describe_feature("rule__late_night", 1)
    assert "late_night" in text_en
    params = default_params()
    assert SupervisedModel(**params).get_params()["top_n"] == load_parameters("supervised")["top_n_reasons"]
