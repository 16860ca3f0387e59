"""Monitoring marts: alert volume against capacity, precision at capacity on matured outcomes,
estimated recall per month and system, and the threshold curves."""

import dagster as dg
import duckdb

from orchestration.defs.ml.assets import DETECTION_KEYS
from orchestration.defs.resources import CardwatchResource
from orchestration.locking import warehouse_lock


@dg.asset(
    key=["monitoring", "alert_volume_daily"],
    deps=[DETECTION_KEYS["alerts"], dg.AssetKey(["staging", "stg_casework__case_outcomes"])],
    group_name="monitoring",
    kinds={"duckdb"},
)
def monitoring_marts(context: dg.AssetExecutionContext, cardwatch: CardwatchResource) -> dg.MaterializeResult:
    """Rebuild alert volume per day (vs capacity), precision at capacity per month and system, and
    the estimates: recall per month (Cardwatch from its exploration sample, the legacy filters from
    the internal audit) and the threshold curves, in monitoring.estimated_recall and
    monitoring.threshold_curve."""
    from ml.policy import load_policy
    from orchestration.monitoring import refresh_monitoring

    paths = cardwatch.paths()
    with warehouse_lock(paths.home, wait_seconds=600):
        con = duckdb.connect(str(paths.warehouse))
        try:
            metadata = refresh_monitoring(con, load_policy().daily_capacity)
        finally:
            con.close()
    return dg.MaterializeResult(metadata=metadata)
