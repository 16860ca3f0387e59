"""Monitoring tables the dashboard and the runbook read (rebuilt whole each run: they are small).

Alert volume and precision are plain SQL here; estimated recall and the threshold curves reuse
the detection review's estimators (`orchestration.monitoring_estimates`). The dashboard's summaries
of what detection writes (Cardwatch's alerts with their outcomes, the draft rules' backtests) are
built here too, after detection, so that they never lag the alerts they summarise.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ml.analysis.rule_backtest import RuleBacktestError, backtest_rule, backtestable_rules
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

# Cardwatch's alerts and their review outcomes summed per day and department (and per rule that hit
# the alerted transaction), for the dashboard's overview: the measures of the dbt models
# marts.rpt_alert_outcomes_daily and marts.rpt_rule_alert_outcomes_daily, which sum the alerts known
# when dbt runs (legacy filters, rule candidates). Detection writes Cardwatch's alerts after dbt, so
# they are summed here. An alerted transaction counts once, on the day of its first alert.
ALERT_OUTCOMES_SQL = f"""
CREATE OR REPLACE TABLE monitoring.{{table}} AS
WITH alerted AS (
    SELECT transaction_id, min(alert_date::DATE) AS alert_date
    FROM {ALERTS_TABLE}
    GROUP BY transaction_id
),
outcomes AS (
    SELECT
        transaction_id,
        bool_or(is_decided) AS is_reviewed,
        bool_or(is_decided AND is_confirmed_misuse) AS is_confirmed,
        max(coalesce(recovered_amount, 0)) AS recovered_amount
    FROM staging.stg_casework__case_outcomes
    WHERE transaction_id IN (SELECT transaction_id FROM alerted)
    GROUP BY transaction_id
),
hit_rules AS (
    SELECT DISTINCT transaction_id, rule_id
    FROM marts.fct_rule_hits
    WHERE transaction_id IN (SELECT transaction_id FROM alerted)
),
alert_outcomes AS (
    SELECT
        alerted.alert_date,
        employees.department,
        {{rule_column}}
        coalesce(outcomes.is_reviewed, false) AS is_reviewed,
        coalesce(outcomes.is_confirmed, false) AS is_confirmed,
        CASE WHEN outcomes.is_confirmed THEN abs(coalesce(transactions.amount, 0)) ELSE 0 END AS confirmed_amount,
        CASE WHEN outcomes.is_confirmed THEN coalesce(outcomes.recovered_amount, 0) ELSE 0 END AS recovered_amount
    FROM alerted
    {{rule_join}}
    LEFT JOIN staging.stg_issuer__card_transactions AS transactions USING (transaction_id)
    LEFT JOIN staging.stg_hr__employees AS employees ON employees.employee_id = transactions.employee_id
    LEFT JOIN outcomes USING (transaction_id)
)
SELECT
    'cardwatch' AS alert_source,
    alert_date,
    department,
    {{rule_column}}
    count(*) AS alert_count,
    count(*) FILTER (is_reviewed) AS reviewed_count,
    count(*) FILTER (is_confirmed) AS confirmed_count,
    sum(confirmed_amount) AS confirmed_amount,
    sum(recovered_amount) AS recovered_amount
FROM alert_outcomes
GROUP BY ALL
ORDER BY ALL
"""
ALERT_OUTCOMES_INPUTS = (
    ALERTS_TABLE,
    "staging.stg_casework__case_outcomes",
    "marts.fct_rule_hits",
    "staging.stg_issuer__card_transactions",
    "staging.stg_hr__employees",
)
ALERT_OUTCOMES_TABLES = {
    # table: (rule column, join to the rules that hit the alerted transaction)
    "alert_outcomes_daily": ("", ""),
    "rule_alert_outcomes_daily": ("rule_id,", "INNER JOIN hit_rules USING (transaction_id)"),
}
RULE_BACKTESTS_TABLE = "monitoring.rule_backtests"


def refresh_dashboard_summaries(con: duckdb.DuckDBPyConnection, capacity: float) -> dict[str, Any]:
    """Sum Cardwatch's alerts with their outcomes (once detection has written marts.fct_alerts beside
    the dbt models) and backtest every draft and shadow rule at ``capacity``, for the dashboard;
    returns row counts."""
    metadata: dict[str, Any] = {}
    con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    ready = all(table_exists(con, table) for table in ALERT_OUTCOMES_INPUTS)
    for table, (rule_column, rule_join) in ALERT_OUTCOMES_TABLES.items():
        if not ready:  # nothing scored yet: the dashboard shows the rule candidates, summed by dbt
            con.execute(f"DROP TABLE IF EXISTS monitoring.{table}")
            continue
        con.execute(ALERT_OUTCOMES_SQL.format(table=table, rule_column=rule_column, rule_join=rule_join))
        (metadata[f"{table}_rows"],) = con.execute(f"SELECT count(*) FROM monitoring.{table}").fetchone()
    metadata["rule_backtests"] = refresh_rule_backtests(con, capacity)
    return metadata


def refresh_rule_backtests(con: duckdb.DuckDBPyConnection, capacity: float) -> int:
    """Every draft and shadow rule's backtest on the whole history (`RuleBacktest.to_dict` as JSON), the
    one the dashboard's rules page shows at the same capacity; returns the rules backtested.

    A backtest reads Cardwatch's alerts (which sources raised a hit sets its review propensity), so it is
    run after detection; a rule that cannot be backtested (no data) gets no row and the page runs it live.
    """
    rows = []
    for rule_id in backtestable_rules(con):
        try:
            result = backtest_rule(con, rule_id, capacity=capacity)
        except RuleBacktestError:
            continue
        rows.append([rule_id, float(capacity), json.dumps(result.to_dict(), ensure_ascii=False)])
    con.execute(
        f"CREATE OR REPLACE TABLE {RULE_BACKTESTS_TABLE} (rule_id VARCHAR, capacity DOUBLE, backtest VARCHAR)"
    )
    if rows:
        con.executemany(f"INSERT INTO {RULE_BACKTESTS_TABLE} VALUES (?, ?, ?)", rows)
    return len(rows)


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
    metadata.update(refresh_dashboard_summaries(con, capacity))
    return metadata
