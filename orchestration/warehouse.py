"""The build warehouse: one DuckDB file. Raw tables follow the landing contract."""

from __future__ import annotations

from pathlib import Path

import duckdb

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
