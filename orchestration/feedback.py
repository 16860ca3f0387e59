"""Case outcomes decided in the case store, written back to the warehouse as raw.case_store_outcomes.

The table is replaced whole each run from the store (the store is the record; the warehouse copy
is derived), so the feedback is idempotent. dbt's case-outcome staging unions it with the
historic case_outcomes source; the label delay decides when an outcome becomes a training label.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.cases import CaseStore
from orchestration.warehouse import ensure_raw_tables


def export_case_outcomes(store: CaseStore, warehouse: Path) -> int:
    outcomes = store.outcomes()
    outcomes["_loaded_at"] = datetime.now()
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_tables(con)
        con.execute("BEGIN TRANSACTION")
        con.register("_outcomes", outcomes)
        con.execute("DELETE FROM raw.case_store_outcomes")
        columns = ", ".join(outcomes.columns)
        con.execute(f"INSERT INTO raw.case_store_outcomes ({columns}) SELECT {columns} FROM _outcomes")
        con.unregister("_outcomes")
        con.execute("COMMIT")
    finally:
        con.close()
    return len(outcomes)
