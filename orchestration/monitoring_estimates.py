"""Estimated recall per month and threshold curves per system, for the monitoring marts.

Both reuse the detection review's estimators (`ml.analysis`), fed from the warehouse:

Recall (DOMAIN.md, section 3.4). For each month and system, the misuse the system's alerts
detected is estimated over its alerts with the reviewed ones as the sample (`estimate_detected`,
strata = what set the review priority), and the misuse it missed from a random sample of the
transactions it did not alert (`estimate_misses`); recall = detected / (detected + missed), with
the MOVER-R interval of `estimate_recall`. Both are corrected for reviewer error with the
accuracy of their review route (``ml/config/analysis.yml``):

- ``cardwatch``: population = the transactions Cardwatch scored that month; alerts = its hard and
  ranked alerts (strata: the route), reviewed through its own cases (``cardwatch:<route>``); the
  sample = its exploration picks (cases raised by ``exploration`` alone), strata as the policy
  draws them (``exploration_strata``, one stratum by default).
- ``legacy``: population = the month's purchases; alerts = the legacy filters' (strata: the alert
  reasons of the transaction), reviewed through the legacy cases; the sample = the internal
  audit's ``random_audit`` cases on transactions the legacy filters did not alert (one simple
  random sample a month).

A month is a transaction's month. Only matured decisions count (decided at least
``label_delay_days`` before the as-of time, `ml.labels.matured_labels`); an unreviewed or
undecided alert is unknown, never clean: it is extrapolated from the reviewed ones of its stratum.
A month gets no row without a reviewed sample of its non-alerted transactions or without a
reviewed alert: there is nothing to estimate it from, and no figure is made up.

Threshold curves (DOMAIN.md, sections 3.2-3.3). `ml.analysis.thresholds.threshold_curve` over
the scored transactions of the days whose outcomes have had the label delay to mature, each
labelled row weighted by its inverse review propensity (`ml.labels.build_training_set`), with the
analysis config's review cost and recoverable share: ``cardwatch`` by its hybrid score
(``marts.fct_scores``), ``legacy`` by the legacy filters' score of the backtest
(`orchestration.backtest.legacy_scores`: a rule alert is 1 + its legacy rule severity / 10, a
tree alert its tree score, the higher of both; 0 = not alerted).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ml.analysis.compute import analysis_parameters, review_accuracy
from ml.analysis.estimators import estimate_detected, estimate_misses, estimate_recall
from ml.analysis.thresholds import threshold_curve
from ml.explain import load_parameters
from ml.labels import build_training_set, matured_labels
from ml.policy import EXPLORATION, load_policy
from orchestration.scoring import ALERTS_TABLE, LEGACY_ALERTS_TABLE, SCORES_TABLE, read_alerts, table_exists

CARDWATCH = "cardwatch"
LEGACY = "legacy"
RANDOM_AUDIT = "random_audit"
ALERT_ROUTES = ("hard", "ranked")
CASES_TABLE = "staging.stg_casework__case_outcomes"
TRANSACTIONS_TABLE = "staging.stg_issuer__card_transactions"
MAX_THRESHOLDS = 200

RECALL_COLUMNS = {
    "month": "DATE",
    "system": "VARCHAR",
    "estimate": "DOUBLE",  # recall share 0..1
    "low": "DOUBLE",
    "high": "DOUBLE",
    "detected": "DOUBLE",  # misuse among the alerts (count), corrected
    "detected_low": "DOUBLE",
    "detected_high": "DOUBLE",
    "missed": "DOUBLE",  # misuse among the non-alerted transactions (count), corrected
    "missed_low": "DOUBLE",
    "missed_high": "DOUBLE",
    "alerts": "BIGINT",
    "reviewed_alerts": "BIGINT",  # alerts with a matured decision
    "population": "BIGINT",  # non-alerted transactions
    "sampled": "BIGINT",  # of them, in the random sample with a matured decision
    "found": "BIGINT",  # of those, confirmed misuse
    "consistent": "BOOLEAN",  # false: the samples contradict the assumed reviewer accuracy
}
CURVE_COLUMNS = {
    "system": "VARCHAR",
    "threshold": "DOUBLE",
    "alerts": "BIGINT",
    "alerts_per_day": "DOUBLE",
    "alerts_per_day_q": "DOUBLE",
    "expected_hits": "DOUBLE",
    "precision": "DOUBLE",
    "recall": "DOUBLE",
    "recovered_amount_krw": "DOUBLE",
    "review_cost_krw": "DOUBLE",
    "net_value_krw": "DOUBLE",
    "days": "BIGINT",
}


# ------------------------------------------------------------------------------------------ inputs


def default_as_of(con: duckdb.DuckDBPyConnection) -> pd.Timestamp | None:
    """What the warehouse knows up to: its latest transaction or decision (None when empty)."""
    stamps = []
    if table_exists(con, TRANSACTIONS_TABLE):
        stamps.append(con.execute(f"SELECT max(transacted_at) FROM {TRANSACTIONS_TABLE}").fetchall()[0][0])
    if table_exists(con, CASES_TABLE):
        stamps.append(con.execute(f"SELECT max(decided_at) FROM {CASES_TABLE}").fetchall()[0][0])
    known = [pd.Timestamp(s) for s in stamps if s is not None]
    return max(known) if known else None


def _tokens(alerted_by: Any) -> list[str]:
    if alerted_by is None or (isinstance(alerted_by, float) and np.isnan(alerted_by)):
        return []
    return [t.strip().lower() for t in str(alerted_by).split(",") if t.strip()]


def case_route(alerted_by: Any) -> str:
    """The review route of a case from its ``alerted_by``.

    ``exploration`` or ``random_audit`` alone = that random sample; a ``cardwatch:<route>`` among
    the names = a Cardwatch alert (``cardwatch.<route>``); ``legacy…`` = a legacy filter's alert;
    anything else ``other``.
    """
    tokens = _tokens(alerted_by)
    if len(tokens) == 1 and tokens[0].split(":", 1)[0] in (EXPLORATION, RANDOM_AUDIT):
        return tokens[0].split(":", 1)[0]
    for token in tokens:
        if token.startswith(f"{CARDWATCH}:"):
            return f"{CARDWATCH}.{token.split(':', 1)[1]}"
    if tokens and tokens[0].startswith(LEGACY):
        return LEGACY
    return "other"


def review_source(alerted_by: Any) -> str:
    """``alerted_by`` at the level of what set the review priority, for `build_training_set`:
    random samples as they are, a Cardwatch case as ``cardwatch.<route>``, any other reason with
    ``:`` made ``.`` (``legacy_rule:night`` -> ``legacy_rule.night``), as the report strata."""
    route = case_route(alerted_by)
    if route in (EXPLORATION, RANDOM_AUDIT) or route.startswith(f"{CARDWATCH}."):
        return route
    return ",".join(_tokens(alerted_by)).replace(":", ".") or "unknown"


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """A query's rows, ``transaction_id`` as plain Python strings: pandas' Arrow-backed strings
    look members up one by one in ``isin`` and ``map``, seconds on a year of transactions."""
    frame = con.execute(sql, params or []).fetchdf()
    if "transaction_id" in frame:
        frame["transaction_id"] = frame["transaction_id"].astype(object)
    return frame


def _per_value(values: pd.Series, function: Any) -> np.ndarray:
    """``function`` of each value, computed once per distinct value (``alerted_by`` has few)."""
    keys = values.astype(object).where(values.notna(), None)
    table = {key: function(key) for key in pd.unique(keys)}
    return np.array([table[key] for key in keys], dtype=object)


def read_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Case outcomes with their review ``route`` (`case_route`)."""
    columns = ["transaction_id", "alerted_by", "opened_at", "decided_at", "decision", "recovered_amount"]
    if not table_exists(con, CASES_TABLE):
        return pd.DataFrame(columns=[*columns, "route"])
    cases = _fetch(
        con,
        f"SELECT transaction_id, alerted_by, opened_at, decided_at, decision, "
        f"recovered_amount::DOUBLE AS recovered_amount FROM {CASES_TABLE}",
    )
    cases["route"] = _per_value(cases["alerted_by"], case_route)
    return cases


