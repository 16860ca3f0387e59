"""Backtest a draft or shadow rule on history before it is activated (DOMAIN.md, section 3.7).

Draft and shadow rules run with every dbt build: their hits sit in ``marts.fct_rule_hits`` beside
the active rules' (``rule_status`` tells them apart), so a backtest reads the warehouse and runs
nothing. It answers four questions about switching the rule on over a window of history:

Alerts added
    The rule's unsuppressed hits (suppressed hits would not alert either) that no *other* alerting
    rule already raised (``is_alert_candidate`` of another rule). Those are the transactions that
    would reach reviewers for the first time.
Precision
    Confirmed / reviewed among the hits, on decided cases only: an unreviewed hit is unknown, never
    clean. Given for every hit, for the added ones and for those already alerted, with a Wilson
    interval. Hits that overlap an existing rule were reviewed far more often than the added ones,
    so the reviewed sample is biased; the inverse-propensity-weighted precision
    (`ml.labels.build_training_set` strata: which sources alerted the hit, the random audit;
    weights 1 / reviewed share) corrects for it, with an interval on Kish's effective sample size.
    ``unrepresented`` counts hits in strata where nothing was reviewed: no estimate speaks for them.
Overlap
    Per alerting rule: shared transactions, Jaccard index |A ∩ B| / |A ∪ B| (as in
    `ml.analysis.overlap.jaccard_matrix`), and the shares of each side.
Reviewer load
    Added alerts per calendar day of the window against the daily review capacity
    (``policy.daily_capacity``), and the days the existing rule alerts alone, and with the added
    ones, exceed it (`ml.analysis.workload.daily_workload`).

The heavy set work (other rules' alerts, overlap, per-day counts) runs in DuckDB; only the
backtested rule's hits come into pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ml.analysis.estimators import ipw_precision_recall, wilson_interval
from ml.analysis.workload import daily_workload
from ml.explain import load_parameters
from ml.labels import build_training_set

BACKTEST_STATUSES = ("draft", "shadow")
RULE_HITS = "marts.fct_rule_hits"
RULES = "marts.dim_rules"
TRANSACTIONS = "staging.stg_issuer__card_transactions"
CASE_OUTCOMES = "staging.stg_casework__case_outcomes"
LEGACY_ALERTS = "staging.stg_casework__legacy_alerts"
ALERTS = "marts.fct_alerts"
# The row sets every query below starts from, written once: the backtested rule's hit rows in the
# window, and the alert candidates of every other rule in the window (what reviewers see today).
IN_WINDOW = "cast(transacted_date as date) between $start and $end"
RULE_ROWS = f"from {RULE_HITS} where rule_id = $rule_id and {IN_WINDOW}"
OTHER_ALERT_ROWS = f"from {RULE_HITS} where is_alert_candidate and rule_id <> $rule_id and {IN_WINDOW}"
RULE_COLUMNS = (
    "rule_id",
    "name_en",
    "name_ko",
    "rule_set",
    "rule_status",
    "rule_version",
    "severity",
    "is_active",
    "missing_sources",
)


class RuleBacktestError(ValueError):
    """The rule cannot be backtested: unknown, not draft or shadow, or no rule tables built yet."""


class RuleStatusError(RuleBacktestError):
    """The rule exists but its status (active, retired) is not one a backtest is asked for."""


@dataclass(frozen=True)
class RuleBacktest:
    """A rule's backtest over ``[start, end]``. See the module docstring for each figure.

    Attributes
    ----------
    rule : dict
        The rule's catalog row: rule_id, name_en, name_ko, rule_set, rule_status, rule_version,
        severity, is_active (its sources are loaded), missing_sources.
    start, end : date or None
        The window actually measured (the requested one clipped to the data); None without data.
    days : int
        Calendar days in the window.
    capacity : float
        Reviews per day the load is compared with.
    confidence : float
    hits : int
        Unsuppressed hits in the window: the alerts the rule would raise.
    suppressed_hits : int
        Hits an allowlist entry suppresses (they would not alert).
    overlapping : int
        Hits another alerting rule already raises.
    added_alerts : int
        ``hits - overlapping``: new work for reviewers.
    added_amount, added_confirmed, added_confirmed_amount, added_recovered_amount
        Amount (KRW) of the added alerts; confirmed misuse among them and its amount and recovery.
    precision : DataFrame
        Indexed by subset (all, added, overlapping): hits, reviewed (decided), confirmed,
        precision, lower, upper, ipw_precision, ipw_lower, ipw_upper, unrepresented.
    overlap : DataFrame
        One row per other alerting rule: rule_id, name_en, name_ko, rule_alerts, shared, jaccard,
        share_of_hits (shared / hits), share_of_rule (shared / rule_alerts); most shared first.
    load : dict
        capacity, added_per_day, added_peak_per_day, added_share_of_capacity, existing_per_day,
        total_per_day, days_over_capacity_before, days_over_capacity_after.
    daily : DataFrame
        Indexed by day: existing (other rules' alerts), added, total, capacity.
    """

    rule: dict[str, Any]
    start: date | None
    end: date | None
    days: int
    capacity: float
    confidence: float
    hits: int
    suppressed_hits: int
    overlapping: int
    added_alerts: int
    added_amount: float
    added_confirmed: int
    added_confirmed_amount: float
    added_recovered_amount: float
    precision: pd.DataFrame = field(repr=False)
    overlap: pd.DataFrame = field(repr=False)
    load: dict[str, Any]
    daily: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, every field in order (NaN becomes None, dates ISO strings)."""
        record = {item.name: getattr(self, item.name) for item in fields(self)}
        daily = self.daily.reset_index()
        daily["day"] = daily["day"].dt.date.astype(str)
        record.update(
            precision=self.precision.reset_index().to_dict(orient="records"),
            overlap=self.overlap.to_dict(orient="records"),
            daily=daily.to_dict(orient="records"),
        )
        return _plain(record)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, date):  # a pd.Timestamp too
        return value.isoformat()
    return value


