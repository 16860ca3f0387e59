"""The Dagster definitions load, and the asset graph is what the snapshot says (lineage changes show in review)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def current_graph() -> dict[str, list[str]]:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        key.to_user_string(): sorted(parent.to_user_string() for parent in graph.get(key).parent_keys)
        for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    }


def test_definitions_load_with_jobs_schedule_and_sensor() -> None:
    from orchestration.config import pipeline_config
    from orchestration.definitions import defs

    settings = pipeline_config()
    timezone = settings["partitions"]["timezone"]
    job = defs.resolve_job_def("cardwatch_daily")
    assert job.partitions_def is not None
    assert job.partitions_def.timezone == timezone
    schedule = defs.resolve_schedule_def("cardwatch_daily_schedule")
    at = settings["schedule"]
    assert schedule.cron_schedule == f"{at['minute']} {at['hour']} * * *"
    assert schedule.execution_timezone == timezone
    assert defs.resolve_sensor_def("landing_sensor").job_name == "cardwatch_daily"
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.name == "reconciles" and c.asset_key.path == ["raw", "card_transactions"] for c in checks)
    assert any(c.asset_key.path[0] == "staging" for c in checks), "dbt tests surface as asset checks"


def test_asset_graph_matches_snapshot() -> None:
    graph = current_graph()
    if os.environ.get("CARDWATCH_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(graph, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if not SNAPSHOT.exists():
        pytest.fail(f"no snapshot yet: run with CARDWATCH_UPDATE_SNAPSHOTS=1 to write {SNAPSHOT.name}")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    added = sorted(set(graph) - set(expected))
    removed = sorted(set(expected) - set(graph))
    changed = sorted(k for k in set(graph) & set(expected) if graph[k] != expected[k])
    assert not (added or removed or changed), (
        f"asset graph changed (added {added}, removed {removed}, lineage changed {changed}); "
        "review, then refresh with CARDWATCH_UPDATE_SNAPSHOTS=1"
    )
    # lineage that must hold whatever else changes
    assert "raw/card_transactions" in graph["staging/stg_issuer__card_transactions"]


def test_only_the_daily_steps_are_partitioned() -> None:
    """Full rebuilds (ingest, dbt, monitoring, publish) are unpartitioned, so a year's backfill plans
    one materialization per asset, not one per asset and day; detection and case handoff work per day."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    partitioned = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).partitions_def is not None
    }
    assert partitioned == {
        "ml/champion_model",
        "marts/fct_scores",
        "marts/fct_alerts",
        "monitoring/model_decisions",
        "monitoring/feature_drift_daily",
        "cases/case_handoff",
    }