def route_labels(
    cases: pd.DataFrame, routes: Iterable[str], as_of: Any, label_delay_days: float
) -> pd.DataFrame:
    """transaction_id, label (1 confirmed misuse / 0 cleared) from the matured decisions of ``routes``."""
    chosen = cases[cases["route"].isin(list(routes))]
    if chosen.empty:
        return pd.DataFrame({"transaction_id": pd.Series(dtype=object), "label": pd.Series(dtype=float)})
    decisions = load_parameters("labels")
    labels = matured_labels(
        chosen,
        as_of,
        label_delay_days,
        decisions["positive_decisions"],
        decisions["negative_decisions"],
    )
    return labels[["transaction_id"]].assign(label=labels["label"].astype(float))


# ------------------------------------------------------------------------------------------ recall


def month_estimate(
    population: pd.DataFrame, reviewed: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any] | None:
    """One month's recall of one system, or None when it cannot be estimated.

    Parameters
    ----------
    population : DataFrame
        One row per side and stratum: ``alerted`` (the system's alerts, strata = what set their
        review priority; else the transactions it did not alert, strata = the random sample's
        design), ``stratum``, ``transactions``, ``mean_amount``.
    reviewed : DataFrame
        One row per transaction with a matured decision of its side's route (the alerts' own
        review; the random sample): ``alerted``, ``stratum``, ``amount``, ``label`` (1 / 0).
    params : dict
        `analysis_parameters` (confidence, reviewer accuracy per route).

    Returns None without alerts (the system raised nothing), without a reviewed alert or
    without a reviewed random pick of the non-alerted transactions.
    """
    accuracy = review_accuracy(params)
    sides = {}
    for alerted in (True, False):
        strata = population[population["alerted"] == alerted].set_index("stratum")
        rows = reviewed[reviewed["alerted"] == alerted]
        if strata.empty or rows.empty:
            return None
        label = rows["label"].astype(float).to_numpy()
        sample = pd.DataFrame(
            {
                "stratum": rows["stratum"].to_numpy(),
                "is_misuse": label,
                "misuse_amount": rows["amount"] * label,
            }
        )
        if alerted:  # the misuse the alerts detected, the reviewed alerts as the sample
            estimate = estimate_detected(
                sample,
                strata["transactions"],
                params["confidence"],
                strata["mean_amount"],
                accuracy["alert_review"],
            )
        else:  # the misuse among the rest, from the random sample
            estimate = estimate_misses(
                sample,
                strata["transactions"],
                params["confidence"],
                population_mean_amount=strata["mean_amount"],
                accuracy=accuracy["random_sample"],
            )
        sides[alerted] = (estimate, int(strata["transactions"].sum()), len(rows), int(label.sum()))
    (detected, alerts, reviewed_alerts, _), (missed, pool, sampled, found) = sides[True], sides[False]
    recall = estimate_recall(detected, missed)
    if not np.isfinite(recall.recall):
        return None
    return {
        "estimate": recall.recall,
        "low": recall.lower,
        "high": recall.upper,
        "detected": detected.count,
        "detected_low": detected.count_lower,
        "detected_high": detected.count_upper,
        "missed": missed.count,
        "missed_low": missed.count_lower,
        "missed_high": missed.count_upper,
        "alerts": alerts,
        "reviewed_alerts": reviewed_alerts,
        "population": pool,
        "sampled": sampled,
        "found": found,
        "consistent": bool(detected.consistent and missed.consistent),
    }