def _tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _as_date(value: Any) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _window(
    connection: duckdb.DuckDBPyConnection, tables: set[str], start: Any, end: Any
) -> tuple[date | None, date | None]:
    """The requested window clipped to the days the data covers (transactions, else rule hits)."""
    source = TRANSACTIONS if TRANSACTIONS in tables else RULE_HITS
    first, last = connection.execute(
        f"select min(cast(transacted_date as date)), max(cast(transacted_date as date)) from {source}"
    ).fetchall()[0]
    first, last = _as_date(first), _as_date(last)
    if first is None or last is None:
        return None, None
    begin = max(first, _as_date(start)) if start is not None else first
    finish = min(last, _as_date(end)) if end is not None else last
    if begin > finish:
        raise RuleBacktestError(f"no data between {begin} and {finish} (the data covers {first} to {last})")
    return begin, finish


def rule_row(connection: duckdb.DuckDBPyConnection, rule_id: str) -> dict[str, Any] | None:
    """The rule's catalog row (`RULE_COLUMNS`), or None when the catalog has no such rule."""
    frame = connection.execute(
        f"select {', '.join(RULE_COLUMNS)} from {RULES} where rule_id = $rule_id", {"rule_id": rule_id}
    ).df()
    if frame.empty:
        return None
    return _plain(frame.iloc[0].to_dict())


def backtestable_rules(
    connection: duckdb.DuckDBPyConnection, statuses: tuple[str, ...] = BACKTEST_STATUSES
) -> list[str]:
    """Rule ids of the catalog with one of ``statuses``, sorted."""
    if RULES not in _tables(connection):
        return []
    rows = connection.execute(
        f"select rule_id from {RULES} where list_contains($statuses, rule_status) order by rule_id",
        {"statuses": list(statuses)},
    ).fetchall()
    return [row[0] for row in rows]


def _hits(connection: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> pd.DataFrame:
    """The rule's hits in the window, whether suppressed, and whether another rule already alerts them."""
    frame = connection.execute(
        f"""
        with
        rule_hits as (
            select
                transaction_id,
                min(transacted_at) as transacted_at,
                min(cast(transacted_date as date)) as transacted_date,
                max(abs(amount)) as amount,
                bool_and(coalesce(is_suppressed, false)) as is_suppressed
            {RULE_ROWS}
            group by transaction_id
        ),
        already_alerted as (select distinct transaction_id {OTHER_ALERT_ROWS})
        select rule_hits.*, already_alerted.transaction_id is not null as is_already_alerted
        from rule_hits
        left join already_alerted on rule_hits.transaction_id = already_alerted.transaction_id
        order by rule_hits.transaction_id
        """,
        params,
    ).df()
    frame["transacted_at"] = pd.to_datetime(frame["transacted_at"])
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0)
    for column in ("is_suppressed", "is_already_alerted"):
        frame[column] = frame[column].astype("boolean").fillna(False).astype(bool)
    return frame


