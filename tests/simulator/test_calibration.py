"""The default Company A reproduces the client's situation (DOMAIN.md section 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulator.conftest import read_calibration
from tests.simulator.test_typologies import assert_rates_within_sampling_error

pytestmark = pytest.mark.xdist_group("simulator_default")


def test_default_company_size(default_company: Path) -> None:
    calibration = read_calibration(default_company)
    assert calibration["employees"] == 2000
    assert 200_000 < calibration["transactions"] < 400_000


def test_legacy_filters_are_noisy(default_company: Path) -> None:
    calibration = read_calibration(default_company)
    assert calibration["legacy_rule_precision"] < 0.20
    assert calibration["legacy_tree_precision"] < 0.20
    assert calibration["legacy_tree_alerts"] > 0


def test_legacy_filters_miss_much_misuse(default_company: Path) -> None:
    calibration = read_calibration(default_company)
    assert calibration["legacy_recall_amount"] < 0.60
    blind = [name for name, entry in calibration["typologies"].items() if entry["legacy_recall"] < 0.20]
    assert len(blind) >= 5, blind
    seen = [name for name, entry in calibration["typologies"].items() if entry["legacy_recall"] > 0.5]
    assert seen, "some typologies should be visible to the legacy filters"


def test_alerts_overflow_reviewer_capacity(default_company: Path) -> None:
    calibration = read_calibration(default_company)
    assert calibration["alerts_per_workday_mean"] > calibration["reviewer_capacity_per_day"]
    assert calibration["overflow_workday_share"] > 0.5
    assert 0.2 < calibration["unreviewed_share"] < 1.0


def test_default_typology_rates_within_sampling_error(default_company: Path) -> None:
    assert_rates_within_sampling_error(default_company)


def test_misusers_are_a_minority(default_company: Path) -> None:
    calibration = read_calibration(default_company)
    assert 0.02 < calibration["misusing_employee_share"] < 0.3
