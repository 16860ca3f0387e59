"""dbt builds one model at a time on a large company, as many as configured otherwise."""

from __future__ import annotations

import duckdb
import pytest

from orchestration import warehouse
from orchestration.settings import Paths


@pytest.fixture
def settings(monkeypatch):
    config = {"dbt": {"threads": 3, "single_thread_from_transactions": 10}}
    monkeypatch.setattr(warehouse, "pipeline_config", lambda: config)
    monkeypatch.delenv("CARDWATCH_DBT_THREADS", raising=False)
    return config


def _warehouse(tmp_path, rows: int):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.card_transactions AS SELECT range AS transaction_id FROM range(?)", [rows])
    con.close()
    return path


def test_small_company_builds_with_the_configured_threads(tmp_path, settings):
    assert warehouse.dbt_threads(_warehouse(tmp_path, 9)) == 3


def test_large_company_builds_one_model_at_a_time(tmp_path, settings):
    assert warehouse.dbt_threads(_warehouse(tmp_path, 10)) == 1


def test_a_new_warehouse_uses_the_configured_threads(tmp_path, settings):
    assert warehouse.dbt_threads(tmp_path / "absent.duckdb") == 3
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert warehouse.dbt_threads(empty) == 3


def test_the_environment_variable_overrides(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("CARDWATCH_DBT_THREADS", "4")
    assert warehouse.dbt_threads(_warehouse(tmp_path, 100)) == 4


def test_dbt_subprocess_environment_carries_the_threads(tmp_path, settings, monkeypatch):
    paths = Paths.from_env(tmp_path)
    monkeypatch.setenv("CARDWATCH_WAREHOUSE", str(_warehouse(tmp_path, 50)))
    assert paths.dbt_env()["CARDWATCH_DBT_THREADS"] == "1"
