"""A small simulated company, landed once per test session (each test copies it into its own tmp_path),
and its warehouse, built once per session for the tests that score it (each test scores a copy)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EMPLOYEES = 80
MONTHS = 2
START = "2025-01-01"


@pytest.fixture(scope="session")
def landed_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing files of a small Company A (simulated), as `cardwatch simulate` writes them."""
    out = tmp_path_factory.mktemp("company")
    cardwatch = Path(sys.executable).with_name("cardwatch")
    subprocess.run(
        [str(cardwatch), "simulate", "--employees", str(EMPLOYEES), "--months", str(MONTHS), "--start", START,
         "--seed", "11", "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture
def company_home(landed_company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CARDWATCH_HOME holding only the landing files (no warehouse, cases or models yet)."""
    home = tmp_path / "cardwatch"
    shutil.copytree(landed_company / "landing", home / "landing")
    monkeypatch.setenv("CARDWATCH_HOME", str(home))
    monkeypatch.delenv("CARDWATCH_WAREHOUSE", raising=False)
    monkeypatch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, landed_company: Path) -> Path:
    """The small company ingested and built by dbt once (no detection yet)."""
    from click.testing import CliRunner

    from orchestration.cli import cli

    home = tmp_path_factory.mktemp("built") / "cardwatch"
    shutil.copytree(landed_company / "landing", home / "landing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARDWATCH_HOME", str(home))
        mp.delenv("CARDWATCH_WAREHOUSE", raising=False)
        result = CliRunner().invoke(cli, ["run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return home / "warehouse.duckdb"
