"""Monitoring tables the dashboard and the runbook read (rebuilt whole each run: they are small).

Alert volume and precision are plain SQL here; estimated recall and the threshold curves reuse
the detection review's estimators (`orchestration.monitoring_estimates`).
"""

from __future__ import annotations

from typing import Any

import duckdb

from orchestration.monitoring_estimates import refresh_estimates
from orchestration.scoring import ALERTS_TABLE, LEGACY_ALERTS_TABLE, table_exists

ALERT_VOLUME_SQL = f"""
CREATE OR REPLACE TABLE monitoring.alert_volume_daily AS
SELECT
    alert_date AS day,
    count(*) AS alerts,
    count(*) FILTER (route = 'hard') AS hard,
    count(*) FILTER (route = 'ranked') AS ranked,
    count(*) FILTER (route = 'exploration') AS exploration,
    ?::INTEGER AS capacity
FROM {ALERTS_TABLE}
GROUP BY alert_date
ORDER BY alert_date
"""

# Alerts and outcomes by month and by the system that raised them: the legacy filters (their alerts
# and historic cases), Cardwatch (its hard and ranked alerts and their cases) and the random samples
# kept apart (Cardwatch's exploration picks, the internal audit), whose hit rate is the base rate, not
# a precision. Unreviewed alerts count as alerts only: their outcome is unknown, never clean.
SYSTEM_OF_ALERTED_BY = """
CASE
    WHEN alerted_by LIKE 'legacy_tree%' THEN 'legacy_tree'
    WHEN alerted_by LIKE 'legacy%' THEN 'legacy_rules'
    WHEN alerted_by LIKE 'random_audit%' THEN 'random_audit'
    WHEN alerted_by = 'exploration' THEN 'exploration'
    ELSE 'cardwatch'
END
"""
LEGACY_ALERTS_SQL = f"""
SELECT date_trunc('month', alerted_at)::DATE AS month, {SYSTEM_OF_ALERTED_BY} AS system,
       count(DISTINCT transaction_id) AS alerts
FROM {LEGACY_ALERTS_TABLE}
GROUP BY ALL
"""
CARDWATCH_ALERTS_SQL = f"""
SELECT date_trunc('month', alert_date)::DATE AS month,
       CASE WHEN route = 'exploration' THEN 'exploration' ELSE 'cardwatch' END AS system,
       count(*) AS alerts
FROM {ALERTS_TABLE}
GROUP BY ALL
"""
PRECISION_SQL = f"""
CREATE OR REPLACE TABLE monitoring.precision_at_capacity AS
WITH alerts AS (
    {{alerts}}
),
outcomes AS (
    SELECT
        date_trunc('month', opened_at)::DATE AS month,
        {SYSTEM_OF_ALERTED_BY} AS system,
        count(*) AS reviewed,
        count(*) FILTER (is_decided) AS decided,
        count(*) FILTER (is_confirmed_misuse) AS confirmed,
        coalesce(sum(recovered_amount), 0) AS recovered_amount
    FROM staging.stg_casework__case_outcomes
    GROUP BY ALL
)
SELECT
    month,
    system,
    alerts.alerts,
    coalesce(outcomes.reviewed, 0) AS reviewed,
    coalesce(outcomes.decided, 0) AS decided,
    coalesce(outcomes.confirmed, 0) AS confirmed,
    coalesce(outcomes.confirmed / nullif(outcomes.decided, 0), 0) AS precision,
    coalesce(outcomes.recovered_amount, 0) AS recovered_amount
FROM outcomes
FULL JOIN alerts USING (month, system)
ORDER BY month, system
"""


def refresh_monitoring(
    con: duckdb.DuckDBPyConnection,
    capacity: int,
    params: dict[str, Any] | None = None,
    as_of: Any | None = None,
) -> dict[str, Any]:
    """Rebuild every monitoring table; returns row counts and headline figures as metadata.

    ``params`` are the analysis parameters (default `analysis_parameters()`) and ``as_of`` the
    time labels mature by (default: the warehouse's latest transaction or decision), for the
    estimated recall and threshold curves.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    metadata: dict[str, Any] = {}
    if table_exists(con, ALERTS_TABLE):
        con.execute(ALERT_VOLUME_SQL, [capacity])
        days, over = con.execute(
            "SELECT count(*), count(*) FILTER (ranked + hard > capacity) FROM monitoring.alert_volume_daily"
        ).fetchall()[0]
        metadata.update({"alert_days": days, "days_over_capacity": over})
    alerts = [
        sql
        for sql, table in ((LEGACY_ALERTS_SQL, LEGACY_ALERTS_TABLE), (CARDWATCH_ALERTS_SQL, ALERTS_TABLE))
        if table_exists(con, table)
    ]
    empty = "SELECT NULL::DATE AS month, NULL::VARCHAR AS system, NULL::BIGINT AS alerts WHERE false"
    con.execute(PRECISION_SQL.format(alerts=" UNION ALL ".join(alerts) or empty))
    metadata["precision_rows"] = con.execute(
        "SELECT count(*) FROM monitoring.precision_at_capacity"
    ).fetchall()[0][0]
    metadata.update(refresh_estimates(con, params, as_of))
    return metadata
