"""Warehouse side of detection: read what was known, train, score, decide alerts, write results.

Pure model code lives in ml/; this module moves data between the warehouse, the registry and
the case store. Every write replaces the rows of the days it covers, so running a day twice
gives the same tables (no duplicate scores or alerts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ml.explain import Reason, load_parameters
from ml.labels import isin
from ml.policy import EXPLORATION, PolicyConfig, decide_alerts, load_policy
from ml.registry import GateConfig, ModelEvaluation, ModelRegistry, capacity_evaluation
from ml.system import INDEX_COLUMNS, DetectionSystem, fit_system, plan_training, score_chunk_rows

SCORES_TABLE = "marts.fct_scores"
CLAIMS_TABLE = "staging.stg_expense__claims"
LEGACY_ALERTS_TABLE = "staging.stg_casework__legacy_alerts"
ALERTS_TABLE = "marts.fct_alerts"
DECISIONS_TABLE = "monitoring.model_decisions"


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).fetchdf()


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


def read_features(con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime) -> pd.DataFrame:
    """Features of transactions in [start, end)."""
    where = "transacted_at < ?" + (" AND transacted_at >= ?" if start else "")
    params: list[Any] = [end] + ([start] if start else [])
    return _frame(
        con,
        f"SELECT * FROM features.fct_transaction_features WHERE {where} ORDER BY transacted_at, transaction_id",
        params,
    )


def read_known_index(con: duckdb.DuckDBPyConnection, before: datetime) -> pd.DataFrame:
    """Ids, times and category groups of every transaction before ``before``, in `read_features` order."""
    return _frame(
        con,
        f"SELECT {', '.join(INDEX_COLUMNS)} FROM features.fct_transaction_features WHERE transacted_at < ? "
        "ORDER BY transacted_at, transaction_id",
        [before],
    )


def read_features_of(con: duckdb.DuckDBPyConnection, ids: pd.Series, before: datetime) -> pd.DataFrame:
    """Features of the transactions ``ids`` before ``before``, in `read_features` order."""
    name = "_cardwatch_feature_ids"
    con.register(name, pd.DataFrame({"transaction_id": np.asarray(ids, dtype=object)}))
    try:
        return _frame(
            con,
            "SELECT * FROM features.fct_transaction_features WHERE transacted_at < ? "
            f"AND transaction_id IN (SELECT transaction_id FROM {name}) ORDER BY transacted_at, transaction_id",
            [before],
        )
    finally:
        con.unregister(name)


def read_feature_chunks(
    con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime, chunk_rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """`read_features` a chunk at a time: the same rows in the same order, as consecutive frames.

    DuckDB hands the rows over a vector (2,048 rows) at a time, so ``chunk_rows`` (default
    ``score_chunk_rows``, ``ml/config/system.yml``) is rounded up to whole vectors. Columns come
    as `read_features` makes them (strings Arrow-backed, not Python objects); a nullable integer
    column is a masked ``Int32`` in a chunk holding a NULL and a plain ``int32`` in one without,
    the same values either way. The query runs on its own cursor, so ``con`` stays free for other
    queries (the chunks' rule hits) while the chunks are read.
    """
    where = "transacted_at < ?" + (" AND transacted_at >= ?" if start else "")
    params: list[Any] = [end] + ([start] if start else [])
    vectors = -(-score_chunk_rows(chunk_rows) // duckdb.__standard_vector_size__)
    cursor = con.cursor()
    try:
        result = cursor.execute(
            f"SELECT * FROM features.fct_transaction_features WHERE {where} ORDER BY transacted_at, transaction_id",
            params,
        )
        while True:
            chunk = result.fetch_df_chunk(vectors)
            if chunk is None or chunk.empty:
                return
            yield chunk
    finally:
        cursor.close()


RULE_HIT_COLUMNS = (
    "transaction_id, rule_id, rule_set, severity, reason, is_suppressed, is_alert_candidate, transacted_date"
)


def read_rule_hits(con: duckdb.DuckDBPyConnection, start: datetime | None, end: datetime) -> pd.DataFrame:
    where = "transacted_at < ?" + (" AND transacted_at >= ?" if start else "")
    params: list[Any] = [end] + ([start] if start else [])
    return _frame(con, f"SELECT {RULE_HIT_COLUMNS} FROM marts.fct_rule_hits WHERE {where}", params)


def read_rule_hits_of(
    con: duckdb.DuckDBPyConnection, ids: pd.Series, start: datetime | None, end: datetime
) -> pd.DataFrame:
    """`read_rule_hits` of [start, end) restricted to the transactions ``ids`` (one chunk's hits)."""
    where = "transacted_at < ?" + (" AND transacted_at >= ?" if start else "")
    params: list[Any] = [end] + ([start] if start else [])
    name = "_cardwatch_chunk_ids"
    con.register(name, pa.table({"transaction_id": pa.array(ids)}))
    try:
        return _frame(
            con,
            f"SELECT {RULE_HIT_COLUMNS} FROM marts.fct_rule_hits WHERE {where} "
            f"AND transaction_id IN (SELECT transaction_id FROM {name})",
            params,
        )
    finally:
        con.unregister(name)


def score_window(
    con: duckdb.DuckDBPyConnection,
    system: DetectionSystem,
    start: datetime | None,
    end: datetime,
    *,
    chunk_rows: int | None = None,
    explain: bool = False,
) -> pd.DataFrame:
    """``system.score`` of every transaction in [start, end), read and scored a chunk at a time.

    The same frame as ``system.score(read_features(...), read_rule_hits(...))`` (see
    `ml.system.DetectionSystem.score_batches`), but neither the features of the whole window nor
    its stacking features are ever held at once: memory is bounded by ``chunk_rows`` plus the
    result's own columns.
    """
    batches = (
        (chunk, read_rule_hits_of(con, chunk["transaction_id"], start, end), None)
        for chunk in read_feature_chunks(con, start, end, chunk_rows)
    )
    return system.score_batches(batches, explain=explain)


def read_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(con, "SELECT * FROM staging.stg_casework__case_outcomes")


def alert_sources(route: str, rule_ids: str | None) -> list[str]:
    """What raised a Cardwatch alert, as ``alerted_by`` values of its case.

    An exploration pick is ``exploration`` alone (a random sample: its outcomes weigh by the
    sampling rate, `ml.labels` random sources); any other alert names the rules that fired and
    ``cardwatch:<route>`` (hard or ranked), one alert-selected source for the review propensities.
    """
    if route == EXPLORATION:
        return [EXPLORATION]
    return [*(r for r in (rule_ids or "").split(",") if r), f"cardwatch:{route}"]


def latest_claim_days(
    con: duckdb.DuckDBPyConnection, within_days: int, condition: str, params: list[Any]
) -> pd.DataFrame:
    """``transaction_id`` and ``claim_day`` (the day of its latest claim filed at most
    ``within_days`` after the payment) of each transaction matching ``condition``: SQL over ``c``
    (the claims) and ``f`` (the features mart), with ``params`` for its placeholders."""
    return _frame(
        con,
        "SELECT c.transaction_id, max(c.submitted_at)::DATE AS claim_day "
        f"FROM {CLAIMS_TABLE} AS c JOIN features.fct_transaction_features AS f USING (transaction_id) "
        f"WHERE c.submitted_at <= f.transacted_at + to_days(?) AND {condition} "
        "GROUP BY c.transaction_id ORDER BY c.transaction_id",
        [int(within_days), *params],
    )


def read_claimed_late(
    con: duckdb.DuckDBPyConnection, first: date, last: date, within_days: int
) -> pd.DataFrame:
    """Transactions to score again because their expense claim arrived on a day first..last.

    A transaction paid before ``first`` whose claim was submitted on one of the days, at most
    ``within_days`` after the payment, and which no Cardwatch alert of a day before ``first`` has
    raised. One row each: ``transaction_id`` and ``claim_day`` (its latest such submission day).
    """
    if within_days <= 0 or not table_exists(con, CLAIMS_TABLE):
        return pd.DataFrame({"transaction_id": pd.Series(dtype=object), "claim_day": pd.Series(dtype=object)})
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    not_alerted = (
        f"AND c.transaction_id NOT IN (SELECT transaction_id FROM {ALERTS_TABLE} WHERE alert_date < ?)"
        if table_exists(con, ALERTS_TABLE)
        else ""
    )
    return latest_claim_days(
        con,
        within_days,
        f"c.submitted_at >= ? AND c.submitted_at < ? AND f.transacted_at < ? {not_alerted}",
        [start, end, start] + ([first] if not_alerted else []),
    )


def read_alerts(con: duckdb.DuckDBPyConnection, before: datetime) -> pd.DataFrame:
    """Every alert raised before ``before``: the legacy filters' and Cardwatch's own (either table
    may not exist yet)."""
    legacy = (
        _frame(
            con,
            f"SELECT transaction_id, alerted_by, alerted_at FROM {LEGACY_ALERTS_TABLE} WHERE alerted_at < ?",
            [before],
        )
        if table_exists(con, LEGACY_ALERTS_TABLE)
        else pd.DataFrame(columns=["transaction_id", "alerted_by", "alerted_at"])
    )
    if not table_exists(con, ALERTS_TABLE):
        return legacy
    own = _frame(
        con,
        f"SELECT transaction_id, route, alert_date::TIMESTAMP AS alerted_at FROM {ALERTS_TABLE} WHERE alert_date < ?",
        [before.date()],
    )
    own["alerted_by"] = [
        EXPLORATION if route == EXPLORATION else f"cardwatch:{route}" for route in own.pop("route")
    ]
    return pd.concat([legacy, own[["transaction_id", "alerted_by", "alerted_at"]]], ignore_index=True)


def train(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> DetectionSystem:
    """Fit the detection system on everything known at ``cutoff`` (`ml.system.train_system`).

    Every known transaction counts for the labels' review propensities, but only the rows the
    fit uses (the labelled ones and the seeded samples, `ml.system.plan_training`) are read
    whole, so the read stops growing with history as the fit does.
    """
    plan = plan_training(read_known_index(con, cutoff), read_outcomes(con), read_alerts(con, cutoff), cutoff)
    features = read_features_of(con, plan.feature_ids(), cutoff)
    return fit_system(plan, features, read_rule_hits(con, None, cutoff))


@dataclass
class EvaluationWindow:
    """Recent matured outcomes and every transaction of their days, loaded once per retraining."""

    features: pd.DataFrame
    hits: pd.DataFrame
    labels: pd.Series  # transaction_id -> 1 confirmed misuse / 0 cleared (matured only)
    recovered: pd.Series  # transaction_id -> recovered amount
    groups: pd.Series  # transaction_id -> comma-separated rule ids (recall per rule group)


def evaluation_window(
    con: duckdb.DuckDBPyConnection, cutoff: datetime, window_days: int
) -> EvaluationWindow | None:
    """The last ``window_days`` before the label delay, where outcomes have matured by ``cutoff``.

    None when there is nothing to measure (no transactions, or none of them reviewed).
    """
    delay = float(load_parameters("labels")["label_delay_days"])
    end = cutoff - timedelta(days=delay)
    start = end - timedelta(days=window_days)
    features = read_features(con, start, end)
    if features.empty:
        return None
    outcomes = read_outcomes(con)
    matured = outcomes[pd.to_datetime(outcomes["decided_at"]) + pd.Timedelta(days=delay) <= cutoff]
    labels = matured.groupby("transaction_id")["is_confirmed_misuse"].max()
    if not features["transaction_id"].isin(labels.index).any():
        return None
    hits = read_rule_hits(con, start, end)
    return EvaluationWindow(
        features=features,
        hits=hits,
        labels=labels,
        recovered=matured.groupby("transaction_id")["recovered_amount"].sum().astype(float),
        groups=hits.groupby("transaction_id")["rule_id"].agg(lambda ids: ",".join(sorted(set(ids)))),
    )


def evaluate(system: DetectionSystem, window: EvaluationWindow, capacity: int) -> ModelEvaluation:
    """Recall, precision and recovered amount of ``system`` at the daily capacity on ``window``.

    Every transaction of the window's days is ranked, as it would be in production; only reviewed
    ones with a matured outcome carry a label, the others are unknown (never counted as clean).
    """
    scored = system.score(window.features, window.hits, explain=False)
    ids = scored["transaction_id"]
    return capacity_evaluation(
        day=scored["transacted_date"],
        score=scored["score"],
        y_true=ids.map(window.labels).astype(float).to_numpy(),
        k=capacity,
        amount=scored["amount"].astype(float),
        recovered=ids.map(window.recovered).fillna(0.0),
        groups=ids.map(window.groups).fillna("").tolist(),
    )


def reasons_json(reasons: Any) -> str:
    items = [r.to_dict() if isinstance(r, Reason) else dict(r) for r in (reasons or [])]
    return json.dumps(items, ensure_ascii=False, default=str)


def write_days(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, day_column: str, first: date, last: date
) -> None:
    """Replace ``table``'s rows for days first..last with ``frame`` in one transaction."""
    schema = table.split(".")[0]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_frame", frame)
        if not table_exists(con, table):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _frame LIMIT 0")
        con.execute(f"DELETE FROM {table} WHERE {day_column} BETWEEN ? AND ?", [first, last])
        if not frame.empty:
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _frame")
        con.unregister("_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def scores_table(scored: pd.DataFrame) -> pd.DataFrame:
    out = scored[
        [
            "transaction_id", "employee_id", "card_id", "transacted_at", "transacted_date", "amount", "score",
            "probability", "score_unsupervised", "score_rules", "model_version", "score_mode", "scored_at",
        ]
    ].rename(columns={"score_mode": "mode"})  # fmt: skip
    out = out.copy()
    out["transacted_date"] = pd.to_datetime(out["transacted_date"]).dt.date
    # most rows carry no reasons (only alerts are explained): their JSON is always "[]"
    out["reasons"] = ["[]" if isinstance(r, list) and not r else reasons_json(r) for r in scored["reasons"]]
    return out


def alerts_table(decided: pd.DataFrame) -> pd.DataFrame:
    """`decide_alerts` output as ``marts.fct_alerts`` rows."""
    if decided.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "transaction_id": decided["transaction_id"].to_numpy(),
            "alert_date": pd.to_datetime(decided["alert_day"]).dt.date.to_numpy(),
            "route": decided["route"].to_numpy(),
            "rank": decided["route_rank"].to_numpy(),
            "score": decided["score"].astype(float).to_numpy(),
            "amount": decided["amount"].astype(float).to_numpy(),
            "rule_ids": [
                ",".join(map(str, r)) if isinstance(r, list | tuple | np.ndarray) else str(r or "")
                for r in decided["rule_ids"]
            ],
            "reasons": [reasons_json(r) for r in decided["reasons"]],
            "reason_text": decided["reason_text"].to_numpy(),
            "reason_text_ko": decided["reason_text_ko"].to_numpy(),
        }
    )


@dataclass
class DayResult:
    scored: int
    alerts: int
    by_route: dict[str, int]
    rescored: int = 0  # earlier transactions scored again because their claim arrived


def claim_reason(claim_day: date, transacted_at: Any) -> dict[str, Any]:
    """The reason a transaction of an earlier day is in this day's alerts: its claim arrived."""
    day = pd.Timestamp(claim_day).date()
    after = (day - pd.Timestamp(transacted_at).date()).days
    return Reason(
        "claim",
        "claim_submitted",
        day.isoformat(),
        0.0,
        f"expense claim submitted on {day.isoformat()}, {after} days after the payment: scored again with it",
        f"결제 {after}일 후 {day.isoformat()}에 경비 청구가 제출되어 청구 내용으로 다시 평가",
    ).to_dict()


def score_and_alert(
    con: duckdb.DuckDBPyConnection,
    system: DetectionSystem,
    version: str,
    first: date,
    last: date,
    policy: PolicyConfig | None = None,
) -> DayResult:
    """Score days first..last, decide their alerts and write both (idempotently).

    Besides the days' own transactions, the earlier ones whose expense claim arrived on one of
    the days (`read_claimed_late`, within the policy's ``claim_rescore_days``) are scored again
    with the claim and compete for that day's capacity; their alert says why it comes now. Their
    score of record in ``fct_scores`` stays the one of their own day.

    Reasons are computed for the alerted transactions only: the booster's per-feature
    contributions cost several times the score, only alerts are read with their reasons, and
    each explanation depends on its own row only, given the stacking features it was scored with
    (they are reused, not recomputed, and the alerts are not scored again).
    """
    policy = policy or load_policy()
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    features = read_features(con, start, end)
    hits = read_rule_hits(con, start, end)
    late = read_claimed_late(con, first, last, policy.claim_rescore_days)
    if not late.empty:
        features = pd.concat(
            [features, read_features_of(con, late["transaction_id"], start)], ignore_index=True
        )
        hits = pd.concat(
            [hits, read_rule_hits_of(con, late["transaction_id"], None, start)], ignore_index=True
        )
    scored = pd.DataFrame()
    decided = pd.DataFrame()
    if not features.empty:
        stacked = system.stack(features, hits)
        scored = system.score(features, hits, explain=False, stacked=stacked)
        model_reasons: dict[Any, list] = {}

        def explain(alerts: pd.DataFrame) -> list[list]:
            chosen = stacked[isin(stacked["transaction_id"], alerts["transaction_id"])]
            model_reasons.update(zip(chosen["transaction_id"], system.explain(chosen), strict=True))
            return [model_reasons[t] for t in alerts["transaction_id"]]

        claim_days = dict(zip(late["transaction_id"], late["claim_day"], strict=True))
        claim_day = scored["transaction_id"].map(claim_days)
        scored["alert_on"] = pd.to_datetime(claim_day.where(claim_day.notna(), scored["transacted_date"]))
        scored["exploration_eligible"] = claim_day.isna()
        decided = decide_alerts(scored, hits, policy, day_column="alert_on", explain=explain)
        if claim_days and not decided.empty:
            paid_at = dict(zip(scored["transaction_id"], scored["transacted_at"], strict=True))
            decided = with_claim_reasons(decided, claim_days, paid_at)
        scored = scored[claim_day.isna().to_numpy()].drop(columns=["alert_on", "exploration_eligible"])
        scored["reasons"] = [model_reasons.get(t, []) for t in scored["transaction_id"]]
        scored["model_version"] = version
        scored["scored_at"] = datetime.now()
    write_days(
        con,
        SCORES_TABLE,
        scores_table(scored) if not scored.empty else scored,
        "transacted_date",
        first,
        last,
    )
    alerts = alerts_table(decided)
    if not alerts.empty:
        alerts["model_version"] = version
    write_days(con, ALERTS_TABLE, alerts, "alert_date", first, last)
    by_route = alerts["route"].value_counts().to_dict() if not alerts.empty else {}
    return DayResult(
        scored=len(scored),
        alerts=len(alerts),
        by_route={str(k): int(v) for k, v in by_route.items()},
        rescored=len(late),
    )


def with_claim_reasons(
    decided: pd.DataFrame, claim_days: dict[Any, Any], paid_at: dict[Any, Any]
) -> pd.DataFrame:
    """`decide_alerts` output with `claim_reason` last among the reasons of each alert raised on
    the arrival of its claim (``claim_days``: transaction id -> claim day)."""
    out = decided.copy()
    reasons, text_en, text_ko = [], [], []
    for tx, items, en, ko in zip(
        out["transaction_id"], out["reasons"], out["reason_text"], out["reason_text_ko"], strict=True
    ):
        if tx in claim_days:
            extra = claim_reason(claim_days[tx], paid_at[tx])
            items = [*items, extra]
            en = f"{en}; {extra['text_en']}" if en else extra["text_en"]
            ko = f"{ko}; {extra['text_ko']}" if ko else extra["text_ko"]
        reasons.append(items)
        text_en.append(en)
        text_ko.append(ko)
    out["reasons"] = reasons
    out["reason_text"] = text_en
    out["reason_text_ko"] = text_ko
    return out


def record_decision(con: duckdb.DuckDBPyConnection, decision: dict[str, Any], partition: str) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {DECISIONS_TABLE} (decided_at TIMESTAMP, partition VARCHAR, action VARCHAR,"
        " version VARCHAR, alias VARCHAR, accepted BOOLEAN, metrics VARCHAR, reason VARCHAR)"
    )
    con.execute(
        f"INSERT INTO {DECISIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            datetime.now(),
            partition,
            str(decision.get("action")),
            None if decision.get("version") is None else str(decision.get("version")),
            decision.get("alias"),
            bool(decision.get("accepted", True)),
            json.dumps(decision, ensure_ascii=False, default=str),
            str(decision.get("reason", "")),
        ],
    )


def load_version(
    registry: ModelRegistry, version: str | int, cache: dict[str, DetectionSystem] | None = None
) -> DetectionSystem:
    """``registry.load(version)``, unpickled once while ``cache`` holds it (a model file is tens of MB).

    The cache keeps the last version loaded only: a run scores with one champion at a time.
    """
    key = str(version)
    if cache is None:
        return registry.load(key)
    if key not in cache:
        cache.clear()
        cache[key] = registry.load(key)
    return cache[key]


def retrain_and_gate(
    con: duckdb.DuckDBPyConnection,
    registry: ModelRegistry,
    cutoff: datetime,
    partition: str,
    why: str,
    loaded: dict[str, DetectionSystem] | None = None,
) -> dict[str, Any]:
    """Train a challenger at ``cutoff``, compare it with the champion, promote it if the gate passes.

    ``loaded`` is a `load_version` cache (the champion is evaluated with its cached copy).
    """
    capacity = load_policy().daily_capacity
    system = train(con, cutoff)
    window = evaluation_window(con, cutoff, int(load_parameters("registry")["evaluation_window_days"]))
    challenger_eval = evaluate(system, window, capacity) if window is not None else None
    registered = registry.register(
        system,
        params={
            "cutoff": cutoff.isoformat(),
            "why": why,
            **{k: v for k, v in system.summary.items() if isinstance(v, int | float | str)},
        },
        training_window=system.hybrid.training_window,
        train_ids=system.hybrid.train_ids,
        feature_names=system.hybrid.feature_names,
        evaluation=challenger_eval,
    ).to_dict()
    record_decision(con, {**registered, "cutoff": cutoff.isoformat(), "reason": why}, partition)
    champion_version = registry.alias_version("champion")
    champion_eval = None
    if champion_version is not None and window is not None:
        champion_eval = evaluate(load_version(registry, champion_version, loaded), window, capacity)
    if challenger_eval is None:
        challenger_eval = ModelEvaluation(metrics={}, n_outcomes=0)  # nothing matured to measure
    # The first model has nothing to beat and something must score: it becomes champion as it is.
    gate = GateConfig.from_config(min_outcomes=0) if champion_version is None else None
    decision = registry.promote(challenger_eval, champion_eval, gate=gate).to_dict()
    record_decision(con, decision, partition)
    return decision


def training_cutoff(con: duckdb.DuckDBPyConnection, version: str | None = None) -> datetime | None:
    """The cut-off of a registered version (or of the latest training when ``version`` is None)."""
    if not table_exists(con, DECISIONS_TABLE):
        return None
    sql = f"SELECT metrics FROM {DECISIONS_TABLE} WHERE action = 'register'"
    params: list[Any] = []
    if version is not None:
        sql += " AND version = ?"
        params.append(str(version))
    for (metrics,) in con.execute(sql + " ORDER BY decided_at DESC", params).fetchall():
        cutoff = json.loads(metrics).get("cutoff")
        if cutoff:
            return datetime.fromisoformat(cutoff)
    return None


def drift_sample(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, settings: dict[str, Any]
) -> pd.DataFrame:
    """A sample of at most ``drift_sample_rows`` rows of the drift features of transactions in [start, end).

    The rows with the smallest hash of (transaction id, seed): a uniform sample that is the same on every
    run, whatever the physical order of the table or the number of threads (DuckDB's seeded reservoir
    sample repeats only single-threaded), so rerunning a day takes the same retraining decision.
    """
    columns = ", ".join(["transacted_date", *settings["drift_features"]])
    return _frame(
        con,
        f"SELECT {columns} FROM features.fct_transaction_features WHERE transacted_at >= ? AND transacted_at < ? "
        "ORDER BY hash(transaction_id, ?::BIGINT), transaction_id LIMIT ?",
        [start, end, int(settings["drift_sample_seed"]), int(settings["drift_sample_rows"])],
    )


def drift_check(
    con: duckdb.DuckDBPyConnection, cutoff: datetime, recent: pd.DataFrame, settings: dict[str, Any]
) -> tuple[pd.DataFrame, pd.Series]:
    """PSI of the drift features in ``recent`` against the ``every_days`` of data before ``cutoff``.

    Returns the PSI per day and feature (for monitoring) and the pooled PSI per feature over the
    whole recent window (for the retraining trigger: single days are too small to judge).
    """
    from ml.drift import psi, psi_by_day

    features = list(settings["drift_features"])
    reference = drift_sample(con, cutoff - timedelta(days=int(settings["every_days"])), cutoff, settings)
    if reference.empty or recent.empty:
        return pd.DataFrame(columns=["day", "feature", "psi", "rows"]), pd.Series(dtype=float)
    pooled = pd.Series({f: psi(reference[f].astype(float), recent[f].astype(float)) for f in features})
    return psi_by_day(reference, recent, features), pooled.sort_values(ascending=False)


def retrain_reason(
    con: duckdb.DuckDBPyConnection, registry: ModelRegistry, day: date, settings: dict[str, Any]
) -> tuple[str | None, pd.DataFrame]:
    """Why a challenger should be trained before scoring ``day`` (None: no need), and the drift seen.

    Scheduled: the latest training (promoted or not) is ``every_days`` old. Drift: the pooled PSI
    of a drift feature, against the latest training's last ``every_days`` of data (promoted or
    not), exceeds ``psi_threshold``, at most once per drift window.
    """
    version = registry.alias_version("champion")
    champion_cut = training_cutoff(con, version) if version is not None else None
    if champion_cut is None:
        return "no champion yet", pd.DataFrame()
    last = training_cutoff(con) or champion_cut
    age = (day - last.date()).days
    if age >= int(settings["every_days"]):
        return f"scheduled: last training {age} days ago", pd.DataFrame()
    # Monitoring shows drift against the champion's data (the model in use); the trigger compares
    # with the latest training's: once a challenger was trained on the drifted data (promoted or
    # not), only new drift trains another before the schedule does.
    end = datetime.combine(day, datetime.min.time())
    recent = drift_sample(con, end - timedelta(days=int(settings["drift_window_days"])), end, settings)
    daily, pooled = drift_check(con, champion_cut, recent, settings)
    if last != champion_cut:
        _, pooled = drift_check(con, last, recent, settings)
    if (
        age >= int(settings["drift_window_days"])
        and not pooled.empty
        and pooled.iloc[0] > float(settings["psi_threshold"])
    ):
        return f"drift: PSI of {pooled.index[0]} {pooled.iloc[0]:.2f} > {settings['psi_threshold']}", daily
    return None, daily


def write_drift(con: duckdb.DuckDBPyConnection, drift: pd.DataFrame) -> None:
    if drift.empty:
        return
    days = sorted(drift["day"].unique())
    write_days(con, "monitoring.feature_drift_daily", drift, "day", days[0], days[-1])


def run_detection(
    con: duckdb.DuckDBPyConnection, registry: ModelRegistry, first: date, last: date, settings: dict[str, Any]
) -> dict[str, Any]:
    """Score and alert days first..last, retraining (challenger + gate) whenever it is due.

    Each day is scored by the champion in force that day; a model is trained only on what was
    known before the day it starts scoring.
    """
    summary: dict[str, Any] = {
        "scored": 0,
        "rescored_on_claim": 0,
        "alerts": 0,
        "retrained": [],
        "by_route": {},
    }
    loaded: dict[str, DetectionSystem] = {}  # the champion in force, unpickled once (`load_version`)
    day = first
    while day <= last:
        reason, drift = retrain_reason(con, registry, day, settings)
        write_drift(con, drift)
        if reason:
            decision = retrain_and_gate(
                con, registry, datetime.combine(day, datetime.min.time()), day.isoformat(), reason, loaded
            )
            summary["retrained"].append(
                {"day": day.isoformat(), "why": reason, "promoted": decision.get("accepted")}
            )
        # score one drift window with today's champion, then look again
        version = str(registry.alias_version("champion"))
        period_end = min(last, day + timedelta(days=int(settings["drift_window_days"]) - 1))
        result = score_and_alert(con, load_version(registry, version, loaded), version, day, period_end)
        summary["scored"] += result.scored
        summary["alerts"] += result.alerts
        summary["rescored_on_claim"] += result.rescored
        for route, count in result.by_route.items():
            summary["by_route"][route] = summary["by_route"].get(route, 0) + count
        day = period_end + timedelta(days=1)
    summary["champion"] = registry.alias_version("champion")
    return summary
