"""The landing files: contract shape, formats, determinism, no future dates, truth kept apart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestration.contract import load_contract
from simulator.merchants import CATEGORY_MAP_FILE
from tests.simulator.conftest import read_calibration

pytestmark = pytest.mark.xdist_group("simulator_small")


def read_source(out: Path, source: str) -> pd.DataFrame:
    files = sorted((out / "landing" / source).glob("*.csv"))
    assert files, f"no files for {source}"
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)


def all_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(small: Path, small_again: Path) -> None:
    first, second = all_files(small), all_files(small_again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_other_seed_gives_other_data(small: Path, small_other_seed: Path) -> None:
    first, other = all_files(small), all_files(small_other_seed)
    name = "landing/card_transactions/card_transactions_2025-02.csv"
    assert first[name] != other[name]


@pytest.mark.parametrize("source", list(load_contract()))
def test_every_source_has_exactly_the_contract_columns(small: Path, source: str) -> None:
    contract = load_contract()[source]
    for path in sorted((small / "landing" / source).glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == contract.column_names, path.name
    frame = read_source(small, source)
    assert len(frame) > 0
    for column in contract.columns:
        values = frame[column.name]
        if column.required:
            assert (values != "").all(), f"{source}.{column.name} has empty required cells"
        filled = values[values != ""]
        if column.allowed:
            assert set(filled) <= set(column.allowed), f"{source}.{column.name}"
        if column.pattern:
            assert filled.str.fullmatch(column.pattern).all(), f"{source}.{column.name}"
        if column.type == "timestamp":
            assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all(), (
                f"{source}.{column.name}"
            )
        if column.type == "date":
            assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), f"{source}.{column.name}"
        if column.type in ("integer", "decimal") and source != "legacy_alerts":
            assert filled.str.fullmatch(r"-?\d+").all(), f"{source}.{column.name}"
        if column.type == "boolean":
            assert set(filled) <= {"true", "false"}
        if column.min is not None and column.type in ("integer", "decimal"):
            assert (filled.astype(float) >= column.min).all(), f"{source}.{column.name}"


def test_monthly_sources_are_split_by_month(small: Path) -> None:
    names = sorted(p.name for p in (small / "landing" / "card_transactions").glob("*.csv"))
    assert names == [f"card_transactions_2025-0{m}.csv" for m in range(1, 5)]
    for path in (small / "landing" / "card_transactions").glob("*.csv"):
        month = path.stem.rsplit("_", 1)[1]
        frame = pd.read_csv(path, dtype=str)
        assert frame["transacted_at"].str.startswith(month).all()


def test_nothing_is_dated_in_the_future(small: Path) -> None:
    today = dt.date.today().isoformat()
    for source, spec in load_contract().items():
        frame = read_source(small, source)
        for column in spec.columns:
            if column.type in ("timestamp", "date"):
                filled = frame.loc[frame[column.name] != "", column.name]
                assert (filled.str.slice(0, 10) <= today).all(), f"{source}.{column.name}"


def test_a_period_reaching_today_stops_before_today(tmp_path: Path) -> None:
    from tests.simulator.conftest import run_simulate

    today = dt.date.today()
    start = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    out = run_simulate(tmp_path, "--employees", "60", "--months", "3", "--start", start.isoformat())
    frame = read_source(out, "card_transactions")
    assert frame["transacted_at"].str.slice(0, 10).max() < today.isoformat()
    cases = read_source(out, "case_outcomes")
    for column in ("opened_at", "explanation_received_at", "decided_at"):
        filled = cases.loc[cases[column] != "", column]
        assert (filled.str.slice(0, 10) <= today.isoformat()).all()


def test_ids_are_unique(small: Path) -> None:
    tx = read_source(small, "card_transactions")
    assert tx["transaction_id"].is_unique
    assert read_source(small, "expense_claims")["claim_id"].is_unique
    assert read_source(small, "legacy_alerts")["alert_id"].is_unique
    assert read_source(small, "employees")["employee_id"].is_unique
    assert read_source(small, "merchants")["merchant_id"].is_unique


def test_references_resolve(small: Path) -> None:
    tx = read_source(small, "card_transactions")
    ids = set(tx["transaction_id"])
    employees = set(read_source(small, "employees")["employee_id"])
    merchants = read_source(small, "merchants").set_index("merchant_id")
    assert set(tx["employee_id"]) <= employees
    assert set(tx["merchant_id"]) <= set(merchants.index)
    joined = tx.join(merchants, on="merchant_id", rsuffix="_master")
    assert (joined["merchant_name"] == joined["merchant_name_master"]).all()
    assert (joined["merchant_category"] == joined["merchant_category_master"]).all()
    assert (joined["merchant_region"] == joined["region"]).all()
    assert (joined["merchant_business_no"] == joined["business_no"]).all()
    for source in ("expense_claims", "case_outcomes", "legacy_alerts"):
        assert set(read_source(small, source)["transaction_id"]) <= ids, source
    for source in ("leave", "trips", "related_parties"):
        assert set(read_source(small, source)["employee_id"]) <= employees, source


def test_some_employees_hold_two_cards(small: Path) -> None:
    tx = read_source(small, "card_transactions")
    cards = tx.groupby("employee_id")["card_id"].nunique()
    assert (cards >= 2).sum() >= 5
    assert tx.groupby("card_id")["employee_id"].nunique().max() == 1


def test_amounts_are_krw_integers_never_zero_and_signed_by_status(small: Path) -> None:
    tx = read_source(small, "card_transactions")
    amount = tx["amount"].astype(int)
    assert (amount != 0).all()
    assert (tx.loc[amount < 0, "status"].isin(["refund", "cancelled"])).all()
    assert (tx.loc[amount > 0, "status"] == "approved").all()
    assert set(tx["status"]) == {"approved", "refund", "cancelled"}
    assert set(tx["currency"]) == {"KRW"}


def test_merchants_use_the_issuer_category_map(small: Path) -> None:
    seed = pd.read_csv(CATEGORY_MAP_FILE, dtype=str)
    pairs = set(zip(seed["merchant_category"], seed["mcc"], strict=True))
    merchants = read_source(small, "merchants")
    assert set(zip(merchants["merchant_category"], merchants["mcc"], strict=True)) <= pairs
    assert merchants["region"].str.fullmatch(r"\S+ \S+").all()
    assert merchants["business_no"].is_unique


def test_business_numbers_carry_a_valid_check_digit(small: Path) -> None:
    weights = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    for number in read_source(small, "merchants")["business_no"].head(500):
        digits = [int(c) for c in number.replace("-", "")]
        total = sum(d * w for d, w in zip(digits[:9], weights, strict=True)) + (digits[8] * 5) // 10
        assert (10 - total % 10) % 10 == digits[9], number


def test_hr_sources_are_consistent(small: Path) -> None:
    employees = read_source(small, "employees")
    assert set(employees["job_family"]) == {"sales", "field_operations", "rnd", "back_office", "executive"}
    assert employees["department"].nunique() >= 5
    assert (employees["termination_date"] != "").sum() > 0
    ended = employees[employees["termination_date"] != ""]
    assert (ended["termination_date"] >= ended["hire_date"]).all()
    for source in ("leave", "trips"):
        frame = read_source(small, source)
        assert (frame["end_date"] >= frame["start_date"]).all()
    trips = read_source(small, "trips").merge(employees, on="employee_id")
    assert (trips["destination_region"] != trips["work_region"]).all()


def test_truth_is_apart_and_covers_every_transaction(small: Path) -> None:
    truth = pq.read_table(small / "truth" / "transactions.parquet").to_pandas()
    assert list(truth.columns) == ["transaction_id", "is_misuse", "typology", "amount_at_stake"]
    tx = read_source(small, "card_transactions")
    assert set(truth["transaction_id"]) == set(tx["transaction_id"])
    assert (truth["is_misuse"] == truth["typology"].notna()).all()
    assert (truth.loc[truth["is_misuse"], "amount_at_stake"] > 0).all()
    assert (truth.loc[~truth["is_misuse"], "amount_at_stake"] == 0).all()
    words = re.compile(r"misuse|typology|truth|at_stake", re.IGNORECASE)
    for path in (small / "landing").rglob("*.csv"):
        assert not words.search(path.read_text(encoding="utf-8").splitlines()[0]), path.name


def test_calibration_has_the_required_keys(small: Path) -> None:
    calibration = read_calibration(small)
    for key in (
        "transactions",
        "employees",
        "legacy_rule_precision",
        "legacy_tree_precision",
        "legacy_recall_count",
        "legacy_recall_amount",
        "alerts_per_day_mean",
        "reviewer_capacity_per_day",
        "unreviewed_share",
        "typologies",
    ):
        assert key in calibration, key
    for name, entry in calibration["typologies"].items():
        assert {"rate", "legacy_recall"} <= set(entry), name
    assert calibration["transactions"] == len(read_source(small, "card_transactions"))
    assert calibration["employees"] == 250


def test_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        args = ["simulate", "--employees", "80", "--months", "2", "--out", str(out), "--quiet"]
        subprocess.run(
            [sys.executable, "-m", "orchestration.cli", *args], check=True, env=env, capture_output=True
        )
        outputs.append(all_files(out))
    assert outputs[0] == outputs[1]
