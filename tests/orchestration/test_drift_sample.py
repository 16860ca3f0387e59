"""The drift sample is the same rows on every run, whatever the table's order or DuckDB's threads."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from orchestration.scoring import drift_sample

SETTINGS = {"drift_features": ["amount"], "drift_sample_rows": 300, "drift_sample_seed": 0}
START, END = datetime(2025, 3, 1), datetime(2025, 3, 29)


def _features(order: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("CREATE SCHEMA features")
    con.execute(
        f"""
        CREATE TABLE features.fct_transaction_features AS
        SELECT
            'tx-' || lpad(range::VARCHAR, 6, '0') AS transaction_id,
            TIMESTAMP '2025-02-01' + to_minutes(range * 7) AS transacted_at,
            (TIMESTAMP '2025-02-01' + to_minutes(range * 7))::DATE AS transacted_date,
            (range * 7919 % 100000)::DOUBLE AS amount
        FROM range(20000)
        ORDER BY {order}
        """
    )
    return con


def _ids(con: duckdb.DuckDBPyConnection, settings: dict) -> set[tuple]:
    sample = drift_sample(con, START, END, settings)
    return set(map(tuple, sample[["transacted_date", "amount"]].astype(str).to_numpy()))


def test_same_sample_whatever_the_order_and_threads():
    first = _ids(_features("transaction_id", 1), SETTINGS)
    second = _ids(_features("amount DESC", 2), SETTINGS)
    assert len(first) == SETTINGS["drift_sample_rows"]
    assert first == second


def test_sample_stays_in_the_window_and_follows_the_seed():
    con = _features("transaction_id", 2)
    sample = drift_sample(con, START, END, SETTINGS)
    assert sample["transacted_date"].min() >= START
    assert sample["transacted_date"].max() < END
    other_seed = _ids(con, {**SETTINGS, "drift_sample_seed": 1})
    assert other_seed != _ids(con, SETTINGS)


def test_small_window_returns_every_row():
    con = _features("transaction_id", 2)
    everything = con.execute(
        "SELECT count(*) FROM features.fct_transaction_features WHERE transacted_at >= ? AND transacted_at < ?",
        [START, END],
    ).fetchone()[0]
    sample = drift_sample(con, START, END, {**SETTINGS, "drift_sample_rows": everything + 10})
    assert len(sample) == everything


@pytest.mark.parametrize("rows", [1, 50])
def test_sample_size_is_the_configured_rows(rows):
    assert (
        len(drift_sample(_features("transaction_id", 2), START, END, {**SETTINGS, "drift_sample_rows": rows}))
        == rows
    )
