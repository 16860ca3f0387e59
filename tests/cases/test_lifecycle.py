"""The review lifecycle: the happy path, every refusal, reopen and the explanation request."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.cases import Actor, CaseStore, InvalidTransitionError
from orchestration.cases.handoff import case_id_for
from orchestration.cases.lifecycle import STATUS_KO, STATUSES, allowed_actions

from .conftest import Clock, make_alerts


def test_happy_path_to_closed(store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(3))
    case_id = case_id_for("T00001")
    assert store.get_case(reviewer, case_id).status == "new"

    case = store.assign(reviewer, case_id)
    assert (case.status, case.assignee, case.version) == ("assigned", "kim", 2)

    case = store.request_explanation(reviewer, case_id, due_days=5)
    assert case.status == "explanation_requested"
    assert case.explanation_due == date(2026, 3, 7)

    clock.advance(days=3)
    case = store.record_explanation(reviewer, case_id, "business_meal", "팀 회의 후 식사, 참석자 4명")
    assert case.status == "explanation_received"

    clock.advance(days=1)
    case = store.decide(reviewer, case_id, "confirmed", 20_000, note="참석자 명단 불일치")
    assert (case.status, case.decision, case.recovered_amount) == ("decided", "confirmed", 20_000.0)

    case = store.close(reviewer, case_id)
    assert case.status == "closed" and case.version == 6

    history = store.history(lead, case_id)
    assert list(history["action"]) == [
        "open",
        "assign",
        "request_explanation",
        "record_explanation",
        "decide",
        "close",
    ]
    assert list(history["version"]) == [1, 2, 3, 4, 5, 6]
    assert list(history["actor"]) == ["cardwatch-pipeline", *["kim"] * 5]
    explanation = history.iloc[3]["after"]
    assert explanation["category"] == "business_meal" and "참석자" in explanation["text"]
    assert history.iloc[4]["note"] == "참석자 명단 불일치"


def test_explanation_request_uses_the_template_with_the_facts(store: CaseStore, reviewer: Actor) -> None:
    alerts = make_alerts(1)
    alerts["merchant_name"] = ["한우마을"]
    alerts["transacted_at"] = ["2026-03-01 23:40:00"]
    store.open_cases(alerts)
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.request_explanation(reviewer, case_id)
    message = store.history(reviewer, case_id).iloc[-1]["after"]["message"]
    assert "소명 요청" in message and case_id in message
    assert "T00000" in message and "10,000원" in message and "한우마을" in message
    assert "2026-03-01 23:40:00" in message and "r01_restricted_merchant" in message
    assert "2026-03-09" in message  # due in 7 days from 2026-03-02
    assert "E0" not in message and "K0" not in message  # the text never names the cardholder


def test_cleared_at_triage_without_an_explanation(store: CaseStore, reviewer: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    case = store.decide(reviewer, case_id, "cleared")
    assert (case.decision, case.recovered_amount) == ("cleared", 0.0)


def test_confirmed_defaults_to_the_full_amount(store: CaseStore, reviewer: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.request_explanation(reviewer, case_id)
    assert store.decide(reviewer, case_id, "confirmed").recovered_amount == 10_000.0


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ([], "request", "cannot request explanation case C-"),
        ([], "record", "cannot record explanation case C-"),
        ([], "decide_cleared", "cannot decide case C-"),
        ([], "close", "cannot close case C-"),
        (["assign"], "record", "in status assigned (배정); allowed from: explanation_requested"),
        (["assign"], "decide_confirmed", "before an explanation request (소명 요청)"),
        (["assign", "request"], "close", "cannot close"),
        (["assign", "request", "record", "decide_cleared"], "decide_cleared", "in status decided (결정)"),
        (["assign", "request", "record", "decide_cleared", "close"], "assign", "in status closed (종결)"),
        (["assign", "request", "record", "decide_cleared", "close"], "request", "in status closed"),
    ],
)
def test_invalid_transitions_raise_one_line(
    store: CaseStore, reviewer: Actor, steps: list[str], action: str, message: str
) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    run = {
        "assign": lambda: store.assign(reviewer, case_id),
        "request": lambda: store.request_explanation(reviewer, case_id),
        "record": lambda: store.record_explanation(reviewer, case_id, "other", "설명"),
        "decide_cleared": lambda: store.decide(reviewer, case_id, "cleared"),
        "decide_confirmed": lambda: store.decide(reviewer, case_id, "confirmed", 1_000),
        "close": lambda: store.close(reviewer, case_id),
    }
    for step in steps:
        run[step]()
    before = store.get_case(reviewer, case_id)
    with pytest.raises(InvalidTransitionError) as error:
        run[action]()
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    after = store.get_case(reviewer, case_id)
    assert after.version == before.version and after.status == before.status


@pytest.mark.parametrize(
    ("decision", "amount", "message"),
    [
        ("partial", None, "needs the recovered amount"),
        ("partial", 10_000, "less than 10,000"),
        ("partial", 0, "more than 0"),
        ("confirmed", 10_001, "between 0 and the amount 10,000"),
        ("confirmed", -1, "between 0"),
        ("cleared", 500, "a cleared case recovers nothing"),
        ("recovered", None, "unknown decision"),
    ],
)
def test_decision_arguments_are_checked(
    store: CaseStore, reviewer: Actor, decision: str, amount: float | None, message: str
) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.request_explanation(reviewer, case_id)
    with pytest.raises(InvalidTransitionError, match=message):
        store.decide(reviewer, case_id, decision, amount)


def test_explanation_needs_known_category_and_text(store: CaseStore, reviewer: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.request_explanation(reviewer, case_id)
    with pytest.raises(InvalidTransitionError, match="unknown explanation category"):
        store.record_explanation(reviewer, case_id, "because", "text")
    with pytest.raises(InvalidTransitionError, match="is empty"):
        store.record_explanation(reviewer, case_id, "other", "  ")


def test_reopen_by_lead_keeps_the_earlier_decision_in_the_trail(
    store: CaseStore, reviewer: Actor, lead: Actor
) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.decide(reviewer, case_id, "cleared")
    store.close(reviewer, case_id)
    with pytest.raises(InvalidTransitionError, match="needs a reason"):
        store.reopen(lead, case_id, "")
    case = store.reopen(lead, case_id, "영수증 재검토 필요")
    assert (case.status, case.decision, case.decided_at, case.assignee) == ("assigned", None, None, "kim")
    store.request_explanation(reviewer, case_id)
    store.record_explanation(reviewer, case_id, "personal_use_admitted", "개인 사용 인정")
    assert store.decide(reviewer, case_id, "confirmed").decision == "confirmed"
    decisions = [
        e["after"]["decision"] for _, e in store.history(lead, case_id).iterrows() if e["action"] == "decide"
    ]
    assert decisions == ["cleared", "confirmed"]


def test_follow_up_request_after_an_explanation(store: CaseStore, reviewer: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    first = store.request_explanation(reviewer, case_id).explanation_requested_at
    store.record_explanation(reviewer, case_id, "business_meal", "회의 식대")
    clock.advance(days=2)
    case = store.request_explanation(reviewer, case_id, message="참석자 명단을 보내 주세요.")
    assert case.status == "explanation_requested" and case.explanation_requested_at == first
    assert store.history(reviewer, case_id).iloc[-1]["after"]["message"] == "참석자 명단을 보내 주세요."


def test_every_status_has_a_korean_name_and_a_way_forward() -> None:
    assert set(STATUS_KO) == set(STATUSES)
    for status in STATUSES:
        assert allowed_actions(status), status
