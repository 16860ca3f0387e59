"""The reviewer queue, one case's history, workload numbers and the threshold change log."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.cases import Actor, CaseStore, InvalidTransitionError
from orchestration.cases.handoff import case_id_for

from .conftest import Clock, make_alerts


def test_queue_filters_and_sorts(store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(10))  # scores 0.00..0.09, amounts 10k..100k, alert dates 03-01..03-05
    clock.advance(days=1)
    store.open_cases(make_alerts(5, start=10))
    store.assign(reviewer, case_id_for("T00003"))
    store.assign(lead, case_id_for("T00004"), "choi")

    everything = store.list_cases(lead)
    assert len(everything) == 15
    assert list(everything["score"]) == sorted(everything["score"], reverse=True)
    assert list(store.list_cases(lead, sort="amount", descending=False)["amount"]) == sorted(
        everything["amount"]
    )
    by_age = store.list_cases(lead, sort="age")
    assert set(by_age["transaction_id"].iloc[:10]) == {f"T{i:05d}" for i in range(10)}  # oldest first
    assert by_age["age_days"].iloc[0] == pytest.approx(1.0) and by_age["age_days"].iloc[-1] == pytest.approx(
        0.0
    )

    assert list(store.list_cases(lead, assignee="kim")["transaction_id"]) == ["T00003"]
    assert len(store.list_cases(lead, unassigned=True)) == 13
    assert len(store.list_cases(lead, status="assigned")) == 2
    assert len(store.list_cases(lead, status=["new", "assigned"])) == 15
    assert set(store.list_cases(lead, min_score=0.12)["transaction_id"]) == {"T00012", "T00013", "T00014"}
    window = store.list_cases(lead, date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))
    assert set(window["alert_date"]) == {date(2026, 3, 2), date(2026, 3, 3)} and len(window) == 6
    page = store.list_cases(lead, sort="amount", limit=4, offset=4)
    assert list(page["amount"]) == list(store.list_cases(lead, sort="amount")["amount"].iloc[4:8])
    assert store.list_cases(lead, escalated=True).empty
    assert list(store.list_cases(lead).columns)[:3] == ["case_id", "transaction_id", "employee_id"]
    with pytest.raises(ValueError, match="unknown sort 'risk'"):
        store.list_cases(lead, sort="risk")
    with pytest.raises(ValueError, match="unknown status open"):
        store.list_cases(lead, status="open")


def test_empty_queue_has_the_columns(store: CaseStore, reviewer: Actor) -> None:
    queue = store.list_cases(reviewer)
    assert queue.empty and "status_ko" in queue.columns


def test_allowed_actions_follow_status_and_role(
    store: CaseStore, reviewer: Actor, other_reviewer: Actor, lead: Actor, auditor: Actor
) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    assert store.allowed_actions(reviewer, store.get_case(reviewer, case_id)) == ["assign", "comment"]
    store.assign(reviewer, case_id)
    case = store.get_case(reviewer, case_id)
    assert store.allowed_actions(reviewer, case) == ["request_explanation", "decide", "comment"]
    assert store.allowed_actions(other_reviewer, case) == ["comment"]
    assert store.allowed_actions(lead, case) == [
        "assign",
        "request_explanation",
        "decide",
        "escalate",
        "comment",
    ]
    assert store.allowed_actions(auditor, case) == []


def test_workload_numbers(store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(6))  # day 0
    ids = [case_id_for(f"T{i:05d}") for i in range(6)]
    for case_id in ids[:4]:
        store.assign(reviewer, case_id)
        store.request_explanation(reviewer, case_id, due_days=3)
    clock.advance(days=2)
    store.record_explanation(reviewer, ids[0], "business_meal", "식대")
    clock.advance(days=2)
    store.record_explanation(reviewer, ids[1], "business_meal", "식대")
    store.decide(reviewer, ids[0], "confirmed")  # 4 days after opening
    clock.advance(days=2)
    store.decide(reviewer, ids[1], "cleared")  # 6 days after opening
    store.close(reviewer, ids[1])
    store.open_cases(make_alerts(2, start=6))  # day 6

    numbers = store.workload(lead)
    assert (numbers.opened, numbers.decided, numbers.closed, numbers.backlog) == (8, 2, 1, 6)
    assert numbers.median_days_to_explanation == 3.0  # 2 and 4 days
    assert numbers.median_days_to_decision == 5.0  # 4 and 6 days
    assert numbers.overdue_explanations == 2  # ids[2], ids[3] were due on day 3
    assert numbers.by_status["explanation_requested"] == 2 and numbers.by_status["new"] == 4
    by_assignee = numbers.by_assignee.set_index("assignee")
    assert by_assignee.loc["kim", "open"] == 2 and by_assignee.loc["kim", "decided"] == 2
    assert by_assignee.loc["(unassigned)", "open"] == 4

    first_days = store.workload(reviewer, date_from=date(2026, 3, 2), date_to=date(2026, 3, 6))
    assert (first_days.opened, first_days.decided, first_days.closed) == (6, 1, 0)
    assert first_days.backlog == 5  # as of the end of 2026-03-06
    assert store.workload(lead).as_dict()["by_assignee"][0]["assignee"] == "(unassigned)"


def test_workload_on_an_empty_store(store: CaseStore, lead: Actor) -> None:
    numbers = store.workload(lead)
    assert (numbers.opened, numbers.backlog, numbers.median_days_to_decision) == (0, 0, None)


def test_workload_when_no_case_has_an_explanation_due(store: CaseStore, lead: Actor) -> None:
    store.open_cases(make_alerts(3))
    numbers = store.workload(lead)
    assert (numbers.opened, numbers.backlog) == (3, 3)


def test_history_is_for_one_case_oldest_first(store: CaseStore, reviewer: Actor) -> None:
    store.open_cases(make_alerts(2))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.comment(reviewer, case_id, "가맹점 확인 중")
    store.assign(reviewer, case_id_for("T00001"))
    history = store.history(reviewer, case_id)
    assert list(history["action"]) == ["open", "assign", "comment"]
    assert list(history["action_ko"]) == ["사건 생성", "배정", "메모"]
    assert history["event_id"].is_monotonic_increasing and set(history["case_id"]) == {case_id}
    assert history.iloc[1]["before"] == {"assignee": None, "status": "new"}
    assert history.iloc[1]["after"] == {"assignee": "kim", "status": "assigned"}


def test_audit_trail_filters(store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock) -> None:
    store.open_cases(make_alerts(2))
    clock.advance(days=1)
    store.assign(reviewer, case_id_for("T00000"))
    store.assign(lead, case_id_for("T00001"), "choi")
    assert len(store.audit_trail(lead)) == 4
    assert list(store.audit_trail(lead, by="lee")["action"]) == ["assign"]
    assert len(store.audit_trail(lead, since=clock())) == 2
    assert len(store.audit_trail(lead, until=clock())) == 2
    assert len(store.audit_trail(lead, case_id=case_id_for("T00001"))) == 2


def test_threshold_changes_are_logged_with_who_when_why(
    store: CaseStore, lead: Actor, auditor: Actor, clock: Clock
) -> None:
    other_lead = store.actor("han", "lead")
    proposal = store.propose_threshold(lead, "daily_review_capacity", 60, "검토 인력 증원", old_value=40)
    rejected = store.propose_threshold(lead, "r04_late_night.start_hour", 22, "심야 기준 확대")
    assert store.applied_thresholds() == {}
    clock.advance(hours=2)
    store.apply_threshold(other_lead, proposal, note="승인")
    store.reject_threshold(other_lead, rejected, "오탐 증가 우려")
    assert store.applied_thresholds() == {"daily_review_capacity": 60}
    with pytest.raises(InvalidTransitionError, match="was already applied by han"):
        store.apply_threshold(lead, proposal)
    with pytest.raises(InvalidTransitionError, match="needs a reason"):
        store.propose_threshold(lead, "x", 1, " ")
    log = store.threshold_changes(auditor)
    assert list(log["status"]) == ["proposed", "proposed", "applied", "rejected"]
    assert list(log["actor"]) == ["lee", "lee", "han", "han"]
    assert log.iloc[0]["reason"] == "검토 인력 증원" and log.iloc[0]["old_value"] == 40
    assert log.iloc[2]["proposal_id"] == proposal and log.iloc[2]["new_value"] == 60
    assert log.iloc[2]["at"] > log.iloc[0]["at"]


def test_queue_totals_and_backlog_count_what_the_list_would(
    store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock
) -> None:
    store.open_cases(make_alerts(12))
    store.assign(lead, case_id_for("T00002"), "kim")
    store.assign(lead, case_id_for("T00001"), "kim")
    store.request_explanation(lead, case_id_for("T00001"), due_days=3)
    for filters in ({}, {"unassigned": True}, {"min_score": 0.05}, {"status": ["assigned"]}):
        everything = store.list_cases(lead, **filters)
        total, amount = store.queue_totals(lead, **filters)
        assert total == len(everything)
        assert amount == pytest.approx(everything["amount"].abs().sum())
    first = store.list_cases(lead, sort="amount", limit=4)
    assert list(first["case_id"]) == list(store.list_cases(lead, sort="amount")["case_id"].iloc[:4])
    assert store.backlog(lead) == (12, 0)
    clock.advance(days=4)  # the explanation request is now past its due date
    assert store.backlog(lead) == (12, 1)


def test_audit_trail_lists_the_latest_events_and_counts_them_all(store: CaseStore, lead: Actor) -> None:
    store.open_cases(make_alerts(6))
    store.assign(lead, case_id_for("T00002"), "kim")
    store.assign(lead, case_id_for("T00004"), "lee")
    everything = store.audit_trail(lead)
    latest = store.audit_trail(lead, latest=3)
    assert store.count_events(lead) == len(everything) == 8
    assert list(latest["event_id"]) == list(everything["event_id"].iloc[-3:])  # the newest, oldest first
    assert list(latest["action"])[-2:] == ["assign", "assign"]
    assert len(store.audit_trail(lead, latest=100)) == len(everything)
