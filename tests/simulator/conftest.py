"""Simulated companies shared by the simulator tests, written under pytest's temporary directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simulator.cli import simulate

SMALL = ["--employees", "250", "--months", "4", "--start", "2025-01-01"]


def run_simulate(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(simulate, ["--out", str(out), "--quiet", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def read_calibration(out: Path) -> dict[str, Any]:
    return json.loads((out / "truth" / "calibration.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 employees over four months, seed 11."""
    return run_simulate(tmp_path_factory.mktemp("small"), *SMALL, "--seed", "11")


@pytest.fixture(scope="session")
def small_again(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_simulate(tmp_path_factory.mktemp("small_again"), *SMALL, "--seed", "11")


@pytest.fixture(scope="session")
def small_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_simulate(tmp_path_factory.mktemp("small_other"), *SMALL, "--seed", "12")


@pytest.fixture(scope="session")
def default_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default Company A (2,000 employees, 12 months from 2025-01-01, default seed)."""
    return run_simulate(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 employees over four months with a high misuse rate, so every typology has many events."""
    return run_simulate(
        tmp_path_factory.mktemp("heavy"),
        "--employees",
        "300",
        "--months",
        "4",
        "--seed",
        "5",
        "--misuse-rate",
        "0.08",
    )
