"""Publish a consistent read-only snapshot of the warehouse for the dashboard.

The snapshot is written beside the current one and swapped in with one atomic rename, so a
reader sees either the previous snapshot or the new one, never a half-written file; a run that
dies before the rename leaves the previous snapshot untouched.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

# Schemas the dashboard reads; build-only schemas stay in the warehouse.
PUBLISHED_SCHEMAS = ("raw", "staging", "intermediate", "features", "rules", "marts", "seeds", "monitoring")


def publish_snapshot(warehouse: Path, snapshot: Path) -> dict[str, object]:
    """Copy the warehouse into ``snapshot`` atomically; return row counts for metadata."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    staging = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    shutil.copyfile(warehouse, staging)
    check = duckdb.connect(str(staging))
    try:
        check.execute(
            "CREATE SCHEMA IF NOT EXISTS meta; CREATE OR REPLACE TABLE meta.published AS SELECT ?::TIMESTAMP AS published_at",
            [datetime.now()],
        )
        tables = check.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema IN "
            f"({', '.join('?' for _ in PUBLISHED_SCHEMAS)})",
            list(PUBLISHED_SCHEMAS),
        ).fetchall()[0][0]
        check.execute("CHECKPOINT")
    finally:
        check.close()
    with open(staging, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, snapshot)
    return {"snapshot": str(snapshot), "tables": int(tables), "bytes": snapshot.stat().st_size}
