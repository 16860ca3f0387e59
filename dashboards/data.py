"""Every read and write the dashboard makes, in one place.

Reads come from the published snapshot (DuckDB, opened read-only and reopened whenever the pipeline
swaps in a new file) and from the case store; the only writes are case-store actions. Snapshot reads
are cached per snapshot file, so a new snapshot is picked up on the next rerun. Case-store reads are not
cached: a reviewer acts on the version just read, and the store's optimistic locking relies on that.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pandas as pd
import streamlit as st
import yaml
from sqlalchemy.exc import SQLAlchemyError

from orchestration.cases import Actor, Case, CaseStore, RoleBook
from orchestration.cases.templates import render_explanation_request
from orchestration.settings import REPO_ROOT, Paths

TTL_SECONDS = 300
POLICY_FILE = REPO_ROOT / "ml" / "config" / "policy.yml"
DASHBOARD_CONFIG = yaml.safe_load((Path(__file__).with_name("config.yml")).read_text(encoding="utf-8"))
# cases the queue lists at once (dashboards/config.yml)
QUEUE_ROWS = int(DASHBOARD_CONFIG["queue_rows"])
AUDIT_ROWS = int(DASHBOARD_CONFIG["audit_rows"])
SYSTEMS = ("cardwatch", "legacy")
CAPACITY_PARAMETER = "policy.daily_capacity"
MIN_SCORE_PARAMETER = "policy.min_score"
SUPPRESSION_PREFIX = "suppression:"

# The tables the pipeline adds after scoring; pages say "not computed yet" while they are absent.
SCORES = "marts.fct_scores"
ALERTS = "marts.fct_alerts"
ALERT_VOLUME = "monitoring.alert_volume_daily"
FEATURE_DRIFT = "monitoring.feature_drift_daily"
MODEL_DECISIONS = "monitoring.model_decisions"
PRECISION_AT_CAPACITY = "monitoring.precision_at_capacity"
ESTIMATED_RECALL = "monitoring.estimated_recall"
THRESHOLD_CURVE = "monitoring.threshold_curve"
CHECK_RESULTS = "monitoring.check_results"

# Summaries the pipeline builds for the overview and rules pages (docs/dashboard.md): dbt sums what is in the
# warehouse when it runs, the monitoring step what detection writes after it (Cardwatch's alerts, the
# backtests that read them). A page aggregates on the fly, to the same figures, while its summary is absent.
ALERT_OUTCOMES = "marts.rpt_alert_outcomes_daily"
RULE_ALERT_OUTCOMES = "marts.rpt_rule_alert_outcomes_daily"
CARDWATCH_ALERT_OUTCOMES = "monitoring.alert_outcomes_daily"
CARDWATCH_RULE_ALERT_OUTCOMES = "monitoring.rule_alert_outcomes_daily"
RULE_OVERLAP = "marts.rpt_rule_overlap"
TRIAL_RULES = "marts.rpt_trial_rule_outcomes"
RULE_BACKTESTS = "monitoring.rule_backtests"
# The columns of `ml.analysis.rule_backtest.RuleBacktest.overlap`, kept when a stored backtest has no row there.
BACKTEST_OVERLAP_COLUMNS = (
    "rule_id",
    "name_en",
    "name_ko",
    "rule_alerts",
    "shared",
    "jaccard",
    "share_of_hits",
    "share_of_rule",
)


# -- the snapshot -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot file; a new file (inode or mtime) is a new snapshot."""

    path: str
    mtime_ns: int
    inode: int


def paths() -> Paths:
    return Paths.from_env()


def current_snapshot() -> Snapshot | None:
    """The snapshot now published, or None when nothing has been published yet."""
    path = paths().snapshot
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return Snapshot(str(path), stat.st_mtime_ns, stat.st_ino)


def snapshot_location() -> Path:
    return paths().snapshot


@dataclass(frozen=True)
class _Attached:
    connection: duckdb.DuckDBPyConnection
    catalog: str


def _close(attached: _Attached) -> None:
    attached.connection.close()


@st.cache_resource(max_entries=2, on_release=_close, show_spinner=False)
def _connection(snapshot: Snapshot) -> _Attached:
    """A read-only attachment of one snapshot file, under the catalog name its views were built with."""
    connection = duckdb.connect(":memory:")
    catalogs = _view_catalogs(snapshot.path)
    catalog = catalogs[0] if len(catalogs) == 1 else Path(snapshot.path).stem
    connection.execute(f"ATTACH '{_quote(snapshot.path)}' AS \"{catalog}\" (READ_ONLY)")
    return _Attached(connection, catalog)


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _view_catalogs(path: str) -> list[str]:
    """Catalog names the snapshot's views were written against (the build warehouse's name)."""
    probe = duckdb.connect(":memory:")
    try:
        probe.execute(f"ATTACH '{_quote(path)}' AS probe (READ_ONLY)")
        found = probe.execute(
            'select distinct regexp_extract(sql, \'from "([^"]+)"\\."\', 1) '
            "from duckdb_views() where database_name = 'probe' and not internal"
        ).fetchall()
    finally:
        probe.close()
    return sorted({row[0] for row in found if row[0] and row[0] != "probe"})


