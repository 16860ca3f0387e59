"""Shared fixture: the dbt project built once on the hand-made warehouse (tests/dbt/warehouse_factory.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dbt.dbt_helpers import run_dbt
from tests.dbt.warehouse_factory import build_landing, write_warehouse


@dataclass(frozen=True)
class BuiltProject:
    warehouse: Path
    work_dir: Path


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> BuiltProject:
    work_dir = tmp_path_factory.mktemp("dbt_full")
    warehouse = work_dir / "warehouse.duckdb"
    write_warehouse(warehouse, build_landing(hr=True))
    run_dbt(["build"], warehouse, work_dir)
    return BuiltProject(warehouse=warehouse, work_dir=work_dir)
