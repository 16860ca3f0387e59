"""Alerts in from the pipeline (idempotent) and outcomes out to the warehouse (contract shape)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import yaml

from orchestration.cases import Actor, CaseStore
from orchestration.cases.handoff import case_id_for, parse_reasons
from orchestration.settings import REPO_ROOT

from .conftest import Clock, make_alerts


def test_the_same_alerts_twice_open_each_case_once(store: CaseStore, lead: Actor) -> None:
    first = store.open_cases(make_alerts(10))
    assert first.as_dict() == {
        "received": 10,
        "unique": 10,
        "opened": 10,
        "already_open": 0,
        "duplicates_in_batch": 0,
    }
    again = store.open_cases(make_alerts(12))
    assert (again.opened, again.already_open) == (2, 10)
    assert again.case_ids == (case_id_for("T00010"), case_id_for("T00011"))
    assert len(store.list_cases(lead)) == 12
    opens = store.audit_trail(lead).query("action == 'open'")
    assert len(opens) == 12 and set(opens["actor"]) == {"cardwatch-pipeline"}
    assert set(opens["role"]) == {"pipeline"}


def test_repeated_rows_in_one_batch_merge_into_one_case(store: CaseStore, lead: Actor) -> None:
    alerts = pd.concat([make_alerts(1), make_alerts(1)], ignore_index=True)
    alerts.loc[1, "reasons"] = "r07_split_payment;model"
    alerts.loc[1, "score"] = 0.99
    result = store.open_cases(alerts)
    assert (result.received, result.opened, result.duplicates_in_batch) == (2, 1, 1)
    case = store.get_case(lead, case_id_for("T00000"))
    assert case.alerted_by == ("r01_restricted_merchant", "model", "r07_split_payment")
    assert case.score == 0.99


def test_a_case_already_worked_is_left_alone(store: CaseStore, reviewer: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.decide(reviewer, case_id, "cleared")
    assert store.open_cases(make_alerts(1)).opened == 0
    assert store.get_case(reviewer, case_id).decision == "cleared"


def test_card_id_stands_in_for_a_missing_employee(store: CaseStore, lead: Actor) -> None:
    alerts = make_alerts(2).drop(columns=["employee_id"])
    store.open_cases(alerts)
    assert store.get_case(lead, case_id_for("T00001")).employee_id == "K1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.drop(columns=["reasons", "card_id"]), "alerts are missing column(s): card_id, reasons"),
        (lambda a: a.assign(reasons=[[], ["x"]]), "1 alert(s) have no reasons (e.g. transaction T00000)"),
        (lambda a: a.assign(alert_date=["not a date", "2026-01-01"]), "not a date"),
    ],
)
def test_bad_alert_frames_fail_whole_with_one_line(
    store: CaseStore, lead: Actor, change, message: str
) -> None:
    with pytest.raises(ValueError) as error:
        store.open_cases(change(make_alerts(2)))
    assert message in str(error.value) and "\n" not in str(error.value)
    assert store.list_cases(lead).empty


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b", "a"], ["a", "b"]),
        ('["r1", "r2"]', ["r1", "r2"]),
        ("r1, r2|r3;r4", ["r1", "r2", "r3", "r4"]),
        ("legacy_rule:night", ["legacy_rule:night"]),
        (None, []),
        (float("nan"), []),
    ],
)
def test_reasons_are_read_in_the_usual_shapes(value, expected) -> None:
    assert parse_reasons(value) == expected


def test_outcomes_in_the_contract_shape(store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(4))  # opened 2026-03-02 00:00 UTC = 09:00 in Seoul
    confirmed, cleared, partial, still_open = (case_id_for(f"T{i:05d}") for i in range(4))
    for case_id in (confirmed, cleared, partial, still_open):
        store.assign(reviewer, case_id)
    clock.advance(days=1)
    store.request_explanation(reviewer, confirmed)
    store.request_explanation(reviewer, partial)
    clock.advance(days=2)
    store.record_explanation(reviewer, confirmed, "personal_use_admitted", "개인 용도")
    store.record_explanation(reviewer, partial, "business_meal", "일부 개인 식사")
    clock.advance(hours=5)
    store.decide(reviewer, confirmed, "confirmed")
    store.decide(reviewer, partial, "partial", 12_345)
    store.decide(reviewer, cleared, "cleared")
    store.close(reviewer, cleared)

    out = store.outcomes()
    contract = yaml.safe_load((REPO_ROOT / "orchestration" / "contract.yml").read_text(encoding="utf-8"))
    assert list(out.columns) == list(contract["sources"]["case_outcomes"]["columns"])
    assert len(out) == 3 and still_open not in set(out["transaction_id"])
    assert set(out["decision"]) <= set(contract["sources"]["case_outcomes"]["columns"]["decision"]["allowed"])
    rows = out.set_index("transaction_id")
    assert rows.loc["T00000", "alerted_by"] == "r01_restricted_merchant,model"
    assert rows.loc["T00001", "alerted_by"] == "r04_late_night"
    assert rows.loc["T00000", "opened_at"] == pd.Timestamp("2026-03-02 09:00:00")
    assert rows.loc["T00000", "explanation_requested_at"] == pd.Timestamp("2026-03-03 09:00:00")
    assert rows.loc["T00000", "explanation_received_at"] == pd.Timestamp("2026-03-05 09:00:00")
    assert rows.loc["T00000", "decided_at"] == pd.Timestamp("2026-03-05 14:00:00")
    assert rows.loc["T00000", "recovered_amount"] == 10_000.0
    assert rows.loc["T00002", "recovered_amount"] == 12_345.0
    assert rows.loc["T00001", "recovered_amount"] == 0.0
    assert pd.isna(rows.loc["T00001", "explanation_requested_at"])
    assert str(out["decided_at"].dtype).startswith("datetime64") and out["decided_at"].dt.tz is None
    assert store.outcomes(timezone="UTC").set_index("transaction_id").loc[
        "T00000", "opened_at"
    ] == pd.Timestamp("2026-03-02 00:00:00")


def test_outcomes_follow_a_reopened_case(store: CaseStore, reviewer: Actor, lead: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.decide(reviewer, case_id, "cleared")
    store.reopen(lead, case_id, "제보 접수")
    assert store.outcomes().empty
    store.request_explanation(reviewer, case_id)
    store.decide(reviewer, case_id, "confirmed")
    assert store.outcomes()["decision"].tolist() == ["confirmed"]


def test_empty_store_exports_an_empty_frame_with_the_columns(store: CaseStore) -> None:
    out = store.outcomes()
    assert out.empty and "recovered_amount" in out.columns


def test_alert_date_accepts_timestamps(store: CaseStore, lead: Actor) -> None:
    alerts = make_alerts(1).assign(alert_date=[pd.Timestamp("2026-02-28 13:00")])
    store.open_cases(alerts)
    assert store.get_case(lead, case_id_for("T00000")).alert_date == date(2026, 2, 28)
