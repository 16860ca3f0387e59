"""The model registry: logging, the promotion gate, rollback, loading the champion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.registry import (
    CHALLENGER,
    CHAMPION,
    GateConfig,
    ModelEvaluation,
    ModelRegistry,
    capacity_evaluation,
    data_fingerprint,
    promotion_gate,
)
from ml.supervised import SupervisedModel

GATE = GateConfig(
    metric="precision_at_k", min_outcomes=10, high_severity_groups=("on_leave", "after_termination")
)


def evaluation(precision: float, on_leave: float = 0.8, after_termination: float = 1.0) -> ModelEvaluation:
    return ModelEvaluation(
        metrics={"precision_at_k": precision, "recovered_at_k": precision * 1e6},
        group_recall={"on_leave": on_leave, "after_termination": after_termination, "late_night": 0.3},
        n_outcomes=200,
    )


@pytest.fixture(scope="module")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registry")


@pytest.fixture(scope="module")
def trained() -> tuple[SupervisedModel, SupervisedModel, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(800, 3)), columns=["amount_robust_z_own", "noise_a", "noise_b"])
    y = (X["amount_robust_z_own"] + rng.normal(0, 0.5, 800) > 1.2).astype(int)
    first = SupervisedModel(n_estimators=20, num_leaves=7).fit(X, y)
    second = SupervisedModel(n_estimators=40, num_leaves=7).fit(X, y)
    return first, second, X


def _register(registry: ModelRegistry, model: SupervisedModel, X: pd.DataFrame, precision: float):
    return registry.register(
        model,
        metrics={"roc_auc": 0.9},
        training_window=("2024-01-01", "2024-03-31"),
        train_ids=[f"t{i}" for i in range(len(X))],
        feature_names=list(X.columns),
        evaluation=evaluation(precision),
    )


def test_promotion_gate_rules() -> None:
    accepted, reasons = promotion_gate(evaluation(0.30), None, GATE)
    assert accepted and "no champion" in reasons[0]
    assert not promotion_gate(evaluation(0.20), evaluation(0.25), GATE)[0]
    assert not promotion_gate(evaluation(0.25), evaluation(0.25), GATE)[0], "a tie does not beat the champion"
    assert promotion_gate(evaluation(0.30), evaluation(0.25), GATE)[0]
    accepted, reasons = promotion_gate(evaluation(0.40, on_leave=0.6), evaluation(0.25), GATE)
    assert not accepted and any("on_leave" in r for r in reasons)
    lenient = GateConfig(**{**GATE.__dict__, "recall_tolerance": 0.25})
    assert promotion_gate(evaluation(0.40, on_leave=0.6), evaluation(0.25), lenient)[0]
    few = ModelEvaluation(metrics={"precision_at_k": 0.9}, n_outcomes=3)
    assert not promotion_gate(few, evaluation(0.25), GATE)[0]


def test_capacity_evaluation_group_recall() -> None:
    day = np.repeat([1, 2], 5)
    score = np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.7, 0.1, 0.6, 0.2, 0.3])
    y = np.array([1, 0, 1, 0, 0, 1, 1, 0, 0, 0])
    groups = [
        "on_leave",
        "",
        "on_leave",
        "",
        "",
        "after_termination",
        "after_termination,on_leave",
        "",
        "",
        "",
    ]
    result = capacity_evaluation(day, score, y, k=2, recovered=y * 1000.0, groups=groups)
    assert result.metrics["precision_at_k"] == pytest.approx(2 / 4)
    assert result.metrics["recovered_at_k"] == pytest.approx(2000.0)
    assert result.group_recall == {"after_termination": pytest.approx(0.5), "on_leave": pytest.approx(1 / 3)}
    assert result.n_outcomes == 10


def test_capacity_evaluation_ranks_every_row_and_labels_only_reviewed_ones() -> None:
    """When about k rows a day were reviewed, ranking only them would make every model tie."""
    day = np.repeat([1, 2], 4)
    y = np.array([1, 0, np.nan, np.nan, 1, 0, np.nan, np.nan])  # two reviewed rows a day, k = 2
    finds_misuse = np.array([0.9, 0.1, 0.5, 0.2, 0.8, 0.1, 0.7, 0.3])
    finds_nothing = np.array([0.1, 0.9, 0.8, 0.2, 0.1, 0.2, 0.9, 0.8])
    good = capacity_evaluation(day, finds_misuse, y, k=2)
    bad = capacity_evaluation(day, finds_nothing, y, k=2)
    assert good.metrics["recall_at_k"] == pytest.approx(1.0)
    assert good.metrics["precision_at_k"] == pytest.approx(1.0), "unreviewed alerts are unknown, not clean"
    assert good.metrics["reviewed_alerts"] == 2 and good.metrics["alerts"] == 4
    assert bad.metrics["recall_at_k"] == 0.0 and bad.metrics["precision_at_k"] == 0.0
    assert good.n_outcomes == bad.n_outcomes == 4
    assert promotion_gate(good, bad, GateConfig(metric="recall_at_k", min_outcomes=4))[0]
    assert not promotion_gate(bad, good, GateConfig(metric="recall_at_k", min_outcomes=4))[0]


def test_register_promote_refuse_accept_rollback(registry_root: Path, trained) -> None:
    first, second, X = trained
    registry = ModelRegistry(registry_root, model_name="cardwatch-hybrid")
    assert registry.tracking_uri == f"sqlite:///{registry_root / 'mlflow.db'}"

    v1 = _register(registry, first, X, 0.30)
    assert v1.action == "register" and v1.version == "1" and registry.alias_version(CHALLENGER) == "1"
    assert len(v1.metrics["data_fingerprint"]) == 64
    start = registry.promote(evaluation(0.30), None, gate=GATE)
    assert start.accepted and start.champion_after == "1" and registry.alias_version(CHAMPION) == "1"

    v2 = _register(registry, second, X, 0.20)
    worse = registry.promote(evaluation(0.20), evaluation(0.30), gate=GATE)
    assert not worse.accepted and registry.alias_version(CHAMPION) == "1"
    assert worse.champion_before == worse.champion_after == "1" and worse.version == v2.version

    loses_recall = registry.promote(evaluation(0.50, on_leave=0.5), evaluation(0.30), gate=GATE)
    assert not loses_recall.accepted and registry.alias_version(CHAMPION) == "1"
    assert any("on_leave" in reason for reason in loses_recall.reasons)

    better = registry.promote(evaluation(0.40), evaluation(0.30), gate=GATE)
    assert better.accepted and registry.alias_version(CHAMPION) == "2"
    assert registry.alias_version(CHALLENGER) is None
    json.dumps(better.to_dict())
    json.dumps(v2.to_dict())

    back = registry.rollback("precision fell in shadow mode")
    assert back.accepted and back.champion_before == "2" and back.champion_after == "1"
    assert registry.alias_version(CHAMPION) == "1"
    assert not registry.rollback().accepted, "version 1 replaced nothing"

    champion = registry.load_champion()
    np.testing.assert_allclose(champion.predict_proba(X)[:, 1], first.predict_proba(X)[:, 1])


def test_run_records_versions_window_and_fingerprint(registry_root: Path, trained) -> None:
    first, _, X = trained
    registry = ModelRegistry(registry_root, model_name="cardwatch-hybrid-records")
    decision = _register(registry, first, X, 0.3)
    run = registry.client.get_run(decision.run_id)
    tags = run.data.tags
    assert tags["version.lightgbm"] and tags["version.scikit-learn"] and tags["version.mlflow"]
    assert tags["training_window_start"].startswith("2024-01-01")
    assert tags["data_fingerprint"] == data_fingerprint([f"t{i}" for i in range(len(X))], list(X.columns))
    assert run.data.metrics["eval_precision_at_k"] == pytest.approx(0.3)
    assert run.data.params["n_estimators"] == "20"
    assert (registry_root / "artifacts").is_dir()
    with pytest.raises(LookupError, match="champion"):
        registry.load_champion()
    assert registry.load(decision.version).predict_proba(X).shape == (len(X), 2)


def test_fingerprint_depends_on_ids_and_features() -> None:
    base = data_fingerprint(["b", "a"], ["f1", "f2"])
    assert base == data_fingerprint(["a", "b"], ["f1", "f2"])
    assert base != data_fingerprint(["a", "c"], ["f1", "f2"])
    assert base != data_fingerprint(["a", "b"], ["f2", "f1"])
