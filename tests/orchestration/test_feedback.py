"""A case decided in the case store becomes a training label in the next run, once it has matured."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ml.explain import load_parameters
from ml.labels import build_training_set
from orchestration.cases import CaseStore
from orchestration.runner import run_days
from orchestration.scoring import read_features, read_outcomes
from orchestration.settings import Paths

pytestmark = pytest.mark.slow


def test_decided_case_becomes_a_label_after_maturity_not_before(company_home: Path) -> None:
    paths = Paths.from_env()
    assert run_days(paths, date(2025, 2, 20)).success

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        reviewed_before = set(read_outcomes(con)["transaction_id"])
    finally:
        con.close()
    store = CaseStore(paths.case_store_url).create()  # decided now, like the case was opened
    lead = store.actor("lead.lee", "lead")
    cases = store.list_cases(lead)
    case = cases[~cases["transaction_id"].isin(reviewed_before)].iloc[0]  # no earlier review of its own
    case_id, transaction_id = case["case_id"], case["transaction_id"]
    store.assign(lead, case_id, "lead.lee")
    store.request_explanation(lead, case_id)
    store.record_explanation(lead, case_id, "personal_use_admitted", "개인 용도로 사용했습니다")
    store.decide(lead, case_id, "confirmed", note="환수 요청")

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert transaction_id not in set(read_outcomes(con)["transaction_id"]), (
            "not in the warehouse before a run"
        )
    finally:
        con.close()

    assert run_days(paths, date(2025, 2, 21)).success
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        outcomes = read_outcomes(con)
        transactions = read_features(con, None, datetime(2025, 3, 31))[["transaction_id", "transacted_at"]]
    finally:
        con.close()
    mine = outcomes[outcomes["transaction_id"] == transaction_id]
    assert list(mine["decision"]) == ["confirmed"] and bool(mine["is_confirmed_misuse"].iloc[0])

    delay = timedelta(days=float(load_parameters("labels")["label_delay_days"]))
    decided_local = mine["decided_at"].iloc[0]
    before = build_training_set(transactions, outcomes, decided_local + delay - timedelta(hours=1))
    after = build_training_set(transactions, outcomes, decided_local + delay + timedelta(hours=1))
    row_before = before.frame.set_index("transaction_id").loc[transaction_id]
    row_after = after.frame.set_index("transaction_id").loc[transaction_id]
    assert not bool(row_before["is_labeled"]), "a decision is not a label before the label delay has passed"
    assert bool(row_after["is_labeled"]) and row_after["label"] == 1
