"""The legacy history: alerts, review capacity, explanation cycle, decisions and the random audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator.config import load_params
from tests.simulator.conftest import read_calibration
from tests.simulator.test_output import read_source

pytestmark = pytest.mark.xdist_group("simulator_default")
PARAMS = load_params()


def test_unreviewed_alerts_have_no_outcome(default_company: Path) -> None:
    alerts = read_source(default_company, "legacy_alerts")
    cases = read_source(default_company, "case_outcomes")
    legacy_cases = cases[cases["alerted_by"] != "random_audit"]
    alerted = set(alerts["transaction_id"])
    assert set(legacy_cases["transaction_id"]) <= alerted
    assert legacy_cases["transaction_id"].is_unique
    unreviewed = alerted - set(legacy_cases["transaction_id"])
    assert len(unreviewed) / len(alerted) == pytest.approx(
        read_calibration(default_company)["unreviewed_share"]
    )
    assert len(unreviewed) > 0


def test_case_reasons_match_the_alerts(default_company: Path) -> None:
    alerts = read_source(default_company, "legacy_alerts")
    cases = read_source(default_company, "case_outcomes")
    legacy_cases = cases[cases["alerted_by"] != "random_audit"]
    pairs = set(zip(alerts["transaction_id"], alerts["alerted_by"], strict=True))
    assert all(
        pair in pairs for pair in zip(legacy_cases["transaction_id"], legacy_cases["alerted_by"], strict=True)
    )
    rules = {f"legacy_rule:{name}" for name in PARAMS["legacy"]["rules"]}
    assert set(alerts["alerted_by"]) == rules | {"legacy_tree"}
    tree = alerts[alerts["alerted_by"] == "legacy_tree"]
    scores = tree["score"].astype(float)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (alerts.loc[alerts["alerted_by"] != "legacy_tree", "score"] == "").all()
    first_tree_month = tree["alerted_at"].min()[:7]
    assert first_tree_month > "2025-03"


def test_reviewers_never_exceed_their_capacity(default_company: Path) -> None:
    cases = read_source(default_company, "case_outcomes")
    legacy_cases = cases[cases["alerted_by"] != "random_audit"]
    per_day = legacy_cases.groupby(legacy_cases["opened_at"].str.slice(0, 10)).size()
    assert per_day.max() <= round(PARAMS["legacy"]["reviewer_capacity"] * 1.1)
    weekday = pd.to_datetime(per_day.index).weekday
    assert (weekday < 5).all()


def test_case_timeline_is_ordered(default_company: Path) -> None:
    cases = read_source(default_company, "case_outcomes")
    alerts = read_source(default_company, "legacy_alerts").groupby("transaction_id")["alerted_at"].min()
    legacy_cases = cases[cases["alerted_by"] != "random_audit"]
    assert (legacy_cases["opened_at"] > legacy_cases["transaction_id"].map(alerts)).all()
    asked = cases[cases["explanation_requested_at"] != ""]
    assert (asked["explanation_requested_at"] >= asked["opened_at"]).all()
    answered = cases[cases["explanation_received_at"] != ""]
    assert (answered["explanation_received_at"] >= answered["explanation_requested_at"]).all()
    decided = cases[cases["decided_at"] != ""]
    assert (decided["decision"] != "").all()
    assert (cases.loc[cases["decided_at"] == "", "decision"] == "").all()
    with_answer = decided[decided["explanation_received_at"] != ""]
    assert (with_answer["decided_at"] >= with_answer["explanation_received_at"]).all()
    waits = pd.to_datetime(answered["explanation_received_at"]) - pd.to_datetime(
        answered["explanation_requested_at"]
    )
    assert waits.dt.days.median() >= 2 and waits.dt.days.quantile(0.9) >= 10  # days to weeks
    recovered = decided["recovered_amount"].astype(int)
    assert (recovered[decided["decision"] == "cleared"] == 0).all()
    assert (recovered[decided["decision"] == "confirmed"] > 0).all()
    assert set(decided["decision"]) == {"confirmed", "cleared", "partial"}


def test_decisions_carry_reviewer_error(default_company: Path) -> None:
    truth = pq.read_table(default_company / "truth" / "transactions.parquet").to_pandas()
    cases = read_source(default_company, "case_outcomes").merge(truth, on="transaction_id")
    decided = cases[cases["decision"] != ""]
    misuse = decided[decided["is_misuse"]]
    legit = decided[~decided["is_misuse"]]
    assert (misuse["decision"] == "cleared").mean() > 0.02
    assert (legit["decision"] != "cleared").mean() > 0.005
    assert (misuse["decision"] != "cleared").mean() > 0.6


def test_random_audit_samples_non_alerted_transactions(default_company: Path) -> None:
    cases = read_source(default_company, "case_outcomes")
    audit = cases[cases["alerted_by"] == "random_audit"]
    alerted = set(read_source(default_company, "legacy_alerts")["transaction_id"])
    assert len(audit) >= 100
    assert alerted.isdisjoint(audit["transaction_id"])
    months = audit["opened_at"].str.slice(0, 7).nunique()
    assert months >= 10


def test_random_audit_decides_in_depth(default_company: Path) -> None:
    """The internal audit's sample has its own decision tables: false findings are rare and a
    cardholder who never answers is decided on the documents, not confirmed at the deadline."""
    truth = pq.read_table(default_company / "truth" / "transactions.parquet").to_pandas()
    cases = read_source(default_company, "case_outcomes").merge(truth, on="transaction_id")
    decided = cases[cases["decision"] != ""]
    audit = decided[decided["alerted_by"] == "random_audit"]
    queue = decided[decided["alerted_by"] != "random_audit"]
    audit_false = (audit.loc[~audit["is_misuse"], "decision"] != "cleared").mean()
    queue_false = (queue.loc[~queue["is_misuse"], "decision"] != "cleared").mean()
    legit = PARAMS["legacy"]["audit_legit_decisions"]
    assert audit_false < 0.02 < queue_false
    assert legit["cleared"] > PARAMS["legacy"]["legit_decisions"]["cleared"]
    unanswered = audit[audit["explanation_received_at"] == ""]
    assert len(unanswered) > 0 and (unanswered["decision"] == "cleared").any()
    accuracy = read_calibration(default_company)["review_accuracy"]
    assert accuracy["random_audit"]["specificity"] > accuracy["alert_review"]["specificity"]
    assert accuracy["alert_review"]["decided"] + accuracy["random_audit"]["decided"] == len(decided)
