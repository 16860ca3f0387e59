"""Read what the detection review needs from the warehouse, read-only.

Optional tables (the new system's ``marts.fct_scores`` and ``marts.fct_alerts``) come back as
``None`` when absent so the report can say that part is pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

TRANSACTION_COLUMNS = ["transaction_id", "employee_id", "transacted_at", "amount", "is_purchase"]


@dataclass
class ReviewData:
    """Warehouse tables for the review (``None`` = table absent).

    Attributes
    ----------
    transactions : DataFrame
        transaction_id, employee_id, transacted_at, transacted_date, amount, is_purchase and,
        when enriched, category_group.
    cases : DataFrame
        stg_casework__case_outcomes.
    legacy_alerts : DataFrame or None
    rule_hits : DataFrame or None
        fct_rule_hits.
    rules : DataFrame or None
        dim_rules.
    rule_parameters : DataFrame or None
        seed rule_parameters.
    scores : DataFrame or None
        marts.fct_scores.
    alerts : DataFrame or None
        marts.fct_alerts.
    """

    transactions: pd.DataFrame
    cases: pd.DataFrame
    legacy_alerts: pd.DataFrame | None = None
    rule_hits: pd.DataFrame | None = None
    rules: pd.DataFrame | None = None
    rule_parameters: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None


def _tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.sql("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _read(connection: duckdb.DuckDBPyConnection, tables: set[str], name: str) -> pd.DataFrame | None:
    if name not in tables:
        return None
    frame = connection.sql(f"select * from {name}").df()
    for column in ("amount", "recovered_amount", "score", "probability"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def load_review_data(warehouse_path: str | Path) -> ReviewData:
    """Open the warehouse read-only and load the review's tables.

    Raises
    ------
    ValueError
        When no transactions table or no case outcomes table exists.
    """
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        tables = _tables(connection)
        transactions = _read(connection, tables, "intermediate.int_transactions_enriched")
        if transactions is None:
            transactions = _read(connection, tables, "staging.stg_issuer__card_transactions")
        cases = _read(connection, tables, "staging.stg_casework__case_outcomes")
        if transactions is None or cases is None:
            raise ValueError(
                f"{warehouse_path}: needs card transactions and case outcomes (run the dbt build)"
            )
        data = ReviewData(
            transactions=transactions,
            cases=cases,
            legacy_alerts=_read(connection, tables, "staging.stg_casework__legacy_alerts"),
            rule_hits=_read(connection, tables, "marts.fct_rule_hits"),
            rules=_read(connection, tables, "marts.dim_rules"),
            rule_parameters=_read(connection, tables, "seeds.rule_parameters"),
            scores=_read(connection, tables, "marts.fct_scores"),
            alerts=_read(connection, tables, "marts.fct_alerts"),
        )
    finally:
        connection.close()
    tx = data.transactions
    tx["transacted_at"] = pd.to_datetime(tx["transacted_at"])
    tx["transacted_date"] = tx["transacted_at"].dt.normalize()
    tx["amount"] = pd.to_numeric(tx["amount"], errors="coerce").fillna(0.0)
    if "is_purchase" not in tx:
        tx["is_purchase"] = tx["amount"] > 0
    tx["is_purchase"] = tx["is_purchase"].astype("boolean").fillna(False).astype(bool)
    for column in ("opened_at", "explanation_requested_at", "explanation_received_at", "decided_at"):
        if column in data.cases:
            data.cases[column] = pd.to_datetime(data.cases[column])
    return data


def load_truth(truth_path: str | Path) -> pd.DataFrame:
    """Ground truth of a simulated company: a ``transactions.parquet`` file or the folder holding it.

    Returns
    -------
    DataFrame with transaction_id, is_misuse, typology, amount_at_stake.
    """
    path = Path(truth_path)
    if path.is_dir():
        path = path / "transactions.parquet"
    truth = pd.read_parquet(path)
    truth["is_misuse"] = truth["is_misuse"].astype(bool)
    truth["amount_at_stake"] = pd.to_numeric(truth["amount_at_stake"], errors="coerce").fillna(0.0)
    return truth
