"""Monitoring marts: alert volume against capacity, precision at capacity on matured outcomes."""

import dagster as dg
import duckdb

from ml.policy import load_policy
from orchestration.defs.ml.assets import DETECTION_KEYS
from orchestration.defs.resources import CardwatchResource
from orchestration.locking import warehouse_lock
from orchestration.monitoring import refresh_monitoring


@dg.asset(
    key=["monitoring", "alert_volume_daily"],
    deps=[DETECTION_KEYS["alerts"], dg.AssetKey(["staging", "stg_casework__case_outcomes"])],
    group_name="monitoring",
    kinds={"duckdb"},
)
def monitoring_marts(context: dg.AssetExecutionContext, cardwatch: CardwatchResource) -> dg.MaterializeResult:
    """Rebuild alert volume per day (vs capacity) and precision at capacity per month and system."""
    paths = cardwatch.paths()
    with warehouse_lock(paths.home, wait_seconds=600):
        con = duckdb.connect(str(paths.warehouse))
        try:
            metadata = refresh_monitoring(con, load_policy().daily_capacity)
        finally:
            con.close()
    return dg.MaterializeResult(metadata=metadata)
