"""Monitoring tables the dashboard and the runbook read (rebuilt whole each run: they are small)."""

from __future__ import annotations

from typing import Any

import duckdb

from orchestration.scoring import ALERTS_TABLE, table_exists

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

# Precision on matured outcomes by month and by the system that raised the case: the legacy
# filters (historic cases) and Cardwatch (cases from its own alerts). Unreviewed alerts are not
# counted either way: their outcome is unknown.
PRECISION_SQL = """
CREATE OR REPLACE TABLE monitoring.precision_at_capacity AS
WITH outcomes AS (
    SELECT
        date_trunc('month', opened_at)::DATE AS month,
        CASE
            WHEN alerted_by LIKE 'legacy_tree%' THEN 'legacy_tree'
            WHEN alerted_by LIKE 'legacy%' THEN 'legacy_rules'
            WHEN alerted_by LIKE 'random_audit%' THEN 'random_audit'
            ELSE 'cardwatch'
        END AS system,
        is_decided,
        is_confirmed_misuse,
        recovered_amount
    FROM staging.stg_casework__case_outcomes
)
SELECT
    month,
    system,
    count(*) AS reviewed,
    count(*) FILTER (is_decided) AS decided,
    count(*) FILTER (is_confirmed_misuse) AS confirmed,
    coalesce(count(*) FILTER (is_confirmed_misuse) / nullif(count(*) FILTER (is_decided), 0), 0) AS precision,
    coalesce(sum(recovered_amount), 0) AS recovered_amount
FROM outcomes
GROUP BY ALL
ORDER BY month, system
"""


def refresh_monitoring(con: duckdb.DuckDBPyConnection, capacity: int) -> dict[str, Any]:
    con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    metadata: dict[str, Any] = {}
    if table_exists(con, ALERTS_TABLE):
        con.execute(ALERT_VOLUME_SQL, [capacity])
        days, over = con.execute(
            "SELECT count(*), count(*) FILTER (ranked + hard > capacity) FROM monitoring.alert_volume_daily"
        ).fetchall()[0]
        metadata.update({"alert_days": days, "days_over_capacity": over})
    con.execute(PRECISION_SQL)
    metadata["precision_rows"] = con.execute(
        "SELECT count(*) FROM monitoring.precision_at_capacity"
    ).fetchall()[0][0]
    return metadata