def _monthly(
    con: duckdb.DuckDBPyConnection,
    system: str,
    universe_sql: str,
    alerts_sql: str,
    alert_labels: pd.DataFrame,
    sample_labels: pd.DataFrame,
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Recall rows of ``system`` per month.

    ``universe_sql`` selects one row per transaction: transaction_id, month, amount, stratum (the
    random sample's design); ``alerts_sql`` one row per alerted transaction: transaction_id,
    stratum (what set its review priority). The labels are `route_labels` of the alerts' review
    route and of the random sample. Joined in the warehouse: only strata counts and reviewed rows
    come back.
    """
    con.register("_alert_labels", alert_labels)
    con.register("_sample_labels", sample_labels)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _recall_rows AS
            WITH universe AS ({universe_sql}), alerts AS ({alerts_sql})
            SELECT
                u.month,
                u.amount,
                a.transaction_id IS NOT NULL AS alerted,
                coalesce(a.stratum, u.stratum) AS stratum,
                CASE WHEN a.transaction_id IS NOT NULL THEN al.label ELSE sl.label END AS label
            FROM universe AS u
            LEFT JOIN alerts AS a USING (transaction_id)
            LEFT JOIN _alert_labels AS al USING (transaction_id)
            LEFT JOIN _sample_labels AS sl USING (transaction_id)
            """
        )
    finally:
        con.unregister("_alert_labels")
        con.unregister("_sample_labels")
    try:
        population = con.execute(
            "SELECT month, alerted, stratum, count(*) AS transactions, avg(amount) AS mean_amount "
            "FROM _recall_rows GROUP BY ALL ORDER BY ALL"
        ).fetchdf()
        reviewed = con.execute(
            "SELECT month, alerted, stratum, amount, label FROM _recall_rows WHERE label IS NOT NULL"
        ).fetchdf()
    finally:
        con.execute("DROP TABLE IF EXISTS _recall_rows")
    rows = []
    by_month = dict(list(reviewed.groupby("month", sort=True)))
    for month, strata in population.groupby("month", sort=True):
        estimate = month_estimate(strata, by_month.get(month, reviewed.iloc[:0]), params)
        if estimate is not None:
            rows.append({"month": pd.Timestamp(month).date(), "system": system, **estimate})
    return rows


def _exploration_stratum(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the exploration sample's design stratum of a scored row ``s``: the policy's
    ``exploration_strata`` column of the features (joined as ``f``), else one stratum."""
    column = load_policy().exploration_strata
    features = "features.fct_transaction_features"
    if column and table_exists(con, features):
        names = {row[0] for row in con.execute(f"DESCRIBE {features}").fetchall()}
        if column in names:
            return f"coalesce(any_value(f.\"{column}\")::VARCHAR, '')"
    return "'all'"


def cardwatch_recall(
    con: duckdb.DuckDBPyConnection, cases: pd.DataFrame, params: dict[str, Any], as_of: Any
) -> list[dict[str, Any]]:
    if not (table_exists(con, SCORES_TABLE) and table_exists(con, ALERTS_TABLE)):
        return []
    stratum = _exploration_stratum(con)
    join = (
        ""
        if stratum == "'all'"
        else "LEFT JOIN features.fct_transaction_features AS f USING (transaction_id)"
    )
    universe = (
        f"SELECT s.transaction_id, date_trunc('month', min(s.transacted_date))::DATE AS month, "
        f"abs(max(s.amount))::DOUBLE AS amount, {stratum} AS stratum "
        f"FROM {SCORES_TABLE} AS s {join} GROUP BY s.transaction_id"
    )
    alerts = (
        f"SELECT transaction_id, min(route) AS stratum FROM {ALERTS_TABLE} "
        f"WHERE route IN {ALERT_ROUTES} GROUP BY transaction_id"
    )
    delay = float(params["label_delay_days"])
    routes = [f"{CARDWATCH}.{route}" for route in ALERT_ROUTES]
    alert_labels = route_labels(cases, routes, as_of, delay)
    sample_labels = route_labels(cases, [EXPLORATION], as_of, delay)
    return _monthly(con, CARDWATCH, universe, alerts, alert_labels, sample_labels, params)


def legacy_recall(
    con: duckdb.DuckDBPyConnection, cases: pd.DataFrame, params: dict[str, Any], as_of: Any
) -> list[dict[str, Any]]:
    if not (table_exists(con, TRANSACTIONS_TABLE) and table_exists(con, LEGACY_ALERTS_TABLE)):
        return []
    universe = (  # the internal audit draws a simple random sample of each month: one stratum
        f"SELECT transaction_id, date_trunc('month', min(transacted_at))::DATE AS month, "
        f"abs(max(amount))::DOUBLE AS amount, 'all' AS stratum "
        f"FROM {TRANSACTIONS_TABLE} WHERE is_purchase GROUP BY transaction_id"
    )
    alerts = (
        f"SELECT transaction_id, string_agg(DISTINCT alerted_by, '+' ORDER BY alerted_by) AS stratum "
        f"FROM {LEGACY_ALERTS_TABLE} GROUP BY transaction_id"
    )
    delay = float(params["label_delay_days"])
    alert_labels = route_labels(cases, [LEGACY], as_of, delay)
    sample_labels = route_labels(cases, [RANDOM_AUDIT], as_of, delay)
    return _monthly(con, LEGACY, universe, alerts, alert_labels, sample_labels, params)


def estimated_recall(
    con: duckdb.DuckDBPyConnection,
    params: dict[str, Any] | None = None,
    as_of: Any | None = None,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly estimated recall of Cardwatch and of the legacy filters (`RECALL_COLUMNS`).

    ``cases`` = `read_cases` (read when not given).
    """
    params = params or analysis_parameters()
    as_of = as_of if as_of is not None else default_as_of(con)
    rows: list[dict[str, Any]] = []
    if as_of is not None:
        cases = read_cases(con) if cases is None else cases
        rows = cardwatch_recall(con, cases, params, as_of) + legacy_recall(con, cases, params, as_of)
    frame = pd.DataFrame.from_records(rows, columns=list(RECALL_COLUMNS))
    return frame.sort_values(["month", "system"], ignore_index=True)


# ------------------------------------------------------------------------------------------ curves


def _thresholds(score: np.ndarray) -> np.ndarray:
    """The report's grid: the distinct positive scores, thinned by quantiles past 200."""
    values = np.unique(score[np.isfinite(score)])
    values = values[values > 0] if (values > 0).any() else values
    if len(values) > MAX_THRESHOLDS:
        values = np.unique(np.quantile(values, np.linspace(0, 1, MAX_THRESHOLDS)))
    return values


def _all_alerts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every alert raised (legacy and Cardwatch hard/ranked: `read_alerts` without the exploration
    picks), at the level of its review priority (`review_source`)."""
    alerts = read_alerts(con, datetime.max)
    alerts = alerts[alerts["alerted_by"] != EXPLORATION].reset_index(drop=True)
    alerts["alerted_by"] = _per_value(alerts["alerted_by"], review_source)
    return alerts


def _legacy_score(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """transaction_id, score: the legacy filters' score of the backtest
    (`orchestration.backtest.legacy_scores`), the higher of its rule and tree parts, for the
    scored rows (``_curve_rows``) the legacy filters alerted; None without the legacy alerts source.
    """
    from orchestration.backtest import legacy_scores

    if not (table_exists(con, "raw._sources") and table_exists(con, LEGACY_ALERTS_TABLE)):
        return None
    alerted = f"SELECT DISTINCT transaction_id FROM _curve_rows SEMI JOIN {LEGACY_ALERTS_TABLE} USING (transaction_id)"
    ids = _fetch(con, alerted)["transaction_id"]
    hits = pd.DataFrame({"transaction_id": ids.iloc[:0], "rule_set": [], "severity": []})
    if table_exists(con, "marts.fct_rule_hits"):
        hits = _fetch(
            con,
            f"SELECT transaction_id, rule_set, severity FROM marts.fct_rule_hits "
            f"WHERE rule_set = 'legacy' AND transaction_id IN ({alerted})",
        )
    scores = legacy_scores(con, ids, hits)
    if scores is None:
        return None
    combined = np.maximum(scores["legacy_rules"].to_numpy(float), scores["legacy_tree"].to_numpy(float))
    return pd.DataFrame({"transaction_id": ids.to_numpy(), "score": combined})


def threshold_curves(
    con: duckdb.DuckDBPyConnection,
    params: dict[str, Any] | None = None,
    as_of: Any | None = None,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Threshold curve of Cardwatch and of the legacy filters (`CURVE_COLUMNS`), over the
    ``monitoring_curve_days`` scored days ending ``label_delay_days`` before ``as_of`` (their
    outcomes have had time to mature).

    ``cases`` = `read_cases` (read when not given).
    """
    params = params or analysis_parameters()
    as_of = as_of if as_of is not None else default_as_of(con)
    empty = pd.DataFrame(columns=list(CURVE_COLUMNS))
    if as_of is None or not table_exists(con, SCORES_TABLE):
        return empty
    delay = float(params["label_delay_days"])
    last_day = (pd.Timestamp(as_of) - pd.Timedelta(days=delay)).normalize()
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _curve_rows AS
        SELECT row_number() OVER (ORDER BY day, transaction_id) AS i, *
        FROM (
            SELECT transaction_id, min(transacted_date) AS day, abs(max(amount))::DOUBLE AS amount,
                   max(score)::DOUBLE AS score
            FROM {SCORES_TABLE} WHERE transacted_date <= ? AND transacted_date > ? GROUP BY transaction_id
        )
        """,
        [last_day.date(), (last_day - pd.Timedelta(days=int(params["monitoring_curve_days"]))).date()],
    )
    try:
        known = _fetch(
            con, "SELECT transaction_id, day::TIMESTAMP AS transacted_at FROM _curve_rows ORDER BY i"
        )
        if known.empty:
            return empty
        cases = read_cases(con) if cases is None else cases
        training = build_training_set(
            known,
            cases.assign(alerted_by=_per_value(cases["alerted_by"], review_source)),
            as_of,
            alerts=_all_alerts(con),
            label_delay_days=delay,
            min_propensity=params["min_propensity"],
            random_sources=params["random_sources"],
        ).frame
        labelled = training.loc[training["is_labeled"], ["transaction_id", "label", "ipw_weight"]]
        legacy = _legacy_score(con)
        con.register("_curve_labels", labelled)
        con.register(
            "_curve_legacy",
            legacy if legacy is not None else pd.DataFrame(columns=["transaction_id", "score"]),
        )
        try:
            rows = con.execute(
                """
                SELECT (r.day - DATE '1970-01-01')::INTEGER AS day, r.amount, r.score AS cardwatch,
                       coalesce(l.score, 0)::DOUBLE AS legacy, lab.label::DOUBLE AS label,
                       lab.ipw_weight::DOUBLE AS weight
                FROM _curve_rows AS r
                LEFT JOIN _curve_labels AS lab USING (transaction_id)
                LEFT JOIN _curve_legacy AS l USING (transaction_id)
                ORDER BY r.i
                """
            ).fetchnumpy()
        finally:
            con.unregister("_curve_labels")
            con.unregister("_curve_legacy")
    finally:
        con.execute("DROP TABLE IF EXISTS _curve_rows")
    systems = {CARDWATCH: rows["cardwatch"], LEGACY: rows["legacy"] if legacy is not None else None}
    label = np.asarray(rows["label"], dtype=float)  # NaN = no matured decision: unknown, never clean
    weight = np.asarray(rows["weight"], dtype=float)
    day = np.asarray(rows["day"])
    curves = []
    for system, score in systems.items():
        values = None if score is None else np.nan_to_num(np.asarray(score, dtype=float))
        if values is None or not (values > 0).any():
            continue
        curve = threshold_curve(
            values,
            day,
            label,
            np.asarray(rows["amount"], dtype=float),
            weight,
            review_cost=params["review_cost_krw"],
            recoverable_share=params["recoverable_share"],
            thresholds=_thresholds(values),
            daily_quantile=params["daily_quantile"],
        )
        curves.append(
            curve.rename(
                columns={
                    "recovered_amount": "recovered_amount_krw",
                    "review_cost": "review_cost_krw",
                    "net_value": "net_value_krw",
                }
            ).assign(system=system, days=len(np.unique(day)))
        )
    if not curves:
        return empty
    return pd.concat(curves, ignore_index=True)[list(CURVE_COLUMNS)]


# ------------------------------------------------------------------------------------------ writing


def replace_table(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, columns: dict[str, str]
) -> int:
    """``CREATE OR REPLACE`` ``table`` with ``columns`` (typed even when empty) and ``frame``'s rows."""
    name = "_monitoring_frame"
    definition = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    selected = ", ".join(f'"{column}"' for column in columns)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} ({definition})")
        if len(frame):
            con.register(name, frame[list(columns)])
            try:
                con.execute(f"INSERT INTO {table} ({selected}) SELECT {selected} FROM {name}")
            finally:
                con.unregister(name)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(frame)


def refresh_estimates(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any] | None = None, as_of: Any | None = None
) -> dict[str, Any]:
    """Rebuild ``monitoring.estimated_recall`` and ``monitoring.threshold_curve``; their metadata."""
    params = params or analysis_parameters()
    as_of = as_of if as_of is not None else default_as_of(con)
    cases = read_cases(con)
    recall = estimated_recall(con, params, as_of, cases)
    curve = threshold_curves(con, params, as_of, cases)
    metadata: dict[str, Any] = {
        "estimates_as_of": str(as_of) if as_of is not None else "nothing known",
        "estimated_recall_rows": replace_table(con, "monitoring.estimated_recall", recall, RECALL_COLUMNS),
        "threshold_curve_rows": replace_table(con, "monitoring.threshold_curve", curve, CURVE_COLUMNS),
    }
    for system in (CARDWATCH, LEGACY):
        months = recall[recall["system"] == system]
        if len(months):
            latest = months.iloc[-1]
            metadata[f"recall_{system}_latest"] = (
                f"{latest['month']:%Y-%m}: {latest['estimate']:.1%} "
                f"({latest['low']:.1%}-{latest['high']:.1%}, {int(latest['sampled'])} sampled)"
            )
    return metadata
