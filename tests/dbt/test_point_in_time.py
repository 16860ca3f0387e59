"""Point-in-time correctness of the features mart.

Recompute the features with every raw row after a cut-off deleted (as if the warehouse were built on the
cut-off day): the features of every transaction before the cut-off must not change.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil

import duckdb
import pytest

from tests.dbt.dbt_helpers import query, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

CUT_OFF = dt.datetime(2024, 8, 15)


def delete_after_cut_off(warehouse) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "delete from raw.expense_claims where transaction_id in "
            "(select transaction_id from raw.card_transactions where transacted_at >= ?)",
            [CUT_OFF],
        )
        con.execute("delete from raw.card_transactions where transacted_at >= ?", [CUT_OFF])
        con.execute(
            "delete from raw.case_outcomes where opened_at >= ? or decided_at >= ?", [CUT_OFF, CUT_OFF]
        )
        con.execute("delete from raw.leave where start_date >= ?", [CUT_OFF.date()])
        con.execute("delete from raw.trips where start_date >= ?", [CUT_OFF.date()])
        con.execute("delete from raw.legacy_alerts where alerted_at >= ?", [CUT_OFF])


def features_before_cut_off(warehouse) -> dict[str, dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(
            "select * from features.fct_transaction_features where transacted_at < ? order by transaction_id",
            [CUT_OFF],
        )
        columns = [description[0] for description in cursor.description]
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def same(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def test_features_use_only_the_past(built_project, tmp_path) -> None:
    full = features_before_cut_off(built_project.warehouse)
    assert len(full) > 500

    truncated_warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_project.warehouse, truncated_warehouse)
    delete_after_cut_off(truncated_warehouse)
    (later,) = query(
        truncated_warehouse, "select count(*) from raw.card_transactions where transacted_at >= ?", [CUT_OFF]
    )[0]
    assert later == 0
    run_dbt(["run", "--select", "+fct_transaction_features"], truncated_warehouse, tmp_path)
    truncated = features_before_cut_off(truncated_warehouse)

    assert truncated.keys() == full.keys()
    differences = [
        (transaction_id, column, full[transaction_id][column], value)
        for transaction_id, row in truncated.items()
        for column, value in row.items()
        if not same(full[transaction_id][column], value)
    ]
    assert differences == [], f"features changed when the future was deleted: {differences[:10]}"
