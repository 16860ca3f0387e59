"""The build warehouse: one DuckDB file. Raw tables follow the landing contract."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from orchestration.config import pipeline_config
from orchestration.contract import load_contract

LOAD_LOG_SQL = """
CREATE TABLE IF NOT EXISTS raw._load_log (
    load_id VARCHAR,
    source VARCHAR,
    file VARCHAR,
    file_sha256 VARCHAR,
    status VARCHAR,            -- loaded | rejected | skipped_duplicate_file | empty
    rows_read BIGINT,
    rows_accepted BIGINT,
    rows_quarantined BIGINT,
    rows_set_aside BIGINT,     -- rows a mapping filters out with a stated reason (e.g. subtotals)
    message VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
)
"""

QUARANTINE_SQL = """
CREATE TABLE IF NOT EXISTS raw._quarantine (
    load_id VARCHAR,
    source VARCHAR,
    file VARCHAR,
    file_sha256 VARCHAR,
    line BIGINT,
    kind VARCHAR,              -- quarantined (bad row) | set_aside (filtered by the mapping, with its reason)
    reason VARCHAR,
    raw_row VARCHAR,
    quarantined_at TIMESTAMP
)
"""

CASE_STORE_OUTCOMES_SQL = """
CREATE TABLE IF NOT EXISTS raw.case_store_outcomes (
    transaction_id VARCHAR,
    alerted_by VARCHAR,
    opened_at TIMESTAMP,
    explanation_requested_at TIMESTAMP,
    explanation_received_at TIMESTAMP,
    decided_at TIMESTAMP,
    decision VARCHAR,
    recovered_amount DECIMAL(18, 2),
    _loaded_at TIMESTAMP
)
"""

SOURCES_SQL = """
CREATE TABLE IF NOT EXISTS raw._sources (
    source VARCHAR PRIMARY KEY,
    is_required BOOLEAN,
    is_present BOOLEAN,        -- at least one file of this source has been loaded
    row_count BIGINT,
    last_loaded_at TIMESTAMP
)
"""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema: one table per contract source (empty if absent) and the bookkeeping."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source in load_contract().values():
        con.execute(source.create_table_sql())
    con.execute(LOAD_LOG_SQL)
    con.execute(QUARANTINE_SQL)
    con.execute(SOURCES_SQL)
    con.execute(CASE_STORE_OUTCOMES_SQL)
    refresh_sources(con)


def refresh_sources(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute raw._sources from what is loaded."""
    for source in load_contract().values():
        rows, last = con.execute(f"SELECT count(*), max(_loaded_at) FROM raw.{source.name}").fetchall()[0]
        files = con.execute(
            "SELECT count(*) FROM raw._load_log WHERE source = ? AND status IN ('loaded', 'empty')",
            [source.name],
        ).fetchall()[0][0]
        con.execute(
            """
            INSERT OR REPLACE INTO raw._sources VALUES (?, ?, ?, ?, ?)
            """,
            [source.name, source.required, files > 0, rows, last],
        )


def dbt_threads(path: Path) -> int:
    """How many models dbt builds at once for this warehouse (``CARDWATCH_DBT_THREADS`` overrides).

    The models dbt builds together share DuckDB's one memory limit. On a large company two heavy window
    models side by side outgrow it and spill (docs/operations.md, "Large companies"), so from the
    configured number of card transactions dbt builds one model at a time; DuckDB still runs each query
    on every core.
    """
    if os.environ.get("CARDWATCH_DBT_THREADS"):
        return int(os.environ["CARDWATCH_DBT_THREADS"])
    settings = pipeline_config()["dbt"]
    threads = int(settings["threads"])
    if not path.exists():
        return threads
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = 'raw' AND table_name = 'card_transactions'"
        ).fetchone()[0]
        transactions = con.execute("SELECT count(*) FROM raw.card_transactions").fetchone()[0] if found else 0
    finally:
        con.close()
    return 1 if transactions >= int(settings["single_thread_from_transactions"]) else threads
