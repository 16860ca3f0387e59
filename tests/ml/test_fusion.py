"""The hybrid score: cold-start rank fusion, the switch to stacking, stacking features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from ml.fusion import (
    COLD_START,
    STACKED,
    HybridModel,
    feature_columns,
    make_hybrid,
    select_mode,
    stacking_features,
    train_hybrid,
)
from ml.labels import build_training_set

SMALL_TREES = {"n_estimators": 80, "num_leaves": 7, "min_isotonic_positives": 50}


def synthetic(
    n: int = 3_000, n_planted: int = 60, seed: int = 4
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Transactions, their rule hits and the truth; planted rows hit a severe rule and look odd."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "transaction_id": [f"t{i:05d}" for i in range(n)],
            "transacted_at": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(np.sort(rng.uniform(0, 60, n)), "D"),
            "amount": rng.lognormal(10, 0.6, n).round(-2),
            "amount_robust_z_own": rng.normal(size=n),
            "is_night": rng.random(n) < 0.05,
        }
    )
    truth = np.zeros(n, dtype=int)
    planted = rng.choice(n, n_planted, replace=False)
    truth[planted] = 1
    features.loc[planted, "amount_robust_z_own"] += 4.0
    noisy = rng.choice(np.setdiff1d(np.arange(n), planted), 300, replace=False)
    hit_rows = np.r_[planted, noisy]
    rule_hits = pd.DataFrame(
        {
            "transaction_id": features["transaction_id"].to_numpy()[hit_rows],
            "rule_id": ["on_leave"] * n_planted + ["late_night"] * len(noisy),
            "severity": [4] * n_planted + [2] * len(noisy),
            "reason": None,
            "is_suppressed": False,
        }
    )
    return features, rule_hits, truth


def stacked_frame(features: pd.DataFrame, rule_hits: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    anomaly = np.abs(features["amount_robust_z_own"].to_numpy()) + rng.normal(0, 0.5, len(features))
    return stacking_features(features, rule_hits, {"iforest": anomaly})


def test_stacking_features_count_only_unsuppressed_hits() -> None:
    features = pd.DataFrame({"transaction_id": ["a", "b", "c"]})
    hits = pd.DataFrame(
        {
            "transaction_id": ["a", "a", "b", "c"],
            "rule_id": ["late_night", "on_leave", "on_leave", "late_night"],
            "severity": [2, 4, 4, 2],
            "is_suppressed": [False, False, True, False],
        }
    )
    anomaly = pd.DataFrame({"transaction_id": ["c", "a", "b"], "ecod": [3.0, 1.0, 2.0]})
    out = stacking_features(features, hits, anomaly)
    assert out["rule_hit_count"].tolist() == [2, 0, 1]
    assert out["rule_max_severity"].tolist() == [4, 0, 2]
    assert out["suppressed_hit_count"].tolist() == [0, 1, 0]
    assert out["rule__on_leave"].tolist() == [1, 0, 0]
    assert out["rule__late_night"].tolist() == [1, 0, 1]
    assert out["anomaly__ecod"].tolist() == [1.0, 2.0, 3.0]
    fixed = stacking_features(features, hits, rule_ids=["late_night", "split_payment"])
    assert "rule__split_payment" in fixed and "rule__on_leave" not in fixed


def test_select_mode_threshold() -> None:
    assert select_mode(49, 500, 50, 50) == COLD_START
    assert select_mode(50, 49, 50, 50) == COLD_START
    assert select_mode(50, 50, 50, 50) == STACKED


def test_cold_start_ranks_planted_rows_high() -> None:
    features, hits, truth = synthetic()
    frame = stacked_frame(features, hits)
    X = frame[feature_columns(frame)]
    y = np.full(len(X), np.nan)
    y[np.flatnonzero(truth)[:5]] = 1
    y[np.flatnonzero(truth == 0)[:100]] = 0
    model = HybridModel(min_positive_labels=50, supervised_params=SMALL_TREES).fit(X, y)
    assert model.mode_ == COLD_START and model.supervised_ is None
    score = model.score(X)
    assert np.all((score >= 0) & (score <= 1))
    assert roc_auc_score(truth, score) > 0.95
    top = np.argsort(-score)[:60]
    assert truth[top].mean() > 0.8
    reasons = model.explain(X.iloc[top[:5]])
    assert all(r and r[0].source in {"rule", "anomaly"} for r in reasons)
    assert any("severity 4" in r.text_en for r in reasons[0])
    no_hit = X["rule_hit_count"].to_numpy() == 0
    assert score[no_hit].max() <= model.anomaly_weight / (model.rule_weight + model.anomaly_weight) + 1e-12


def test_switches_to_stacked_past_the_label_threshold() -> None:
    features, hits, truth = synthetic(n=4_000, n_planted=200, seed=9)
    frame = stacked_frame(features, hits)
    X = frame[feature_columns(frame)]
    rng = np.random.default_rng(1)
    labeled = rng.random(len(X)) < 0.6
    y = np.where(labeled, truth, np.nan)
    weight = np.where(labeled, 2.0, np.nan)
    model = HybridModel(min_positive_labels=50, min_negative_labels=50, supervised_params=SMALL_TREES)
    model.fit(X, y, sample_weight=weight)
    assert model.mode_ == STACKED
    assert model.n_positive_labels_ >= 50
    score = model.score(X)
    assert np.all((score >= 0) & (score <= 1))
    assert roc_auc_score(truth[~labeled], score[~labeled]) > 0.9
    scored = model.score_frame(X.iloc[:50], ids=features["transaction_id"].iloc[:50])
    assert {"transaction_id", "score", "probability", "tiebreak", "score_mode", "reasons"} <= set(scored)
    assert (scored["score_mode"] == STACKED).all()
    np.testing.assert_allclose(scored["probability"], scored["score"])

    fewer = y.copy()
    fewer[np.flatnonzero(fewer == 1)[49:]] = np.nan
    cold = clone(model).fit(X, fewer)
    assert cold.n_positive_labels_ == 49 and cold.mode_ == COLD_START
    assert cold.score_frame(X.iloc[:5])["probability"].isna().all()


def test_make_hybrid_reads_config() -> None:
    model = make_hybrid({"min_positive_labels": 7})
    assert model.min_positive_labels == 7
    assert model.supervised_params["n_estimators"] > 0
    with pytest.raises(ValueError, match="unknown parameter"):
        make_hybrid({"min_positive_lables": 7})


def test_train_hybrid_from_labels() -> None:
    features, hits, truth = synthetic(n=2_000, n_planted=120, seed=12)
    stacked = stacked_frame(features, hits)
    reviewed = hits["transaction_id"].iloc[::2]
    is_misuse = dict(zip(features["transaction_id"], truth, strict=True))
    outcomes = pd.DataFrame(
        {
            "transaction_id": reviewed.to_numpy(),
            "alerted_by": "legacy_rule:x",
            "opened_at": pd.Timestamp("2024-03-01"),
            "decided_at": pd.Timestamp("2024-03-02"),
            "decision": ["confirmed" if is_misuse[t] else "cleared" for t in reviewed],
        }
    )
    alerts = pd.DataFrame({"transaction_id": hits["transaction_id"], "alerted_by": "legacy_rule:x"})
    cutoff = pd.Timestamp("2024-04-30")
    training = build_training_set(features, outcomes, cutoff, alerts, label_delay_days=7)
    trained = train_hybrid(
        stacked, training, {"min_positive_labels": 30, "min_negative_labels": 30}, SMALL_TREES
    )
    assert trained.model.mode_ == STACKED
    assert trained.summary["positives"] == trained.model.n_positive_labels_ == 60
    assert trained.training_window[1] <= cutoff
    assert set(trained.train_ids) == set(training.frame["transaction_id"])
    assert "transaction_id" not in trained.feature_names and "rule__on_leave" in trained.feature_names
    cold = train_hybrid(stacked, training, {"min_positive_labels": 1_000})
    assert cold.model.mode_ == COLD_START


def test_rule_without_reviewed_hits_keeps_its_severity_floor() -> None:
    """A rule whose hits were never reviewed (a new rule, or one the old filters ignored) must not
    be ranked by everything but the rule: its hits score at least the reviewed-hit precision."""
    features, hits, truth = synthetic(n=4_000, n_planted=200, seed=9)
    rng = np.random.default_rng(3)
    ordinary = np.flatnonzero(
        (truth == 0) & ~features["transaction_id"].isin(hits["transaction_id"]).to_numpy()
    )
    unreviewed = rng.choice(ordinary, 40, replace=False)
    truth[unreviewed] = 1  # misuse the trees cannot see: ordinary features, only the rule knows
    new_hits = pd.DataFrame(
        {
            "transaction_id": features["transaction_id"].to_numpy()[unreviewed],
            "rule_id": "duplicate_payment",
            "severity": 1,  # below every reviewed rule: the trees alone learn nothing from it
            "reason": None,
            "is_suppressed": False,
        }
    )
    frame = stacked_frame(features, pd.concat([hits, new_hits], ignore_index=True))
    X = frame[feature_columns(frame)]
    labeled = rng.random(len(X)) < 0.6
    labeled[unreviewed] = False
    y = np.where(labeled, truth, np.nan)

    model = HybridModel(min_rule_labels=20, supervised_params=SMALL_TREES).fit(X, y)
    assert model.mode_ == STACKED
    assert model.rule_label_counts_["rule__duplicate_payment"] == 0
    assert model.unlearned_rule_columns_ == ["rule__duplicate_payment"]
    severity = X["rule_max_severity"].to_numpy()
    assert abs(model.severity_precision_[4] - truth[labeled & (severity == 4)].mean()) < 0.1
    assert model.severity_precision_[-1] == truth[labeled & (severity > 0)].mean()
    expected = model.severity_precision_[-1]  # no reviewed hit at severity 1: the share over all
    assert 1 not in model.severity_precision_

    floor = model.rule_floor(X)
    assert np.all(floor[unreviewed] == expected)
    learned = X["rule__on_leave"].to_numpy() == 1
    assert np.all(floor[learned] == 0) and np.all(floor[X["rule_hit_count"].to_numpy() == 0] == 0)
    score = model.score(X)
    assert np.all(score[unreviewed] >= expected) and np.all(score <= 1)
    plain = np.flatnonzero(X["rule_hit_count"].to_numpy() == 0)
    assert (
        roc_auc_score(np.r_[np.ones(40), np.zeros(len(plain))], np.r_[score[unreviewed], score[plain]]) > 0.99
    )
    scored = model.score_frame(X.iloc[unreviewed[:3]])
    np.testing.assert_allclose(scored["score"], score[unreviewed[:3]])
    reasons = model.explain(X.iloc[unreviewed[:3]])
    assert all(r[0].key == "unlearned_rule_floor" and r[0].source == "rule" for r in reasons)

    # without the floor the trees rank these hits like any ordinary payment
    trees_only = clone(model).set_params(min_rule_labels=0).fit(X, y)
    assert trees_only.unlearned_rule_columns_ == []
    assert np.median(trees_only.score(X)[unreviewed]) < expected / 2

    # a rule added after the fit has no flag column: its hits count as unlearned too
    added = pd.DataFrame(
        {"transaction_id": ["n1", "n2"], "rule_id": ["brand_new", "late_night"], "severity": [3, 2]}
    )
    later = pd.DataFrame({"transaction_id": ["n1", "n2"], "amount": 10_000.0, "amount_robust_z_own": 0.0})
    later["is_night"] = False
    rows = stacking_features(later, added, {"iforest": [0.1, 0.1]}, rule_ids=["late_night", "on_leave"])
    rows = rows.reindex(columns=X.columns, fill_value=0)
    new_floor = model.rule_floor(rows)
    assert new_floor[0] == model.severity_precision_.get(3, model.severity_precision_[-1]) > 0
    assert new_floor[1] == 0
