"""The contract, its raw tables and the Great Expectations suites in the repository agree."""

from __future__ import annotations

import json

import duckdb

from orchestration.contract import META_COLUMNS, load_contract
from orchestration.ingest.expectations import SUITES_DIR, suite_from_contract
from orchestration.warehouse import ensure_raw_tables


def test_suites_in_repo_match_the_contract() -> None:
    for source in load_contract().values():
        stored = json.loads((SUITES_DIR / f"{source.name}.json").read_text(encoding="utf-8"))
        assert stored == json.loads(json.dumps(suite_from_contract(source))), (
            f"{source.name}: run `python -m orchestration.ingest.expectations` after editing contract.yml"
        )


def test_every_constraint_has_an_expectation() -> None:
    for source in load_contract().values():
        kinds = {(e["type"], e["kwargs"].get("column")) for e in suite_from_contract(source)["expectations"]}
        for column in source.columns:
            if column.required:
                assert ("expect_column_values_to_not_be_null", column.name) in kinds
            if column.allowed:
                assert ("expect_column_values_to_be_in_set", column.name) in kinds
            if column.max == "now":
                assert ("expect_column_values_to_be_between", column.name) in kinds


def test_raw_tables_exist_for_every_source_even_when_absent() -> None:
    con = duckdb.connect()
    ensure_raw_tables(con)
    for source in load_contract().values():
        columns = [r[0] for r in con.execute(f"DESCRIBE raw.{source.name}").fetchall()]
        assert columns == [*source.column_names, *META_COLUMNS]
    present = con.execute("SELECT count(*) FROM raw._sources WHERE is_present").fetchall()[0][0]
    assert present == 0