def _overlap(connection: duckdb.DuckDBPyConnection, params: dict[str, Any], hits: int) -> pd.DataFrame:
    """Shared transactions and Jaccard index with every other alerting rule."""
    frame = connection.execute(
        f"""
        with
        mine as (select distinct transaction_id {RULE_ROWS} and not coalesce(is_suppressed, false)),
        others as (select distinct rule_id, transaction_id {OTHER_ALERT_ROWS}),
        sizes as (select rule_id, count(*) as rule_alerts from others group by rule_id),
        shared as (
            select others.rule_id, count(*) as shared
            from others inner join mine on others.transaction_id = mine.transaction_id
            group by others.rule_id
        )
        select
            rules.rule_id, rules.name_en, rules.name_ko,
            coalesce(sizes.rule_alerts, 0) as rule_alerts,
            coalesce(shared.shared, 0) as shared
        from {RULES} as rules
        left join sizes on rules.rule_id = sizes.rule_id
        left join shared on rules.rule_id = shared.rule_id
        where (rules.is_alerting or sizes.rule_id is not null) and rules.rule_id <> $rule_id
        """,
        params,
    ).df()
    for column in ("rule_alerts", "shared"):
        frame[column] = frame[column].astype(int)
    union = hits + frame["rule_alerts"] - frame["shared"]
    frame["jaccard"] = (frame["shared"] / union.where(union > 0)).fillna(0.0)
    frame["share_of_hits"] = frame["shared"] / hits if hits else np.nan
    frame["share_of_rule"] = frame["shared"] / frame["rule_alerts"].where(frame["rule_alerts"] > 0)
    frame = frame.sort_values(["shared", "jaccard", "rule_id"], ascending=[False, False, True])
    return frame.reset_index(drop=True)


