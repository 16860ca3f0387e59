"""Drift injected into a later month triggers a retraining; the challenger is promoted only when it wins."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.registry import GateConfig, ModelEvaluation, ModelRegistry, promotion_gate
from orchestration import scoring
from orchestration.config import pipeline_config

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("retraining")]

FIRST, LAST = date(2025, 2, 1), date(2025, 2, 28)
DRIFT_FROM = "2025-02-12"


def settings() -> dict:
    """The shipped retraining settings, with the schedule pushed out so only drift can trigger.

    The company has only two months: features measured against the employee's own history (robust
    z-scores, 30-day sums, shares) are still warming up in January and would drift by construction, so
    the watch is kept on features that need no history.
    """
    return {
        **pipeline_config()["retraining"],
        "every_days": 365,
        "drift_features": ["amount", "txn_count_7d"],
    }


def detect(warehouse: Path, tmp_path: Path, *, drift: bool) -> tuple[dict, pd.DataFrame, ModelRegistry]:
    """Score February on a copy of the warehouse, with or without a shift injected mid-month."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    registry = ModelRegistry(tmp_path / "registry")
    con = duckdb.connect(str(copy))
    try:
        if drift:
            # From the 12th the company's spending jumps: amounts x8 and their 30-day sums with them.
            con.execute(
                "UPDATE features.fct_transaction_features "
                "SET amount = amount * 8, amount_sum_30d = amount_sum_30d * 8 WHERE transacted_date >= ?",
                [DRIFT_FROM],
            )
        summary = scoring.run_detection(con, registry, FIRST, LAST, settings())
        decisions = con.execute(
            'SELECT action, version, accepted, metrics, reason, "partition" FROM monitoring.model_decisions '
            "ORDER BY decided_at"
        ).fetchdf()
    finally:
        con.close()
    return summary, decisions, registry


def test_no_drift_no_retraining(built_warehouse: Path, tmp_path: Path) -> None:
    summary, _, _ = detect(built_warehouse, tmp_path, drift=False)
    assert [r["why"] for r in summary["retrained"]] == ["no champion yet"]


def test_drift_triggers_a_retraining_and_the_gate_decides(built_warehouse: Path, tmp_path: Path) -> None:
    summary, decisions, registry = detect(built_warehouse, tmp_path, drift=True)
    reasons = [r["why"] for r in summary["retrained"]]
    assert reasons[0] == "no champion yet"
    drifted = [r for r in summary["retrained"] if r["why"].startswith("drift:")]
    assert drifted, f"no drift retraining: {reasons}"
    assert date.fromisoformat(drifted[0]["day"]) > date.fromisoformat(DRIFT_FROM)
    assert "amount" in drifted[0]["why"]

    # every promotion decision is the gate's own verdict on the recorded evaluations
    promotions = decisions[decisions["action"] == "promote"]
    assert len(promotions) == len(summary["retrained"])
    for _, row in promotions.iloc[1:].iterrows():
        metrics = json.loads(row["metrics"])
        challenger = ModelEvaluation(**metrics["metrics"]["challenger"])
        champion = ModelEvaluation(**metrics["metrics"]["champion"])
        gate = GateConfig(
            **{
                **metrics["metrics"]["gate"],
                "high_severity_groups": tuple(metrics["metrics"]["gate"]["high_severity_groups"]),
            }
        )
        accepted, _ = promotion_gate(challenger, champion, gate)
        assert bool(row["accepted"]) == accepted
    accepted = promotions[promotions["accepted"]]
    assert registry.alias_version("champion") == str(accepted["version"].iloc[-1]), (
        "the champion is the last challenger the gate accepted"
    )
