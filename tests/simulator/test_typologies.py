"""Misuse typologies: each appears at its configured rate and looks like what its name says."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from simulator.cli import simulate
from simulator.config import load_params, typology_names
from simulator.merchants import CATEGORY_MAP_FILE
from tests.simulator.conftest import read_calibration, run_simulate
from tests.simulator.test_output import read_source

PARAMS = load_params()
LINE = PARAMS["amounts"]["approval_line"]
CAP = PARAMS["amounts"]["per_person_cap"]


def labelled(out: Path) -> pd.DataFrame:
    truth = pq.read_table(out / "truth" / "transactions.parquet").to_pandas()
    tx = read_source(out, "card_transactions").merge(truth, on="transaction_id")
    tx["amount"] = tx["amount"].astype(int)
    tx["date"] = tx["transacted_at"].str.slice(0, 10)
    tx["hour"] = tx["transacted_at"].str.slice(11, 13).astype(int)
    employees = read_source(out, "employees")
    return tx.merge(employees, on="employee_id", how="left")


def assert_rates_within_sampling_error(out: Path) -> None:
    calibration = read_calibration(out)
    n = calibration["transactions"]
    for name, entry in calibration["typologies"].items():
        per_event = float(PARAMS["misuse"]["typologies"][name]["txns_per_event"])
        expected = entry["configured_rate"] * n
        observed = entry["transactions"]
        sd = math.sqrt(expected * per_event)
        assert observed > 0, f"{name} never appears"
        assert abs(observed - expected) <= 4 * sd + 1, (
            f"{name}: {observed} transactions, expected {expected:.0f}"
        )


@pytest.mark.xdist_group("simulator_heavy")
def test_every_typology_appears_at_its_rate(heavy: Path) -> None:
    assert_rates_within_sampling_error(heavy)
    truth = pq.read_table(heavy / "truth" / "transactions.parquet").to_pandas()
    assert set(truth["typology"].dropna()) == set(typology_names())


@pytest.mark.xdist_group("simulator_heavy")
def test_misuse_rate_option_scales_every_typology(heavy: Path) -> None:
    calibration = read_calibration(heavy)
    configured = sum(entry["configured_rate"] for entry in calibration["typologies"].values())
    assert configured == pytest.approx(0.08)
    assert calibration["misuse_rate_count"] == pytest.approx(0.08, rel=0.25)


@pytest.mark.xdist_group("simulator_heavy")
def test_misusers_are_a_minority_some_habitual(heavy: Path) -> None:
    tx = labelled(heavy)
    misuse = tx[tx["is_misuse"]]
    per_employee = misuse.groupby("employee_id").size()
    assert len(per_employee) < 0.5 * tx["employee_id"].nunique()
    assert (per_employee >= 5).sum() >= 5  # habitual
    assert (per_employee == 1).sum() >= 5  # one-off


def test_disabling_a_typology_removes_it(tmp_path: Path) -> None:
    out = run_simulate(
        tmp_path / "off",
        "--employees",
        "150",
        "--months",
        "3",
        "--misuse-rate",
        "0.06",
        "--disable",
        "leave_use,gift_cards",
    )
    truth = pq.read_table(out / "truth" / "transactions.parquet").to_pandas()
    seen = set(truth["typology"].dropna())
    assert {"leave_use", "gift_cards"}.isdisjoint(seen)
    assert {"restricted_merchant", "limit_hugging"} <= seen
    assert set(read_calibration(out)["typologies"]) == set(typology_names()) - {"leave_use", "gift_cards"}


def test_enabling_only_some_typologies(tmp_path: Path) -> None:
    out = run_simulate(
        tmp_path / "only",
        "--employees",
        "150",
        "--months",
        "3",
        "--misuse-rate",
        "0.06",
        "--typologies",
        "restricted_merchant,limit_hugging",
    )
    truth = pq.read_table(out / "truth" / "transactions.parquet").to_pandas()
    assert set(truth["typology"].dropna()) == {"restricted_merchant", "limit_hugging"}


def test_unknown_typology_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(simulate, ["--out", str(tmp_path), "--disable", "no_such_thing"])
    assert result.exit_code != 0
    assert "no_such_thing" in result.output


def _groups() -> dict[str, str]:
    seed = pd.read_csv(CATEGORY_MAP_FILE, dtype=str)
    return dict(zip(seed["merchant_category"], seed["category_group"], strict=True))


@pytest.mark.xdist_group("simulator_heavy")
def test_typologies_look_like_their_names(heavy: Path) -> None:
    tx = labelled(heavy)
    groups = _groups()
    tx["group"] = tx["merchant_category"].map(groups)
    mis = {name: frame for name, frame in tx[tx["is_misuse"]].groupby("typology")}
    leave = read_source(heavy, "leave")
    trips = read_source(heavy, "trips")
    links = read_source(heavy, "related_parties")
    claims = read_source(heavy, "expense_claims")

    restricted = {"entertainment", "hygiene", "leisure", "gambling", "restricted_other", "extended_block"}
    assert mis["restricted_merchant"]["group"].isin(restricted).all()
    assert mis["gift_cards"]["merchant_category"].isin(["상품권", "기프트카드"]).all()
    hug = mis["limit_hugging"]["amount"]
    assert ((hug >= 0.9 * LINE) & (hug < LINE)).all()

    near = mis["personal_near_home"]
    assert (near["merchant_region"] == near["home_region"]).all()
    weekday = pd.to_datetime(near["date"]).dt.weekday
    assert ((weekday >= 5) | (near["hour"] >= 19) | (near["hour"] < 3)).mean() > 0.9

    same_day = mis["split_same_day"]
    assert (same_day["amount"] < LINE).all()
    totals = same_day.groupby(["card_id", "merchant_id", "date"])["amount"].agg(["sum", "size"])
    assert (totals["size"] >= 2).mean() > 0.9 and (totals.loc[totals["size"] >= 2, "sum"] >= LINE).all()

    across = mis["split_across_days"]
    assert (across["amount"] < LINE).all()
    spans = across.groupby(["employee_id", "merchant_id"])["date"].nunique()
    assert (spans >= 2).mean() > 0.8

    two = mis["split_two_cards"]
    cards = two.groupby(["employee_id", "merchant_id", "date"])["card_id"].nunique()
    assert (cards == 2).mean() > 0.9

    on_leave = mis["leave_use"].merge(leave, on="employee_id")
    inside = on_leave[
        (on_leave["date"] >= on_leave["start_date"]) & (on_leave["date"] <= on_leave["end_date"])
    ]
    assert set(inside["transaction_id"]) == set(mis["leave_use"]["transaction_id"])

    after = mis["after_termination_or_dormant"]
    ended = (after["termination_date"] != "") & (after["date"] > after["termination_date"])
    first_use = tx.groupby("card_id")["date"].min()
    start = tx["date"].min()
    dormant = after["card_id"].map(first_use).eq(after["date"]) | (
        pd.to_datetime(after["date"]) - pd.Timestamp(start)
    ).dt.days.ge(90)
    assert (ended | dormant).all()
    assert ended.any()

    dup = mis["duplicate_claim"]
    claim_count = claims.groupby("transaction_id").size()
    twice = dup["transaction_id"].map(claim_count).fillna(0) >= 2
    twins = tx.groupby(["card_id", "merchant_id", "amount"]).size()
    repeated = pd.Series(list(zip(dup["card_id"], dup["merchant_id"], dup["amount"], strict=True))).map(twins)
    assert (twice.to_numpy() | (repeated.to_numpy() >= 2)).all()

    inflated = mis["inflated_attendees"].merge(claims, on="transaction_id")
    assert (inflated["amount"] <= inflated["attendee_count"].astype(int) * CAP).all()
    assert (inflated["amount_at_stake"] < inflated["amount"]).all()

    related = mis["related_party"].merge(links, on="employee_id")
    hit = related[related["merchant_business_no"] == related["business_no"]]
    assert set(hit["transaction_id"]) == set(mis["related_party"]["transaction_id"])

    fake = mis["fake_trip"]
    away = fake[fake["merchant_region"] != fake["work_region"]]
    assert len(away) >= 0.7 * len(fake)
    covered = away.merge(trips, on="employee_id")
    covered = covered[(covered["date"] >= covered["start_date"]) & (covered["date"] <= covered["end_date"])]
    assert covered.empty

    creep = mis["personal_creep"]
    assert creep["merchant_category"].isin(list(PARAMS["misuse"]["creep_categories"])).all()
    growth = creep.assign(month=creep["date"].str.slice(0, 7)).groupby(["employee_id", "month"]).size()
    first_last = growth.groupby(level=0).agg(["first", "last", "size"])
    grown = first_last[first_last["size"] >= 3]
    assert len(grown) == 0 or (grown["last"] >= grown["first"]).mean() >= 0.5


@pytest.mark.xdist_group("simulator_default")
def test_legitimate_patterns_that_look_suspicious_exist(default_company: Path) -> None:
    tx = labelled(default_company)
    legit = tx[~tx["is_misuse"] & (tx["status"] == "approved")]
    claims = read_source(default_company, "expense_claims").drop_duplicates("transaction_id")
    claims = claims[["transaction_id", "purpose_category", "is_official_event", "attendee_count"]]
    legit = legit.merge(claims, on="transaction_id", how="left")
    weekday = pd.to_datetime(legit["date"]).dt.weekday
    night = (legit["hour"] >= 23) | (legit["hour"] < 6)
    sales_weekend = legit[(legit["job_family"] == "sales") & (weekday >= 5)]
    assert (sales_weekend["purpose_category"] == "client_entertainment").sum() > 100
    field_night = legit[(legit["job_family"] == "field_operations") & night]
    assert len(field_night) > 1000
    hof = legit[
        legit["merchant_category"].isin(["호프", "일반주점"]) & (legit["is_official_event"] == "true")
    ]
    assert len(hof) > 50
    year_end = legit[
        legit["date"].str.startswith("2025-12") & (legit["purpose_category"] == "official_event")
    ]
    assert (year_end["amount"] >= LINE).sum() > 10
    round_fees = legit[(legit["amount"] % 10000 == 0) & (legit["amount"] >= 100000)]
    assert len(round_fees) > 500
    trips = read_source(default_company, "trips")
    away = legit[legit["merchant_region"] != legit["work_region"]].merge(trips, on="employee_id")
    on_trip = away[(away["date"] >= away["start_date"]) & (away["date"] <= away["end_date"])]
    assert on_trip["transaction_id"].nunique() > 10000
    refunds = tx[tx["status"].isin(["refund", "cancelled"])]
    assert len(refunds) > 0.01 * len(tx)
    amounts = legit.loc[legit["merchant_category"] == "한식", "amount"]
    assert np.log(amounts).std() > 0.3  # log-normal spread, not a constant
