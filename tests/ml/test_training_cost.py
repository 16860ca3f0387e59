"""A retraining's cost is bounded: every label is kept, unlabelled rows are a capped seeded sample."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.labels import isin
from ml.system import fit_system, plan_training, train_system
from orchestration import scoring

START = pd.Timestamp("2025-01-01")
CUTOFF = pd.Timestamp("2025-04-11")  # day 100; labels decided by day 86 have matured
CAPS = {"max_reference_rows": 500, "max_detector_rows": 800}


def company(n: int = 4_000, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Features, rule hits, case outcomes and alerts of a small seeded company over 120 days.

    Misuse rows look odd and mostly hit a severe rule; every alerted row and a small random
    audit are reviewed three days after the transaction.
    """
    rng = np.random.default_rng(seed)
    at = START + pd.to_timedelta(np.sort(rng.uniform(0, 120, n)), "D")
    misuse = rng.random(n) < 0.05
    z = rng.normal(size=n) + 4.0 * misuse
    count_7d = pd.array(rng.integers(0, 20, n), dtype="Int32")
    count_7d[rng.random(n) < 0.05] = pd.NA
    features = pd.DataFrame(
        {
            "transaction_id": [f"T{i:06d}" for i in range(n)],
            "employee_id": [f"E{i % 40:03d}" for i in range(n)],
            "card_id": [f"C{i % 40:03d}" for i in range(n)],
            "transacted_at": at,
            "transacted_date": at.normalize(),
            "amount": rng.lognormal(10, 0.6, n).round(-2),
            "amount_robust_z_own": z,
            "txn_count_7d": count_7d,
            "is_night": rng.random(n) < 0.08,
            "category_group": rng.choice(["meals", "travel", "office"], n),
            "merchant_key": [f"M{i % 90}" for i in range(n)],
        }
    )
    severe = np.flatnonzero(misuse & (rng.random(n) < 0.9))
    noisy = rng.choice(np.flatnonzero(~misuse), 450, replace=False)
    hit_rows = np.r_[severe, noisy]
    hits = pd.DataFrame(
        {
            "transaction_id": features["transaction_id"].to_numpy()[hit_rows],
            "rule_id": ["on_leave"] * len(severe) + ["late_night"] * len(noisy),
            "rule_set": "cardwatch",
            "severity": [4] * len(severe) + [2] * len(noisy),
            "reason": "",
            "is_suppressed": False,
            "is_alert_candidate": True,
            "transacted_date": features["transacted_date"].to_numpy()[hit_rows],
            "transacted_at": at[hit_rows],
        }
    )
    audit = rng.choice(np.setdiff1d(np.arange(n), hit_rows), 40, replace=False)
    reviewed = np.r_[hit_rows, audit]
    outcomes = pd.DataFrame(
        {
            "transaction_id": features["transaction_id"].to_numpy()[reviewed],
            "alerted_by": ["legacy_rule:x"] * len(hit_rows) + ["random_audit"] * len(audit),
            "opened_at": at[reviewed] + pd.Timedelta(days=1),
            "decided_at": at[reviewed] + pd.Timedelta(days=3),
            "decision": np.where(misuse[reviewed], "confirmed", "cleared"),
            "recovered_amount": 0.0,
            "is_confirmed_misuse": misuse[reviewed],
        }
    )
    alerts = pd.DataFrame(
        {
            "transaction_id": hits["transaction_id"],
            "alerted_by": "legacy_rule:x",
            "alerted_at": hits["transacted_at"] + pd.Timedelta(hours=12),
        }
    )
    return {"features": features, "hits": hits, "outcomes": outcomes, "alerts": alerts}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return company()


