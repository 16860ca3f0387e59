"""The read-only snapshot the dashboard reads, swapped in atomically after a successful run."""

import dagster as dg

from orchestration.defs.resources import CardwatchResource
from orchestration.locking import warehouse_lock
from orchestration.publish import publish_snapshot


@dg.asset(
    group_name="publish",
    deps=[
        dg.AssetKey(["marts", "dim_rules"]),
        dg.AssetKey(["marts", "fct_rule_hits"]),
        dg.AssetKey(["marts", "fct_alerts"]),
        dg.AssetKey(["cases", "case_handoff"]),
        dg.AssetKey(["monitoring", "alert_volume_daily"]),
    ],
    kinds={"duckdb"},
)
def published_snapshot(
    context: dg.AssetExecutionContext, cardwatch: CardwatchResource
) -> dg.MaterializeResult:
    """Copy the warehouse to published/snapshot.duckdb and swap it in with one rename."""
    paths = cardwatch.paths()
    with warehouse_lock(paths.home, wait_seconds=600):
        result = publish_snapshot(paths.warehouse, paths.snapshot)
    return dg.MaterializeResult(metadata=result)