def _query(snapshot: Snapshot, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run one query on its own cursor."""
    attached = _connection(snapshot)
    cursor = attached.connection.cursor()
    try:
        cursor.execute(f'USE "{attached.catalog}"')
        return cursor.execute(sql, params or []).df()
    finally:
        cursor.close()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def tables(snapshot: Snapshot) -> frozenset[str]:
    """Every schema.table (and view) in the snapshot."""
    frame = _query(
        snapshot,
        "select table_schema || '.' || table_name as name from information_schema.tables "
        "where table_catalog = current_database()",
    )
    return frozenset(frame["name"])


def has(snapshot: Snapshot, table: str) -> bool:
    return table in tables(snapshot)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def published_at(snapshot: Snapshot) -> datetime | None:
    if not has(snapshot, "meta.published"):
        return None
    frame = _query(snapshot, "select max(published_at) as at from meta.published")
    value = frame["at"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()


# -- lookups for filters ----------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def departments(snapshot: Snapshot) -> list[str]:
    frame = _query(
        snapshot,
        "select distinct department from staging.stg_hr__employees where department is not null order by 1",
    )
    return frame["department"].tolist()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rule_names(snapshot: Snapshot) -> pd.DataFrame:
    """rule_id, name_en, name_ko, rule_set, rule_status: one row per rule."""
    return _query(
        snapshot,
        "select rule_id, name_en, name_ko, rule_set, rule_status from marts.dim_rules order by rule_set, rule_id",
    )


# -- overview: alerts of one system, their outcomes -------------------------------------------------


def _alert_source(snapshot: Snapshot, system: str) -> str:
    if system == "legacy":
        return (
            "select transaction_id, min(cast(alerted_at as date)) as alert_date "
            "from staging.stg_casework__legacy_alerts group by transaction_id"
        )
    if has(snapshot, ALERTS):
        return f"select transaction_id, min(cast(alert_date as date)) as alert_date from {ALERTS} group by transaction_id"
    return (
        "select transaction_id, min(transacted_date) as alert_date "
        "from marts.fct_alert_candidates group by transaction_id"
    )


def uses_candidates(snapshot: Snapshot, system: str) -> bool:
    """True when Cardwatch's alerts are not computed yet and rule candidates stand in for them."""
    return system == "cardwatch" and not has(snapshot, ALERTS)


def _alerts_sql(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> tuple[str, list[Any]]:
    """One row per alerted transaction of `system` in [start, end], with its outcome."""
    where = ["alerts.alert_date between ? and ?"]
    params: list[Any] = [start, end]
    if department:
        where.append("employees.department = ?")
        params.append(department)
    if rule_id:
        where.append(
            "exists (select 1 from marts.fct_rule_hits as hits "
            "where hits.transaction_id = alerts.transaction_id and hits.rule_id = ?)"
        )
        params.append(rule_id)
    sql = f"""
        with
        alerts as ({_alert_source(snapshot, system)}),
        outcomes as (
            select
                transaction_id,
                bool_or(is_decided) as is_reviewed,
                bool_or(is_decided and is_confirmed_misuse) as is_confirmed,
                max(coalesce(recovered_amount, 0)) as recovered_amount
            from staging.stg_casework__case_outcomes
            group by transaction_id
        ),
        transactions as (
            select transaction_id, any_value(employee_id) as employee_id, any_value(amount) as amount
            from staging.stg_issuer__card_transactions
            group by transaction_id
        ),
        final as (
            select
                alerts.transaction_id,
                alerts.alert_date,
                abs(coalesce(transactions.amount, 0)) as amount,
                coalesce(outcomes.is_reviewed, false) as is_reviewed,
                coalesce(outcomes.is_confirmed, false) as is_confirmed,
                case when outcomes.is_confirmed then abs(coalesce(transactions.amount, 0)) else 0 end
                    as confirmed_amount,
                case when outcomes.is_confirmed then coalesce(outcomes.recovered_amount, 0) else 0 end
                    as recovered_amount
            from alerts
            left join transactions on transactions.transaction_id = alerts.transaction_id
            left join staging.stg_hr__employees as employees on employees.employee_id = transactions.employee_id
            left join outcomes on outcomes.transaction_id = alerts.transaction_id
            where {" and ".join(where)}
        )
    """
    return sql, params


def _summary_tables(snapshot: Snapshot, system: str) -> tuple[str, str, str]:
    """alert_source, per-day table and per-day-and-rule table of the summaries that hold `system`'s alerts."""
    if system == "legacy":
        return "legacy", ALERT_OUTCOMES, RULE_ALERT_OUTCOMES
    if has(snapshot, ALERTS):
        return "cardwatch", CARDWATCH_ALERT_OUTCOMES, CARDWATCH_RULE_ALERT_OUTCOMES
    return "rule_candidates", ALERT_OUTCOMES, RULE_ALERT_OUTCOMES


def _daily_outcomes_sql(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> tuple[str, list[Any]]:
    """alert_date, alerts, reviewed, confirmed, confirmed_amount, recovered_amount: one row per day of
    [start, end] with an alert of `system` for the filters, read from the pipeline's summary (a few rows
    per day), else aggregated from every alert on the fly."""
    source, daily, per_rule = _summary_tables(snapshot, system)
    table = per_rule if rule_id else daily
    if not has(snapshot, table):
        sql, params = _alerts_sql(snapshot, system, start, end, department, rule_id)
        return (
            sql
            + """
            select
                alert_date,
                count(*) as alerts,
                count(*) filter (where is_reviewed) as reviewed,
                count(*) filter (where is_confirmed) as confirmed,
                sum(confirmed_amount) as confirmed_amount,
                sum(recovered_amount) as recovered_amount
            from final
            group by alert_date
            """,
            params,
        )
    where = ["alert_source = ?", "alert_date between ? and ?"]
    params = [source, start, end]
    if department:
        where.append("department = ?")
        params.append(department)
    if rule_id:
        where.append("rule_id = ?")
        params.append(rule_id)
    sql = f"""
        select
            alert_date,
            cast(sum(alert_count) as bigint) as alerts,
            cast(sum(reviewed_count) as bigint) as reviewed,
            cast(sum(confirmed_count) as bigint) as confirmed,
            sum(confirmed_amount) as confirmed_amount,
            sum(recovered_amount) as recovered_amount
        from {table}
        where {" and ".join(where)}
        group by alert_date
    """
    return sql, params


def _alert_dates_sql(snapshot: Snapshot, system: str) -> tuple[str, list[Any]]:
    """alert_date of `system`'s alerts (one row per alerted transaction, or per summary row)."""
    source, daily, _ = _summary_tables(snapshot, system)
    if has(snapshot, daily):
        return f"select alert_date from {daily} where alert_source = ?", [source]
    return f"select alert_date from ({_alert_source(snapshot, system)})", []


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def alert_period(snapshot: Snapshot) -> tuple[date, date] | None:
    """First and last alert date over both systems (the default period)."""
    sources = [_alert_dates_sql(snapshot, system) for system in SYSTEMS]
    union = " union all ".join(f"({sql})" for sql, _ in sources)
    params = [param for _, system_params in sources for param in system_params]
    frame = _query(
        snapshot, f"select min(alert_date) as first, max(alert_date) as last from ({union})", params
    )
    first, last = frame["first"].iloc[0], frame["last"].iloc[0]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def overview_totals(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> dict[str, float]:
    """Alerts, alert days, reviewed, confirmed and amounts for the filters."""
    sql, params = _daily_outcomes_sql(snapshot, system, start, end, department, rule_id)
    frame = _query(
        snapshot,
        f"""
        with daily as ({sql})
        select
            coalesce(sum(alerts), 0) as alerts,
            coalesce(sum(reviewed), 0) as reviewed,
            coalesce(sum(confirmed), 0) as confirmed,
            coalesce(sum(confirmed_amount), 0) as confirmed_amount,
            coalesce(sum(recovered_amount), 0) as recovered_amount
        from daily
        """,
        params,
    )
    totals = {key: float(value) for key, value in frame.iloc[0].items()}
    days = (end - start).days + 1
    totals["days"] = float(days)
    totals["alerts_per_day"] = totals["alerts"] / days if days > 0 else 0.0
    totals["hit_rate"] = totals["confirmed"] / totals["reviewed"] if totals["reviewed"] else math.nan
    return totals


def alerts_per_day(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> pd.DataFrame:
    """day, alerts, capacity: every day of the period, zero when no alert; capacity as recorded by the
    pipeline, else the capacity in force."""
    frame = _alerts_per_day(snapshot, system, start, end, department, rule_id).copy()
    frame["capacity"] = frame["capacity"].ffill().fillna(configured_capacity())
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _alerts_per_day(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> pd.DataFrame:
    """day, alerts, capacity: every day of the period, zero when no alert."""
    sql, params = _daily_outcomes_sql(snapshot, system, start, end, department, rule_id)
    frame = _query(
        snapshot,
        f"""
        with
        daily as ({sql}),
        days as (select cast(range as date) as day from range(cast(? as date), cast(? as date) + interval 1 day, interval 1 day))
        select days.day, coalesce(daily.alerts, 0) as alerts
        from days left join daily on daily.alert_date = days.day
        order by days.day
        """,
        [*params, start, end],
    )
    capacity = daily_capacity(snapshot)
    frame["capacity"] = (
        capacity.reindex(pd.to_datetime(frame["day"])).to_numpy() if len(capacity) else math.nan
    )
    frame["capacity"] = pd.to_numeric(frame["capacity"], errors="coerce")
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def daily_capacity(snapshot: Snapshot) -> pd.Series:
    """Capacity per day as the pipeline recorded it (empty until alert_volume_daily exists)."""
    if not has(snapshot, ALERT_VOLUME):
        return pd.Series(dtype=float)
    frame = _query(
        snapshot, f"select cast(day as date) as day, max(capacity) as capacity from {ALERT_VOLUME} group by 1"
    )
    return pd.Series(frame["capacity"].astype(float).to_numpy(), index=pd.to_datetime(frame["day"]))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def monthly_outcomes(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> pd.DataFrame:
    """month, alerts, reviewed, confirmed, hit_rate, confirmed_amount, recovered_amount."""
    sql, params = _daily_outcomes_sql(snapshot, system, start, end, department, rule_id)
    frame = _query(
        snapshot,
        f"""
        with daily as ({sql})
        select
            cast(date_trunc('month', alert_date) as date) as month,
            cast(sum(alerts) as bigint) as alerts,
            cast(sum(reviewed) as bigint) as reviewed,
            cast(sum(confirmed) as bigint) as confirmed,
            coalesce(sum(confirmed_amount), 0) as confirmed_amount,
            coalesce(sum(recovered_amount), 0) as recovered_amount
        from daily
        group by 1
        order by 1
        """,
        params,
    )
    frame["hit_rate"] = frame["confirmed"] / frame["reviewed"].where(frame["reviewed"] > 0)
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def estimated_missed(
    snapshot: Snapshot, system: str, start: date, end: date, department: str | None, rule_id: str | None
) -> dict[str, float] | None:
    """Recall estimate for the period and the misuse it implies was missed, with its interval.

    Missed = confirmed x (1 / recall - 1) per month; the interval comes from the recall interval.
    None while monitoring.estimated_recall is not computed or has no month in the period.
    """
    if not has(snapshot, ESTIMATED_RECALL):
        return None
    recall = _query(
        snapshot,
        f"select cast(date_trunc('month', cast(month as date)) as date) as month, estimate, low, high "
        f"from {ESTIMATED_RECALL} where system = ? and cast(month as date) between date_trunc('month', cast(? as date)) and ?",
        [system, start, end],
    )
    if recall.empty:
        return None
    months = monthly_outcomes(snapshot, system, start, end, department, rule_id).copy()
    months["month"] = pd.to_datetime(months["month"])
    recall["month"] = pd.to_datetime(recall["month"])
    merged = recall.merge(months[["month", "confirmed"]], on="month", how="left").fillna({"confirmed": 0})

    def missed(share: pd.Series) -> float:
        share = share.clip(lower=1e-9, upper=1.0)
        return float((merged["confirmed"] * (1 / share - 1)).sum())

    return {
        "recall": float(merged["estimate"].mean()),
        "recall_low": float(merged["low"].mean()),
        "recall_high": float(merged["high"].mean()),
        "missed": missed(merged["estimate"]),
        "missed_low": missed(merged["high"]),
        "missed_high": missed(merged["low"]),
    }


def configured_capacity() -> float:
    """The daily review capacity in force: the latest applied change, else the policy file's default."""
    applied = applied_thresholds()
    if CAPACITY_PARAMETER in applied:
        return float(applied[CAPACITY_PARAMETER])
    return float(_policy_defaults().get("daily_capacity", 40))


def configured_min_score() -> float:
    applied = applied_thresholds()
    if MIN_SCORE_PARAMETER in applied:
        return float(applied[MIN_SCORE_PARAMETER])
    return float(_policy_defaults().get("min_score", 0.0))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _policy_defaults() -> dict[str, Any]:
    try:
        document = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    parameters = document.get("parameters") or {}
    return {name: spec.get("value") for name, spec in parameters.items() if isinstance(spec, dict)}


def policy_defaults() -> dict[str, Any]:
    """Parameter values of ml/config/policy.yml (review cost, capacity, ...)."""
    return _policy_defaults()


# -- rules ------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rule_scorecard(snapshot: Snapshot, rule_set: str | None) -> pd.DataFrame:
    where, params = ("where rule_set = ?", [rule_set]) if rule_set else ("", [])
    return _query(
        snapshot,
        f"""
        select
            rule_id, name_en, name_ko, rule_set, rule_status, severity,
            hit_count, suppressed_hit_count, alert_candidate_count,
            reviewed_hit_count, confirmed_hit_count, confirmed_share_of_reviewed,
            confirmed_amount, recovered_amount
        from marts.dim_rules {where}
        order by rule_set, hit_count desc, rule_id
        """,
        params,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rule_catalog(snapshot: Snapshot) -> pd.DataFrame:
    return _query(
        snapshot,
        """
        select rule_id, name_en, name_ko, rule_set, rule_status, is_active, is_alerting, missing_sources,
               severity, typology, owner, rule_version, rule_description
        from marts.dim_rules order by rule_set, rule_id
        """,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rule_overlap(snapshot: Snapshot, rule_set: str | None) -> pd.DataFrame:
    """rule_a, rule_b, transactions: transactions hit by both rules (the diagonal is each rule's own)."""
    if has(snapshot, RULE_OVERLAP):
        where, params = (
            ("where rule_set = ? and overlapping_rule_set = ?", [rule_set, rule_set])
            if rule_set
            else ("", [])
        )
        return _query(
            snapshot,
            f"""
            select rule_id as rule_a, overlapping_rule_id as rule_b, shared_transaction_count as transactions
            from {RULE_OVERLAP} {where}
            order by 1, 2
            """,
            params,
        )
    where, params = ("where rule_set = ?", [rule_set]) if rule_set else ("", [])
    return _query(
        snapshot,
        f"""
        with hits as (select distinct rule_id, transaction_id from marts.fct_rule_hits {where})
        select left_hits.rule_id as rule_a, right_hits.rule_id as rule_b, count(*) as transactions
        from hits as left_hits
        join hits as right_hits on right_hits.transaction_id = left_hits.transaction_id
        group by 1, 2
        order by 1, 2
        """,
        params,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def suppressions(snapshot: Snapshot, today: date) -> pd.DataFrame:
    """The allowlist in force in this snapshot (seeds.rule_suppressions)."""
    if not has(snapshot, "seeds.rule_suppressions"):
        return pd.DataFrame(
            columns=[
                "suppression_id",
                "rule_id",
                "employee_id",
                "merchant_id",
                "reason",
                "owner",
                "valid_from",
                "expires_on",
                "is_expired",
            ]
        )
    return _query(
        snapshot,
        """
        select suppression_id, rule_id, employee_id, merchant_id, reason, owner,
               cast(valid_from as date) as valid_from, cast(expires_on as date) as expires_on,
               coalesce(cast(expires_on as date) < ?, false) as is_expired
        from seeds.rule_suppressions order by suppression_id
        """,
        [today],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def draft_rule_backtest(snapshot: Snapshot) -> pd.DataFrame:
    """Draft and shadow rules on history: hits, reviewed and confirmed among them, and new catches."""
    if has(snapshot, TRIAL_RULES):
        return _query(
            snapshot,
            f"""
            select rule_id, name_en, name_ko, rule_status, hit_count as hits, hits_per_day, hit_amount,
                   reviewed_count as reviewed, confirmed_count as confirmed,
                   new_transaction_count as new_transactions, new_confirmed_count as new_confirmed
            from {TRIAL_RULES}
            order by rule_id
            """,
        )
    return _query(
        snapshot,
        """
        with
        trial_hits as (
            select rule_id, transaction_id, any_value(transacted_date) as transacted_date,
                   any_value(abs(amount)) as amount
            from marts.fct_rule_hits
            where rule_status in ('draft', 'shadow')
            group by rule_id, transaction_id
        ),
        alerted as (select distinct transaction_id from marts.fct_rule_hits where is_alert_candidate),
        outcomes as (
            select transaction_id, bool_or(is_decided) as is_reviewed,
                   bool_or(is_decided and is_confirmed_misuse) as is_confirmed
            from staging.stg_casework__case_outcomes group by transaction_id
        ),
        final as (
            select
                trial_hits.rule_id,
                count(*) as hits,
                count(*) / greatest(count(distinct trial_hits.transacted_date), 1) as hits_per_day,
                sum(trial_hits.amount) as hit_amount,
                count(*) filter (where outcomes.is_reviewed) as reviewed,
                count(*) filter (where outcomes.is_confirmed) as confirmed,
                count(*) filter (where alerted.transaction_id is null) as new_transactions,
                count(*) filter (where outcomes.is_confirmed and alerted.transaction_id is null) as new_confirmed
            from trial_hits
            left join alerted on alerted.transaction_id = trial_hits.transaction_id
            left join outcomes on outcomes.transaction_id = trial_hits.transaction_id
            group by trial_hits.rule_id
        )
        select dim_rules.rule_id, dim_rules.name_en, dim_rules.name_ko, dim_rules.rule_status,
               coalesce(final.hits, 0) as hits, coalesce(final.hits_per_day, 0) as hits_per_day,
               coalesce(final.hit_amount, 0) as hit_amount, coalesce(final.reviewed, 0) as reviewed,
               coalesce(final.confirmed, 0) as confirmed, coalesce(final.new_transactions, 0) as new_transactions,
               coalesce(final.new_confirmed, 0) as new_confirmed
        from marts.dim_rules
        left join final on final.rule_id = dim_rules.rule_id
        where dim_rules.rule_status in ('draft', 'shadow')
        order by dim_rules.rule_id
        """,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rule_backtest(snapshot: Snapshot, rule_id: str, capacity: float) -> Any:
    """One draft or shadow rule's backtest (`ml.analysis.rule_backtest.RuleBacktest`): alerts added,
    precision on reviewed hits, overlap, load against `capacity`; the same function as
    `cardwatch rules backtest`. The pipeline's monitoring step stores every draft and shadow rule's
    backtest at the policy's capacity; it is read when `capacity` is that one, else run here."""
    stored = _stored_backtest(snapshot, rule_id, capacity)
    if stored is not None:
        return stored
    # Imported here: the estimators pull in scipy, which the other pages need not wait for.
    from ml.analysis.rule_backtest import backtest_rule

    attached = _connection(snapshot)
    cursor = attached.connection.cursor()
    try:
        cursor.execute(f'USE "{attached.catalog}"')
        return backtest_rule(cursor, rule_id, capacity=capacity)
    finally:
        cursor.close()


def _stored_backtest(snapshot: Snapshot, rule_id: str, capacity: float) -> SimpleNamespace | None:
    """The stored backtest of `rule_id` at `capacity`, with the attributes of a `RuleBacktest`; None when
    the pipeline stored none."""
    if not has(snapshot, RULE_BACKTESTS):
        return None
    frame = _query(
        snapshot,
        f"select backtest from {RULE_BACKTESTS} where rule_id = ? and capacity = ? limit 1",
        [rule_id, float(capacity)],
    )
    if frame.empty:
        return None
    return backtest_from_dict(json.loads(frame["backtest"].iloc[0]))


def backtest_from_dict(document: dict[str, Any]) -> SimpleNamespace:
    """A `RuleBacktest.to_dict()` read back: dates as dates, missing figures as NaN, tables as frames."""

    def numeric(frame: pd.DataFrame, keep: tuple[str, ...]) -> pd.DataFrame:
        for column in frame.columns.difference(keep):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        return frame

    def day(value: str | None) -> date | None:
        return None if value is None else date.fromisoformat(value)

    precision = numeric(pd.DataFrame.from_records(document["precision"]), ("subset",)).set_index("subset")
    overlap = pd.DataFrame.from_records(document["overlap"], columns=list(BACKTEST_OVERLAP_COLUMNS))
    overlap = numeric(overlap, ("rule_id", "name_en", "name_ko"))
    daily = pd.DataFrame.from_records(
        document["daily"], columns=["day", "existing", "added", "total", "capacity"]
    )
    daily = numeric(daily, ("day",)).set_index(pd.DatetimeIndex(pd.to_datetime(daily["day"]), name="day"))
    figures = {
        key: math.nan if value is None else value
        for key, value in document.items()
        if key not in ("rule", "start", "end", "precision", "overlap", "load", "daily")
    }
    return SimpleNamespace(
        **figures,
        rule=document["rule"],
        start=day(document["start"]),
        end=day(document["end"]),
        precision=precision,
        overlap=overlap,
        load={key: math.nan if value is None else value for key, value in document["load"].items()},
        daily=daily.drop(columns="day"),
    )


# -- thresholds -------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def threshold_curve(snapshot: Snapshot) -> pd.DataFrame | None:
    if not has(snapshot, THRESHOLD_CURVE):
        return None
    return _query(
        snapshot,
        f"select system, threshold, alerts_per_day, precision, recall, net_value_krw from {THRESHOLD_CURVE} "
        "order by system, threshold",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def outcome_economics(snapshot: Snapshot) -> dict[str, float]:
    """Average amount of a confirmed misuse and the share of it recovered, from decided cases."""
    frame = _query(
        snapshot,
        """
        with confirmed as (
            select outcomes.transaction_id, max(abs(transactions.amount)) as amount,
                   max(coalesce(outcomes.recovered_amount, 0)) as recovered
            from staging.stg_casework__case_outcomes as outcomes
            join staging.stg_issuer__card_transactions as transactions
                on transactions.transaction_id = outcomes.transaction_id
            where outcomes.is_decided and outcomes.is_confirmed_misuse
            group by outcomes.transaction_id
        )
        select count(*) as cases, avg(amount) as average_amount, sum(recovered) / nullif(sum(amount), 0) as recovery_rate
        from confirmed
        """,
    )
    row = frame.iloc[0]
    average = float(row["average_amount"]) if pd.notna(row["average_amount"]) else 300000.0
    rate = float(row["recovery_rate"]) if pd.notna(row["recovery_rate"]) else 1.0
    return {
        "cases": float(row["cases"]),
        "average_amount": average,
        "recovery_rate": min(max(rate, 0.0), 1.0),
    }


def operating_point(
    curve: pd.DataFrame,
    system: str,
    *,
    capacity: float | None = None,
    threshold: float | None = None,
    review_cost: float,
    average_amount: float,
    recovery_rate: float,
) -> dict[str, float] | None:
    """The point of `system`'s curve at a capacity (lowest threshold within it) or at a threshold.

    Net value per day = alerts x (precision x average amount x recovery rate - review cost).
    """
    rows = curve[curve["system"] == system].sort_values("threshold")
    if rows.empty:
        return None
    if threshold is not None:
        chosen = rows[rows["threshold"] >= threshold].head(1)
        if chosen.empty:
            chosen = rows.tail(1)
    else:
        within = rows[rows["alerts_per_day"] <= (capacity if capacity is not None else math.inf)]
        chosen = within.head(1) if not within.empty else rows.tail(1)
    point = {key: float(value) for key, value in chosen.iloc[0].drop("system").items()}
    point["net_value"] = net_value(
        point["alerts_per_day"], point["precision"], review_cost, average_amount, recovery_rate
    )
    return point


def net_value(
    alerts: float, precision: float, review_cost: float, average_amount: float, recovery_rate: float
) -> float:
    return alerts * (precision * average_amount * recovery_rate - review_cost)


# -- models -----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def model_decisions(snapshot: Snapshot) -> pd.DataFrame | None:
    if not has(snapshot, MODEL_DECISIONS):
        return None
    return _query(
        snapshot,
        f"select decided_at, action, version, alias, metrics, reason from {MODEL_DECISIONS} order by decided_at",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def model_metrics(snapshot: Snapshot) -> pd.DataFrame | None:
    """decided_at, version, alias, metric, value: the metrics JSON of every decision, long."""
    decisions = model_decisions(snapshot)
    if decisions is None:
        return None
    records = []
    for row in decisions.itertuples(index=False):
        try:
            metrics = json.loads(row.metrics) if isinstance(row.metrics, str) else dict(row.metrics or {})
        except (TypeError, ValueError):
            metrics = {}
        for metric, value in metrics.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                records.append(
                    {
                        "decided_at": row.decided_at,
                        "version": str(row.version),
                        "alias": row.alias,
                        "metric": metric,
                        "value": float(value),
                    }
                )
    return pd.DataFrame.from_records(records, columns=["decided_at", "version", "alias", "metric", "value"])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def feature_drift(snapshot: Snapshot, features: tuple[str, ...]) -> pd.DataFrame | None:
    if not has(snapshot, FEATURE_DRIFT):
        return None
    if not features:
        return pd.DataFrame(columns=["day", "feature", "psi"])
    marks = ", ".join("?" for _ in features)
    return _query(
        snapshot,
        f"select cast(day as date) as day, feature, psi from {FEATURE_DRIFT} where feature in ({marks}) order by day, feature",
        list(features),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def latest_drift(snapshot: Snapshot) -> pd.DataFrame | None:
    """feature, day, psi: the latest day of every feature, largest shift first."""
    if not has(snapshot, FEATURE_DRIFT):
        return None
    return _query(
        snapshot,
        f"""
        select feature, cast(day as date) as day, psi from {FEATURE_DRIFT}
        qualify row_number() over (partition by feature order by day desc) = 1
        order by psi desc, feature
        """,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def precision_at_capacity(snapshot: Snapshot) -> pd.DataFrame | None:
    if not has(snapshot, PRECISION_AT_CAPACITY):
        return None
    return _query(
        snapshot,
        f"select cast(month as date) as month, system, alerts, reviewed, confirmed, precision "
        f"from {PRECISION_AT_CAPACITY} order by month, system",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def estimated_recall(snapshot: Snapshot) -> pd.DataFrame | None:
    if not has(snapshot, ESTIMATED_RECALL):
        return None
    return _query(
        snapshot,
        f"select cast(month as date) as month, system, estimate, low, high from {ESTIMATED_RECALL} order by month, system",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def score_summary(snapshot: Snapshot) -> pd.DataFrame | None:
    if not has(snapshot, SCORES):
        return None
    return _query(
        snapshot,
        f"""
        select model_version, mode, count(*) as scored, avg(score) as mean_score, max(scored_at) as last_scored_at
        from {SCORES} group by 1, 2 order by max(scored_at) desc, 1
        """,
    )


# -- data quality -----------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sources(snapshot: Snapshot) -> pd.DataFrame:
    return _query(
        snapshot,
        "select source, is_required, is_present, row_count, last_loaded_at from raw._sources order by is_required desc, source",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def latest_loads(snapshot: Snapshot, limit: int) -> pd.DataFrame:
    return _query(
        snapshot,
        """
        select source, file, status as load_status, rows_read, rows_accepted, rows_quarantined, rows_set_aside,
               coalesce(rows_read, 0) = coalesce(rows_accepted, 0) + coalesce(rows_quarantined, 0)
                   + coalesce(rows_set_aside, 0) as reconciles,
               message, finished_at
        from raw._load_log
        order by finished_at desc nulls last, source, file
        limit ?
        """,
        [limit],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def load_totals(snapshot: Snapshot) -> dict[str, int]:
    frame = _query(
        snapshot,
        """
        select
            count(*) filter (where status in ('loaded', 'empty')) as files_loaded,
            coalesce(sum(rows_quarantined), 0) as rows_quarantined,
            count(*) filter (where status in ('loaded', 'empty') and coalesce(rows_read, 0) <> coalesce(rows_accepted, 0)
                + coalesce(rows_quarantined, 0) + coalesce(rows_set_aside, 0)) as files_not_reconciled
        from raw._load_log
        """,
    )
    return {key: int(value) for key, value in frame.iloc[0].items()}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def quarantine_reasons(snapshot: Snapshot, source: str | None) -> pd.DataFrame:
    where, params = ("where source = ?", [source]) if source else ("", [])
    return _query(
        snapshot,
        f"select source, kind, reason, count(*) as rows from raw._quarantine {where} group by 1, 2, 3 order by rows desc, 1, 3",
        params,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def quarantined_rows(snapshot: Snapshot, source: str | None, limit: int) -> pd.DataFrame:
    where, params = ("where source = ?", [source]) if source else ("", [])
    return _query(
        snapshot,
        f"select source, file, line, kind, reason, raw_row from raw._quarantine {where} order by quarantined_at desc, source, file, line limit ?",
        [*params, limit],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def failed_checks(snapshot: Snapshot) -> pd.DataFrame:
    """check, subject, detail: rejected files, counts that do not reconcile, missing required sources,
    rules inactive for a missing source, and failures the pipeline recorded in monitoring.check_results."""
    parts = [
        "select 'file_rejected' as check, source || ' / ' || file as subject, coalesce(message, '') as detail "
        "from raw._load_log where status = 'rejected'",
        "select 'reconciliation' as check, source || ' / ' || file as subject, "
        "'read ' || coalesce(rows_read, 0) || ' <> accepted ' || coalesce(rows_accepted, 0) || ' + quarantined ' "
        "|| coalesce(rows_quarantined, 0) || ' + set aside ' || coalesce(rows_set_aside, 0) as detail "
        "from raw._load_log where status in ('loaded', 'empty') and coalesce(rows_read, 0) <> coalesce(rows_accepted, 0) "
        "+ coalesce(rows_quarantined, 0) + coalesce(rows_set_aside, 0)",
        "select 'required_source_missing' as check, source as subject, 'no file loaded' as detail "
        "from raw._sources where is_required and not is_present",
        "select 'rule_inactive' as check, rule_id as subject, 'missing sources: ' || missing_sources as detail "
        "from marts.dim_rules where not is_active",
    ]
    if has(snapshot, CHECK_RESULTS):
        parts.append(
            f"select check_name as check, asset as subject, coalesce(message, '') as detail from {CHECK_RESULTS} where not passed"
        )
    return _query(snapshot, " union all ".join(f"({part})" for part in parts) + " order by 1, 2")


# -- the case under review: transaction and cardholder context from the snapshot --------------------


TRANSACTION_COLUMNS = (
    "transaction_id",
    "transacted_at",
    "transacted_date",
    "amount",
    "currency",
    "merchant_name",
    "merchant_category",
    "merchant_region",
    "mcc",
    "transaction_status",
)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _transaction_row(snapshot: Snapshot, transaction_id: str) -> dict[str, Any] | None:
    """The case's transaction with its cardholder's id: one scan of the card feed serves every panel."""
    frame = _query(
        snapshot,
        f"select {', '.join(TRANSACTION_COLUMNS)}, employee_id "
        "from staging.stg_issuer__card_transactions where transaction_id = ? limit 1",
        [transaction_id],
    )
    return None if frame.empty else frame.iloc[0].to_dict()


def transaction(snapshot: Snapshot, transaction_id: str) -> dict[str, Any] | None:
    row = _transaction_row(snapshot, transaction_id)
    return None if row is None else {column: row[column] for column in TRANSACTION_COLUMNS}


# The case's cardholder and day as parameters (`_cardholder`), so the panels below do not look the
# transaction up again.
_CARDHOLDER = """
    cardholder as (select cast(? as varchar) as employee_id, cast(? as date) as on_date)
"""


def _cardholder(snapshot: Snapshot, transaction_id: str) -> list[Any]:
    """employee_id and transacted_date of the transaction; both None when the snapshot lacks them."""
    row = _transaction_row(snapshot, transaction_id) or {}
    employee_id, on_date = row.get("employee_id"), row.get("transacted_date")
    return [
        None if employee_id is None or pd.isna(employee_id) else employee_id,
        None if on_date is None or pd.isna(on_date) else pd.Timestamp(on_date).date(),
    ]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def cardholder_profile(snapshot: Snapshot, transaction_id: str) -> dict[str, Any] | None:
    """Department, grade, job and regions of the transaction's cardholder (never the id)."""
    frame = _query(
        snapshot,
        f"""
        with {_CARDHOLDER}
        select employees.department, employees.grade, employees.job_family, employees.work_region,
               employees.home_region, employees.hire_date, employees.termination_date, employees.card_limit_krw
        from cardholder join staging.stg_hr__employees as employees on employees.employee_id = cardholder.employee_id
        """,
        _cardholder(snapshot, transaction_id),
    )
    return None if frame.empty else frame.iloc[0].to_dict()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def recent_spending(snapshot: Snapshot, transaction_id: str, days: int = 90) -> pd.DataFrame:
    """category, transactions, total_amount: the cardholder's spending in the `days` before."""
    return _query(
        snapshot,
        f"""
        with {_CARDHOLDER}
        select coalesce(transactions.merchant_category, '-') as category, count(*) as transactions,
               sum(transactions.amount) as total_amount
        from cardholder
        join staging.stg_issuer__card_transactions as transactions
            on transactions.employee_id = cardholder.employee_id
            and transactions.transacted_date > cardholder.on_date - ? and transactions.transacted_date <= cardholder.on_date
        group by 1 order by total_amount desc
        """,
        [*_cardholder(snapshot, transaction_id), days],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def peer_comparison(snapshot: Snapshot, transaction_id: str, days: int = 90) -> dict[str, float] | None:
    """The cardholder's spend over `days` against colleagues of the same department and grade."""
    frame = _query(
        snapshot,
        f"""
        with {_CARDHOLDER},
        profile as (
            select employees.department, employees.grade, cardholder.employee_id, cardholder.on_date
            from cardholder
            join staging.stg_hr__employees as employees on employees.employee_id = cardholder.employee_id
        ),
        peers as (
            select employees.employee_id, employees.employee_id = profile.employee_id as is_cardholder
            from staging.stg_hr__employees as employees
            join profile on employees.department = profile.department and employees.grade = profile.grade
        )
        select peers.is_cardholder, coalesce(sum(transactions.amount), 0) as total
        from peers
        cross join profile
        left join staging.stg_issuer__card_transactions as transactions
            on transactions.employee_id = peers.employee_id
            and transactions.transacted_date > profile.on_date - ?
            and transactions.transacted_date <= profile.on_date
        group by peers.employee_id, peers.is_cardholder
        """,
        [*_cardholder(snapshot, transaction_id), days],
    )
    own = frame.loc[frame["is_cardholder"], "total"]
    if own.empty:
        return None
    others = frame.loc[~frame["is_cardholder"], "total"].astype(float)
    value = float(own.iloc[0])
    return {
        "peer_count": float(len(others)),
        "mean_90d": float(others.mean()) if len(others) else math.nan,
        "employee_90d": value,
        "percentile": float((others < value).mean()) if len(others) else math.nan,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def leave_and_trips(snapshot: Snapshot, transaction_id: str, days: int = 30) -> pd.DataFrame:
    """kind, start_date, end_date, detail: leave and trips within `days` of the transaction."""
    return _query(
        snapshot,
        f"""
        with {_CARDHOLDER}
        select 'leave' as kind, leave_start_date as start_date, leave_end_date as end_date, leave_type as detail
        from staging.stg_hr__leave_periods as leave join cardholder on leave.employee_id = cardholder.employee_id
        where leave_start_date <= cardholder.on_date + ? and leave_end_date >= cardholder.on_date - ?
        union all
        select 'trip', trip_start_date, trip_end_date, destination_region
        from staging.stg_hr__trips as trips join cardholder on trips.employee_id = cardholder.employee_id
        where trip_start_date <= cardholder.on_date + ? and trip_end_date >= cardholder.on_date - ?
        order by start_date
        """,
        [*_cardholder(snapshot, transaction_id), days, days, days, days],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rules_fired(snapshot: Snapshot, transaction_id: str) -> pd.DataFrame:
    return _query(
        snapshot,
        """
        select hits.rule_id, rules.name_en, rules.name_ko, hits.severity, hits.reason, hits.rule_status, hits.is_suppressed
        from marts.fct_rule_hits as hits
        left join marts.dim_rules as rules on rules.rule_id = hits.rule_id
        where hits.transaction_id = ?
        order by hits.severity desc nulls last, hits.rule_id
        """,
        [transaction_id],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def model_explanation(snapshot: Snapshot, transaction_id: str, top: int = 5) -> dict[str, Any] | None:
    """The score behind a case and its top model reasons by contribution; None before scoring.

    The score of record in ``fct_scores`` (the transaction's own day), unless its latest alert was
    raised when its expense claim arrived: then the score and model reasons of that alert, with the
    claim note first (its rule reasons are left to the rules table).
    """
    if not has(snapshot, SCORES):
        return None
    frame = _query(
        snapshot,
        f"select score, probability, model_version, mode, reasons from {SCORES} where transaction_id = ? "
        "order by scored_at desc limit 1",
        [transaction_id],
    )
    explained: dict[str, Any] = {
        "score": None,
        "probability": None,
        "model_version": None,
        "mode": None,
        "reasons": [],
    }
    if not frame.empty:
        row = frame.iloc[0]
        explained = {
            "score": _float(row["score"]),
            "probability": _float(row["probability"]),
            "model_version": row["model_version"],
            "mode": row["mode"],
            "reasons": top_reasons(row["reasons"], top),
        }
    if not has(snapshot, ALERTS):
        return explained
    alert = _query(
        snapshot,
        f"select score, model_version, reasons from {ALERTS} where transaction_id = ? "
        "order by alert_date desc limit 1",
        [transaction_id],
    )
    items = [] if alert.empty else reason_items(alert["reasons"].iloc[0])
    notes = [item for item in items if item.get("source") == "claim"]
    if not notes:
        return explained
    model = [item for item in items if item.get("source") not in ("claim", "rule")]
    return {
        **explained,
        "score": _float(alert["score"].iloc[0]),
        "probability": None,  # the alert keeps no probability; the score of record's is of another day
        "model_version": alert["model_version"].iloc[0],
        "reasons": notes + top_reasons(model, top),
    }


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def reason_items(reasons: Any) -> list[dict[str, Any]]:
    """The reasons JSON (list of {source, key, text | text_en / text_ko, contribution}) as dicts."""
    if isinstance(reasons, str):
        try:
            reasons = json.loads(reasons)
        except ValueError:
            return []
    return [item for item in (reasons or []) if isinstance(item, dict)]


def top_reasons(reasons: Any, top: int = 5) -> list[dict[str, Any]]:
    """`reason_items`, strongest contribution first, at most ``top``."""
    items = reason_items(reasons)
    items.sort(key=lambda item: abs(float(item.get("contribution") or 0)), reverse=True)
    return items[:top]


# -- the case store ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store(url: str) -> CaseStore:
    return CaseStore(url).create()


def store() -> CaseStore:
    return _store(paths().case_store_url)


@st.cache_resource(show_spinner=False)
def role_book() -> RoleBook:
    return RoleBook.load()


def actor(name: str, role: str) -> Actor:
    """The person acting, checked against the roles file (raises CasePermissionError)."""
    return store().actor(name, role)


def can(role: str, permission: str) -> bool:
    book = role_book()
    return role in book.roles and permission in book.roles[role].permissions


def case_queue(
    who: Actor,
    *,
    statuses: tuple[str, ...],
    assignee: str | None,
    unassigned: bool,
    date_from: date | None,
    date_to: date | None,
    min_score: float | None,
    sort: str,
    limit: int | None = None,
) -> tuple[pd.DataFrame, int, float]:
    """The queue's first ``limit`` cases by ``sort``, with the number and amount of all it holds."""
    filters = {
        "status": list(statuses) if statuses else None,
        "assignee": assignee,
        "unassigned": unassigned,
        "date_from": date_from,
        "date_to": date_to,
        "min_score": min_score,
    }
    total, amount = store().queue_totals(who, **filters)
    listed = store().list_cases(who, **filters, sort=sort, descending=True, limit=limit)
    return listed, total, amount


def case(who: Actor, case_id: str) -> Case:
    return store().get_case(who, case_id)


def case_history(who: Actor, case_id: str) -> pd.DataFrame:
    return store().history(who, case_id)


def allowed_actions(who: Actor, current: Case) -> list[str]:
    return store().allowed_actions(who, current)


def backlog(who: Actor) -> dict[str, int]:
    """Open cases (not decided yet) and explanation requests past their due date."""
    open_cases, overdue = store().backlog(who)
    return {"backlog": open_cases, "overdue": overdue}


def explanation_preview(current: Case, due_days: int) -> str:
    """The 소명 요청 text the store will send, for the reviewer to read (and edit) first."""
    return render_explanation_request(
        current.case_id,
        current.transaction_id,
        current.amount,
        current.alert_date,
        list(current.alerted_by),
        current.details,
        store().now().date() + timedelta(days=due_days),
    )


def assign_case(who: Actor, case_id: str, assignee: str | None, version: int) -> Case:
    return store().assign(who, case_id, assignee, expected_version=version)


def request_explanation(who: Actor, case_id: str, due_days: int, message: str | None, version: int) -> Case:
    return store().request_explanation(
        who, case_id, due_days=due_days, message=message, expected_version=version
    )


def record_explanation(who: Actor, case_id: str, category: str, text: str, version: int) -> Case:
    return store().record_explanation(who, case_id, category, text, expected_version=version)


def decide_case(
    who: Actor, case_id: str, decision: str, recovered_amount: float | None, note: str | None, version: int
) -> Case:
    return store().decide(who, case_id, decision, recovered_amount, note=note, expected_version=version)


def close_case(who: Actor, case_id: str, note: str | None, version: int) -> Case:
    return store().close(who, case_id, note=note, expected_version=version)


def comment_case(who: Actor, case_id: str, text: str, version: int) -> Case:
    return store().comment(who, case_id, text, expected_version=version)


def escalate_case(who: Actor, case_id: str, reason: str, version: int) -> Case:
    return store().escalate(who, case_id, reason, expected_version=version)


def reopen_case(who: Actor, case_id: str, reason: str, version: int) -> Case:
    return store().reopen(who, case_id, reason, expected_version=version)


# -- threshold and suppression proposals (the case store's change log) ------------------------------


def applied_thresholds() -> dict[str, Any]:
    """The value in force per parameter; empty (so the policy file's defaults apply) when the store
    cannot be read."""
    try:
        return store().applied_thresholds()
    except (SQLAlchemyError, OSError, RuntimeError):
        return {}


def pseudonymise_employees(frame: pd.DataFrame, column: str = "employee_id") -> pd.DataFrame:
    """The frame with employee ids replaced by the case store's pseudonyms (for roles that may not see them)."""
    pseudonym = store().pseudonymiser.employee
    return frame.assign(
        **{
            column: frame[column].map(
                lambda value: pseudonym(str(value)) if isinstance(value, str) and value else value
            )
        }
    )


def threshold_log(who: Actor) -> pd.DataFrame:
    return store().threshold_changes(who)


def propose_threshold(who: Actor, parameter: str, new_value: Any, old_value: Any, reason: str) -> int:
    return store().propose_threshold(who, parameter, new_value, reason, old_value=old_value)


def propose_suppression(
    who: Actor,
    rule_id: str,
    *,
    employee_id: str | None,
    merchant_id: str | None,
    reason: str,
    owner: str,
    expires_on: date,
    valid_from: date,
) -> int:
    """A suppression proposal, kept in threshold_changes under parameter suppression:<rule_id>."""
    entry = {
        "rule_id": rule_id,
        "employee_id": employee_id or None,
        "merchant_id": merchant_id or None,
        "reason": reason.strip(),
        "owner": owner.strip(),
        "valid_from": valid_from.isoformat(),
        "expires_on": expires_on.isoformat(),
    }
    return store().propose_threshold(who, f"{SUPPRESSION_PREFIX}{rule_id}", entry, reason)


def suppression_proposals(who: Actor) -> pd.DataFrame:
    """change_id, at, actor, status, rule_id, employee_id, merchant_id, reason, owner, expires_on."""
    log = threshold_log(who)
    log = log[log["parameter"].astype(str).str.startswith(SUPPRESSION_PREFIX)]
    records = []
    for row in log.to_dict("records"):
        entry = row["new_value"] if isinstance(row["new_value"], dict) else {}
        records.append(
            {
                "change_id": row["change_id"],
                "at": row["at"],
                "actor": row["actor"],
                "status": row["status"],
                "rule_id": entry.get("rule_id"),
                "employee_id": entry.get("employee_id"),
                "merchant_id": entry.get("merchant_id"),
                "reason": row["reason"],
                "owner": entry.get("owner"),
                "expires_on": entry.get("expires_on"),
            }
        )
    columns = [
        "change_id",
        "at",
        "actor",
        "status",
        "rule_id",
        "employee_id",
        "merchant_id",
        "reason",
        "owner",
        "expires_on",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def audit_trail(who: Actor, since: date | None, until: date | None) -> tuple[pd.DataFrame, int]:
    """The period's latest ``AUDIT_ROWS`` events (oldest first) and how many events the period holds."""
    start = datetime.combine(since, datetime.min.time()) if since else None
    end = datetime.combine(until + timedelta(days=1), datetime.min.time()) if until else None
    listed = store().audit_trail(who, since=start, until=end, latest=AUDIT_ROWS)
    return listed, store().count_events(who, since=start, until=end)