def _review_inputs(
    connection: duckdb.DuckDBPyConnection, tables: set[str], params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Case outcomes and every review-leading alert (legacy, Cardwatch) of the rule's hit transactions."""
    mine = f"select transaction_id {RULE_ROWS}"
    outcome_columns = [
        "transaction_id",
        "alerted_by",
        "opened_at",
        "decided_at",
        "decision",
        "recovered_amount",
    ]
    if CASE_OUTCOMES in tables:
        outcomes = connection.execute(
            f"select {', '.join(outcome_columns)} from {CASE_OUTCOMES} where transaction_id in ({mine})",
            params,
        ).df()
    else:
        outcomes = pd.DataFrame(columns=outcome_columns)
    alerts = []
    if LEGACY_ALERTS in tables:
        alerts.append(
            f"select transaction_id, alerted_by, cast(alerted_at as timestamp) as alerted_at "
            f"from {LEGACY_ALERTS} where transaction_id in ({mine})"
        )
    if ALERTS in tables:
        alerts.append(
            "select transaction_id, "
            "case when route = 'exploration' then 'exploration' else 'cardwatch' end as alerted_by, "
            f"cast(alert_date as timestamp) as alerted_at from {ALERTS} where transaction_id in ({mine})"
        )
    raised = (
        connection.execute(" union all ".join(alerts), params).df()
        if alerts
        else pd.DataFrame(columns=["transaction_id", "alerted_by", "alerted_at"])
    )
    return outcomes, raised


def _labels(
    hits: pd.DataFrame, outcomes: pd.DataFrame, alerts: pd.DataFrame, min_propensity: float | None
) -> pd.DataFrame:
    """The hits with label (1 confirmed or partial, 0 cleared, NaN unknown), propensity and stratum."""
    if hits.empty:
        return hits.assign(label=np.nan, propensity=np.nan, alert_stratum="", recovered_amount=0.0)
    times = [hits["transacted_at"].max()]
    for column in ("opened_at", "decided_at"):
        times.append(pd.to_datetime(outcomes[column]).max() if len(outcomes) else pd.NaT)
    cutoff = max(time for time in times if pd.notna(time))
    training = build_training_set(
        hits[["transaction_id", "transacted_at"]],
        outcomes,
        cutoff,
        alerts=alerts if len(alerts) else None,
        label_delay_days=0,
        min_propensity=min_propensity,
    )
    labelled = training.frame[["transaction_id", "label", "propensity", "alert_stratum", "recovered_amount"]]
    frame = hits.merge(labelled, on="transaction_id", how="left")
    frame["recovered_amount"] = pd.to_numeric(frame["recovered_amount"], errors="coerce").fillna(0.0)
    return frame


def _precision_row(
    rows: pd.DataFrame, represented: set[str], confidence: float, min_propensity: float
) -> dict[str, Any]:
    labels = rows["label"].to_numpy(dtype=float)
    known = ~np.isnan(labels)
    reviewed = int(known.sum())
    confirmed = int(np.nansum(labels))
    row = {
        "hits": len(rows),
        "reviewed": reviewed,
        "confirmed": confirmed,
        **dict.fromkeys(("precision", "lower", "upper", "ipw_precision", "ipw_lower", "ipw_upper"), np.nan),
        "unrepresented": int((~rows["alert_stratum"].isin(represented)).sum()),
    }
    if not reviewed:  # nothing decided: every ratio is unknown
        return row
    propensity = rows["propensity"].fillna(0.0).to_numpy(dtype=float)
    every_row_hits = np.ones(len(rows), dtype=bool)
    ipw = ipw_precision_recall(every_row_hits, labels, propensity, min_propensity).ipw_precision
    weights = 1.0 / np.clip(propensity[known], min_propensity, 1.0)
    effective = float(weights.sum() ** 2 / (weights**2).sum())  # Kish's effective sample size
    lower, upper = wilson_interval(confirmed, reviewed, confidence)
    ipw_lower, ipw_upper = wilson_interval(ipw * effective, effective, confidence)
    row.update(
        precision=confirmed / reviewed,
        lower=lower,
        upper=upper,
        ipw_precision=ipw,
        ipw_lower=ipw_lower,
        ipw_upper=ipw_upper,
    )
    return row


def _precision(frame: pd.DataFrame, confidence: float, min_propensity: float) -> pd.DataFrame:
    represented = set(frame.loc[frame["label"].notna(), "alert_stratum"])
    masks = {
        "all": np.ones(len(frame), dtype=bool),
        "added": ~frame["is_already_alerted"].to_numpy(dtype=bool),
        "overlapping": frame["is_already_alerted"].to_numpy(dtype=bool),
    }
    records = {
        name: _precision_row(frame[mask], represented, confidence, min_propensity)
        for name, mask in masks.items()
    }
    table = pd.DataFrame.from_dict(records, orient="index")
    table.index.name = "subset"
    return table


def _daily(
    connection: duckdb.DuckDBPyConnection,
    params: dict[str, Any],
    added: pd.DataFrame,
    capacity: float,
) -> pd.DataFrame:
    existing = connection.execute(
        f"""
        select cast(transacted_date as date) as day, count(distinct transaction_id) as existing
        {OTHER_ALERT_ROWS}
        group by 1
        """,
        params,
    ).df()
    # The workload table of the added alerts alone: no cases, one alert per added hit on its day.
    table = daily_workload(
        pd.DataFrame(columns=["opened_at", "decided_at"]),
        capacity,
        alerts=pd.DataFrame({"alerted_at": pd.to_datetime(added["transacted_date"])}),
        start=params["start"],
        end=params["end"],
    )
    counts = pd.Series(existing["existing"].to_numpy(), index=pd.to_datetime(existing["day"]))
    daily = pd.DataFrame(index=table.index)
    daily["existing"] = counts.reindex(table.index, fill_value=0).astype(int)
    daily["added"] = table["alerts"]
    daily["total"] = daily["existing"] + daily["added"]
    daily["capacity"] = table["capacity"]
    return daily


def _load(daily: pd.DataFrame, capacity: float) -> dict[str, Any]:
    days = len(daily)
    added = float(daily["added"].mean()) if days else float("nan")
    return {
        "capacity": float(capacity),
        "added_per_day": added,
        "added_peak_per_day": int(daily["added"].max()) if days else 0,
        "added_share_of_capacity": added / capacity if capacity > 0 else float("nan"),
        "existing_per_day": float(daily["existing"].mean()) if days else float("nan"),
        "total_per_day": float(daily["total"].mean()) if days else float("nan"),
        "days_over_capacity_before": int((daily["existing"] > capacity).sum()),
        "days_over_capacity_after": int((daily["total"] > capacity).sum()),
    }


def backtest_rule(
    connection: duckdb.DuckDBPyConnection,
    rule_id: str,
    *,
    start: Any = None,
    end: Any = None,
    capacity: float | None = None,
    confidence: float = 0.95,
    statuses: tuple[str, ...] | None = BACKTEST_STATUSES,
    min_propensity: float | None = None,
) -> RuleBacktest:
    """Backtest ``rule_id`` on the warehouse (or snapshot) behind ``connection``.

    Parameters
    ----------
    connection : DuckDB connection
        Reads ``marts.dim_rules`` and ``marts.fct_rule_hits`` (required), and when present the
        transactions, case outcomes, legacy alerts and ``marts.fct_alerts``. Never writes.
    rule_id : str
    start, end : date-like, optional
        Window of transaction dates (inclusive); default: all the data.
    capacity : float, optional
        Reviews per day; default ``policy.daily_capacity`` (``ml/config/policy.yml``).
    confidence : float, default=0.95
    statuses : tuple of str or None, default=('draft', 'shadow')
        Statuses the rule may have; None allows any (an active rule is then measured against the
        *other* alerting rules: what it adds to them).
    min_propensity : float, optional
        Floor on review propensities (default ``labels.min_propensity``).

    Raises
    ------
    RuleBacktestError
        Unknown rule, a status outside ``statuses``, no rule tables, or no data in the window.
    """
    tables = _tables(connection)
    missing = [name for name in (RULES, RULE_HITS) if name not in tables]
    if missing:
        raise RuleBacktestError(
            f"{', '.join(missing)} not built yet: run `cardwatch run` (the dbt build) first"
        )
    rule = rule_row(connection, rule_id)
    if rule is None:
        known = backtestable_rules(connection, statuses or BACKTEST_STATUSES)
        raise RuleBacktestError(
            f"unknown rule {rule_id!r}; draft and shadow rules: {', '.join(known) or 'none'}"
        )
    if statuses is not None and rule["rule_status"] not in statuses:
        raise RuleStatusError(
            f"rule {rule_id!r} is already {rule['rule_status']}; a backtest measures "
            f"{' or '.join(statuses)} rules before activation"
        )
    capacity = float(load_parameters("policy")["daily_capacity"] if capacity is None else capacity)
    floor = float(load_parameters("labels")["min_propensity"] if min_propensity is None else min_propensity)
    first, last = _window(connection, tables, start, end)
    if first is None:
        first = last = _as_date(start or end or date.today())
        days = 0
    else:
        days = (last - first).days + 1
    params = {"rule_id": rule_id, "start": first, "end": last}

    hits = _hits(connection, params)
    suppressed = int(hits["is_suppressed"].sum())
    hits = hits[~hits["is_suppressed"]].reset_index(drop=True)
    outcomes, alerts = _review_inputs(connection, tables, params)
    frame = _labels(hits, outcomes, alerts, floor)
    added = frame[~frame["is_already_alerted"]]
    confirmed = added[added["label"] == 1]
    daily = _daily(connection, params, added, capacity) if days else _empty_daily()
    return RuleBacktest(
        rule=rule,
        start=first if days else None,
        end=last if days else None,
        days=days,
        capacity=capacity,
        confidence=confidence,
        hits=len(frame),
        suppressed_hits=suppressed,
        overlapping=int(frame["is_already_alerted"].sum()),
        added_alerts=len(added),
        added_amount=float(added["amount"].sum()),
        added_confirmed=len(confirmed),
        added_confirmed_amount=float(confirmed["amount"].sum()),
        added_recovered_amount=float(confirmed["recovered_amount"].sum()),
        precision=_precision(frame, confidence, floor),
        overlap=_overlap(connection, params, len(frame)),
        daily=daily,
        load=_load(daily, capacity),
    )


def _empty_daily() -> pd.DataFrame:
    index = pd.DatetimeIndex([], name="day")
    return pd.DataFrame({"existing": [], "added": [], "total": [], "capacity": []}, index=index)