def test_plan_keeps_every_label_and_caps_the_unlabelled_sample(data: dict[str, pd.DataFrame]) -> None:
    plan = plan_training(data["features"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    known = data["features"][data["features"]["transacted_at"] < CUTOFF]
    labeled = set(plan.training.labeled()["transaction_id"])
    stacked = set(plan.stacked_ids)

    assert len(plan.training.frame) == len(known)  # propensities and weights count every known row
    assert len(labeled) > 300 and labeled <= stacked
    assert len(plan.reference_ids) == CAPS["max_reference_rows"]
    assert len(plan.detector_ids) == CAPS["max_detector_rows"]
    assert stacked == labeled | set(plan.reference_ids)
    assert len(stacked) < len(known) / 2
    # nothing from the cut-off on, in time order, and the same samples on a rerun
    assert stacked <= set(known["transaction_id"])
    assert plan.stacked_ids.is_monotonic_increasing  # ids grow with time in this company
    again = plan_training(data["features"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    assert again.reference_ids.tolist() == plan.reference_ids.tolist()
    assert again.detector_ids.tolist() == plan.detector_ids.tolist()


def test_fit_learns_from_every_label_and_ranks_against_the_sample(data: dict[str, pd.DataFrame]) -> None:
    system = train_system(data["features"], data["hits"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    summary = system.summary
    model = system.hybrid.model

    assert model.mode_ == "stacked"
    assert model.n_positive_labels_ + model.n_negative_labels_ == summary["labeled"]
    assert summary["stacked_rows"] <= summary["labeled"] + CAPS["max_reference_rows"]
    assert summary["reference_rows"] == summary["n_reference_rows"] == CAPS["max_reference_rows"]
    assert len(model.rule_reference_) == CAPS["max_reference_rows"]
    assert all(len(ref) == CAPS["max_reference_rows"] for ref in model.anomaly_reference_.values())
    # the registry's fingerprint still covers every transaction known at the cut-off
    known = data["features"][data["features"]["transacted_at"] < CUTOFF]
    assert sorted(system.hybrid.train_ids) == sorted(known["transaction_id"])
    assert system.hybrid.training_window[1] < CUTOFF


def test_the_sample_size_does_not_change_what_labels_teach(data: dict[str, pd.DataFrame]) -> None:
    """With row-wise detectors the labelled rows' stacking features, and so the trees, are identical.

    (Isolation Forest scores each row alone; pyod's ECOD ranks a row within the batch it is
    scored with, see docs/models.md.)
    """
    args = (data["features"], data["hits"], data["outcomes"], data["alerts"], CUTOFF)
    sampled = train_system(*args, detectors=["iforest"], **CAPS)
    everything = train_system(*args, detectors=["iforest"], max_reference_rows=10**9, max_detector_rows=800)
    assert everything.summary["stacked_rows"] == len(sampled.hybrid.train_ids)
    assert sampled.summary["stacked_rows"] < everything.summary["stacked_rows"]

    trees = [s.hybrid.model.supervised_.booster_.booster_.model_to_string() for s in (sampled, everything)]
    assert trees[0] == trees[1]
    later = data["features"][data["features"]["transacted_at"] >= CUTOFF]
    later_hits = data["hits"][data["hits"]["transacted_at"] >= CUTOFF]
    a = sampled.score(later, later_hits, explain=False)
    b = everything.score(later, later_hits, explain=False)
    np.testing.assert_array_equal(a["score"].to_numpy(), b["score"].to_numpy())


def test_cold_start_ranks_against_a_uniform_sample_not_the_labels(data: dict[str, pd.DataFrame]) -> None:
    """The reference is a sample of every known row, not the labelled (mostly alerted) ones."""
    known = data["features"][data["features"]["transacted_at"] < CUTOFF]
    hit = isin(known["transaction_id"], data["hits"]["transaction_id"])
    system = train_system(data["features"], data["hits"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    labeled = system.hybrid.model.n_positive_labels_ + system.hybrid.model.n_negative_labels_
    assert labeled > 300 and hit.mean() < 0.25  # labels are almost all rule hits, most rows are not
    reference_hit_share = (system.hybrid.model.rule_reference_ > 0).mean()
    assert abs(reference_hit_share - hit.mean()) < 0.05

    few = data["outcomes"].iloc[:20]  # too few labels: the cold-start ranks are the score
    cold = train_system(data["features"], data["hits"], few, data["alerts"], CUTOFF, **CAPS)
    assert cold.hybrid.model.mode_ == "cold_start"
    later = data["features"][data["features"]["transacted_at"] >= CUTOFF]
    scores = cold.score(later, data["hits"], explain=False)["score"]
    assert scores.between(0, 1).all() and scores.nunique() > 10


def test_scoring_reuses_stacking_features_it_is_given(data: dict[str, pd.DataFrame]) -> None:
    """Alerts are explained with the stacking features they were scored with (no second detector pass)."""
    system = train_system(
        data["features"],
        data["hits"],
        data["outcomes"],
        data["alerts"],
        CUTOFF,
        detectors=["iforest"],
        **CAPS,
    )
    later = data["features"][data["features"]["transacted_at"] >= CUTOFF]
    later_hits = data["hits"][data["hits"]["transacted_at"] >= CUTOFF]
    stacked = system.stack(later, later_hits)
    pd.testing.assert_frame_equal(system.score(later, None, stacked=stacked), system.score(later, later_hits))
    some = np.arange(len(later)) % 7 == 0
    again = system.score(later[some], later_hits, stacked=stacked[some])
    assert again["reasons"].tolist() == system.score(later[some], later_hits)["reasons"].tolist()
    with pytest.raises(ValueError, match="stacked has"):
        system.score(later.iloc[:5], None, stacked=stacked)


def test_isin_matches_pandas() -> None:
    ids = pd.Series([f"T{i}" for i in range(50)] + [None])
    members = {f"T{i}" for i in range(0, 80, 3)}
    np.testing.assert_array_equal(isin(ids, members), ids.isin(members).to_numpy())
    np.testing.assert_array_equal(isin(ids, pd.Series(sorted(members))), ids.isin(members).to_numpy())
    np.testing.assert_array_equal(isin(pd.Series([1, 2, 3]), [2, 5]), [False, True, False])
    np.testing.assert_array_equal(isin(pd.Series([1, 2]), ["a", 2]), [False, True])  # mixed types
    np.testing.assert_array_equal(isin(ids.iloc[:2], set()), [False, False])


def warehouse(data: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for schema in ("features", "marts", "staging"):
        con.execute(f"CREATE SCHEMA {schema}")
    tables = {
        "features.fct_transaction_features": data["features"],
        "marts.fct_rule_hits": data["hits"],
        "staging.stg_casework__case_outcomes": data["outcomes"],
        "staging.stg_casework__legacy_alerts": data["alerts"],
    }
    for name, frame in tables.items():
        con.register("_frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
        con.unregister("_frame")
    return con


def test_train_reads_only_the_rows_the_plan_needs(data: dict[str, pd.DataFrame]) -> None:
    con = warehouse(data)
    cutoff = CUTOFF.to_pydatetime()
    index = scoring.read_known_index(con, cutoff)
    plan = plan_training(index, scoring.read_outcomes(con), scoring.read_alerts(con, cutoff), cutoff)
    rows = scoring.read_features_of(con, plan.feature_ids(), cutoff)
    assert sorted(rows["transaction_id"]) == sorted(plan.feature_ids())
    assert rows["transacted_at"].is_monotonic_increasing

    trained = scoring.train(con, cutoff)
    full = train_system(
        scoring.read_features(con, None, cutoff),
        scoring.read_rule_hits(con, None, cutoff),
        scoring.read_outcomes(con),
        scoring.read_alerts(con, cutoff),
        cutoff,
    )
    assert trained.summary == full.summary
    later = scoring.read_features(con, cutoff, pd.Timestamp("2025-06-01").to_pydatetime())
    later_hits = scoring.read_rule_hits(con, cutoff, pd.Timestamp("2025-06-01").to_pydatetime())
    pd.testing.assert_frame_equal(
        trained.score(later, later_hits, explain=False), full.score(later, later_hits, explain=False)
    )
    plan_rows = fit_system(plan, rows, scoring.read_rule_hits(con, None, cutoff))
    assert plan_rows.summary == trained.summary


def test_a_missing_feature_row_is_an_error(data: dict[str, pd.DataFrame]) -> None:
    plan = plan_training(data["features"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    partial = data["features"][~isin(data["features"]["transaction_id"], plan.stacked_ids[:3])]
    with pytest.raises(ValueError, match="3 transactions of the training plan"):
        fit_system(plan, partial, data["hits"])


def test_a_champion_is_unpickled_once_per_version() -> None:
    class Registry:
        def __init__(self) -> None:
            self.loads: list[str] = []

        def load(self, version: str) -> Any:
            self.loads.append(version)
            return f"system {version}"

    registry = Registry()
    cache: dict[str, Any] = {}
    for version in ("1", "1", 1, "2", "2", "1"):
        assert scoring.load_version(registry, version, cache) == f"system {version}"  # type: ignore[arg-type]
    assert registry.loads == ["1", "2", "1"]
    assert list(cache) == ["1"]


def test_detectors_never_see_outcome_features_and_the_trees_do(data: dict[str, pd.DataFrame]) -> None:
    """Features computed from review outcomes teach the trees; the unsupervised detectors rank behaviour only."""
    from ml.explain import load_parameters

    outcome_features = load_parameters("system")["outcome_features"]
    assert "merchant_recent_misuse_rate_short" in outcome_features
    rng = np.random.default_rng(5)
    features = data["features"].assign(
        merchant_confirmed_misuse_rate=rng.random(len(data["features"])),
        merchant_recent_confirmed_count_short=rng.integers(0, 3, len(data["features"])),
    )
    system = train_system(features, data["hits"], data["outcomes"], data["alerts"], CUTOFF, **CAPS)

    assert "amount_robust_z_own" in system.detector_features
    assert not set(system.detector_features) & set(outcome_features)
    assert {"merchant_confirmed_misuse_rate", "merchant_recent_confirmed_count_short"} <= set(
        system.hybrid.feature_names
    )


def test_outcome_features_name_the_marts_outcome_columns() -> None:
    """The list is kept in step with the features mart's contract: a renamed column cannot slip back."""
    from pathlib import Path

    import yaml

    from ml.explain import load_parameters

    spec = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "dbt_project/models/features/_features__models.yml").read_text(
            "utf-8"
        )
    )
    mart = next(m for m in spec["models"] if m["name"] == "fct_transaction_features")
    columns = {c["name"] for c in mart["columns"]}
    listed = set(load_parameters("system")["outcome_features"])
    from_outcomes = {c for c in columns if any(w in c for w in ("misuse", "outcome", "confirmed"))}
    assert listed <= columns
    assert from_outcomes == listed
