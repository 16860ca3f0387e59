"""Alerts become cases in the case store; decided cases flow back into the warehouse as outcomes."""

import dagster as dg
import duckdb

from orchestration.cases import CaseStore
from orchestration.defs.ml.assets import DETECTION_KEYS, partition_days
from orchestration.defs.partitions import daily_partitions, single_run_backfill
from orchestration.defs.resources import CardwatchResource
from orchestration.feedback import export_case_outcomes
from orchestration.locking import warehouse_lock

ALERT_DETAILS_SQL = """
SELECT a.transaction_id, a.alert_date, a.route, a.score, a.amount, a.rule_ids,
       t.card_id, t.employee_id, t.transacted_at, t.merchant_name, t.merchant_category, t.merchant_region
FROM marts.fct_alerts AS a
JOIN staging.stg_issuer__card_transactions AS t USING (transaction_id)
WHERE a.alert_date BETWEEN ? AND ?
ORDER BY a.alert_date, a.route, a.rank
"""


@dg.asset(
    key=["cases", "case_handoff"],
    deps=[DETECTION_KEYS["alerts"]],
    group_name="cases",
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    kinds={"sqlite"},
)
def case_handoff(context: dg.AssetExecutionContext, cardwatch: CardwatchResource) -> dg.MaterializeResult:
    """Open one case per alerted transaction (an alert already handed off opens nothing new)."""
    from orchestration.scoring import alert_sources

    paths = cardwatch.paths()
    first, last = partition_days(context)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        alerts = con.execute(ALERT_DETAILS_SQL, [first, last]).fetchdf()
    finally:
        con.close()
    # the case records what raised it (rules, route, or the random exploration sample)
    alerts["reasons"] = [
        alert_sources(r, ids) for r, ids in zip(alerts["route"], alerts["rule_ids"], strict=True)
    ]
    store = CaseStore(paths.case_store_url).create()
    result = store.open_cases(alerts) if not alerts.empty else None
    return dg.MaterializeResult(
        metadata={
            "alerts": len(alerts),
            "cases_opened": result.opened if result else 0,
            "already_open": result.already_open if result else 0,
        }
    )


@dg.asset(
    key=["raw", "case_store_outcomes"],
    group_name="ingest",
    kinds={"duckdb"},
)
def case_store_outcomes(
    context: dg.AssetExecutionContext, cardwatch: CardwatchResource
) -> dg.MaterializeResult:
    """Decided cases from the case store, replaced in the warehouse each run (labels once they mature)."""
    paths = cardwatch.paths()
    store = CaseStore(paths.case_store_url).create()
    with warehouse_lock(paths.home, wait_seconds=600):
        rows = export_case_outcomes(store, paths.warehouse)
    return dg.MaterializeResult(metadata={"decided_cases": rows})
