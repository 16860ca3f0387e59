"""What each role may see and do, enforced by the store, and the pseudonyms reviewers see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.cases import Actor, CasePermissionError, CaseStore, RoleBook
from orchestration.cases.handoff import case_id_for
from orchestration.cases.roles import ROLES_FILE

from .conftest import Clock, make_alerts


def _worked_case(store: CaseStore, reviewer: Actor) -> str:
    store.open_cases(make_alerts(3))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    return case_id


def test_auditor_reads_everything_and_changes_nothing(
    store: CaseStore, reviewer: Actor, auditor: Actor
) -> None:
    case_id = _worked_case(store, reviewer)
    assert len(store.list_cases(auditor)) == 3
    assert store.get_case(auditor, case_id).employee_id == "E0"
    assert len(store.history(auditor, case_id)) == 2
    assert len(store.audit_trail(auditor)) == 4
    assert store.threshold_changes(auditor).empty
    attempts = {
        "assign cases": lambda: store.assign(auditor, case_id_for("T00001")),
        "request explanations": lambda: store.request_explanation(auditor, case_id),
        "record explanations": lambda: store.record_explanation(auditor, case_id, "other", "x"),
        "decide cases": lambda: store.decide(auditor, case_id, "cleared"),
        "close cases": lambda: store.close(auditor, case_id),
        "comment on cases": lambda: store.comment(auditor, case_id, "x"),
        "reopen cases": lambda: store.reopen(auditor, case_id, "x"),
        "escalate cases": lambda: store.escalate(auditor, case_id, "x"),
        "propose threshold changes": lambda: store.propose_threshold(auditor, "p", 1, "x"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(CasePermissionError) as error:
            attempt()
        assert str(error.value) == f"park (auditor) may not {what}"
    assert len(store.audit_trail(auditor)) == 4


def test_reviewer_limits(store: CaseStore, reviewer: Actor, other_reviewer: Actor, lead: Actor) -> None:
    case_id = _worked_case(store, reviewer)
    with pytest.raises(CasePermissionError, match="kim \\(reviewer\\) may not assign cases to others"):
        store.assign(reviewer, case_id_for("T00001"), "choi")
    with pytest.raises(CasePermissionError, match=r"may not take case .*: it is assigned to kim"):
        store.assign(other_reviewer, case_id)
    with pytest.raises(
        CasePermissionError, match=r"may not request explanation case .*: it is assigned to kim"
    ):
        store.request_explanation(other_reviewer, case_id)
    store.assign(lead, case_id_for("T00002"), "choi")
    with pytest.raises(
        CasePermissionError, match=r"kim \(reviewer\) may not decide case .*: it is assigned to choi"
    ):
        store.decide(reviewer, case_id_for("T00002"), "cleared")
    for what, attempt in {
        "reopen cases": lambda: store.reopen(reviewer, case_id, "x"),
        "escalate cases": lambda: store.escalate(reviewer, case_id, "x"),
        "propose threshold changes": lambda: store.propose_threshold(reviewer, "p", 1, "x"),
        "read the audit trail": lambda: store.audit_trail(reviewer),
        "view threshold changes": lambda: store.threshold_changes(reviewer),
    }.items():
        with pytest.raises(CasePermissionError, match=f"kim \\(reviewer\\) may not {what}"):
            attempt()
    # a reviewer may comment on any case and read any case's history
    store.comment(other_reviewer, case_id, "같은 가맹점 건이 더 있음")
    assert list(store.history(other_reviewer, case_id)["action"]) == ["open", "assign", "comment"]


def test_lead_does_everything_a_reviewer_does_and_more(
    store: CaseStore, reviewer: Actor, lead: Actor
) -> None:
    case_id = _worked_case(store, reviewer)
    store.assign(lead, case_id, "choi")
    store.request_explanation(lead, case_id)
    store.record_explanation(lead, case_id, "official_event", "호프데이")
    store.decide(lead, case_id, "cleared")
    store.close(lead, case_id)
    store.reopen(lead, case_id, "재검토")
    store.escalate(lead, case_id, "반복 패턴")
    assert store.get_case(lead, case_id).escalated


def test_roles_file_lists_the_three_roles_with_inheritance() -> None:
    book = RoleBook.load()
    assert {"reviewer", "lead", "auditor"} <= set(book.roles)
    assert book.roles["reviewer"].permissions < book.roles["lead"].permissions
    assert not book.roles["reviewer"].sees_employee_ids
    assert book.roles["lead"].sees_employee_ids and book.roles["auditor"].sees_employee_ids
    writes = {
        "assign_self",
        "decide",
        "request_explanation",
        "record_explanation",
        "close",
        "comment",
        "reopen",
    }
    assert not book.roles["auditor"].permissions & writes


def test_users_pinned_in_the_roles_file(tmp_path: Path, clock: Clock) -> None:
    text = ROLES_FILE.read_text(encoding="utf-8")
    pinned = tmp_path / "roles.yml"
    pinned.write_text(
        text.replace("users: {}", "users:\n  kim: [reviewer]\n  lee: [lead, reviewer]\n"), encoding="utf-8"
    )
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}", roles=pinned, clock=clock).create()
    assert store.actor("lee").role == "lead"
    assert store.actor("lee", "reviewer").role == "reviewer"
    with pytest.raises(CasePermissionError, match="kim may not act as lead"):
        store.actor("kim", "lead")
    with pytest.raises(CasePermissionError, match="mallory is not listed in the roles file"):
        store.actor("mallory", "reviewer")
    store.open_cases(make_alerts(1))
    with pytest.raises(CasePermissionError, match="not listed in the roles file"):
        store.assign(store.actor("lee"), case_id_for("T00000"), "mallory")
    store.dispose()


def test_bad_roles_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "roles.yml"
    bad.write_text("roles:\n  reviewer:\n    permissions: [decide, fly]\n")
    with pytest.raises(ValueError, match="role reviewer has unknown permission\\(s\\) fly"):
        RoleBook.load(bad)
    with pytest.raises(CasePermissionError, match="unknown role 'boss'"):
        RoleBook.load().actor("x", "boss")


def test_pseudonyms_are_stable_and_lifted_on_escalation(
    store_url: str, store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock
) -> None:
    case_id = _worked_case(store, reviewer)
    seen = store.get_case(reviewer, case_id)
    assert re.fullmatch(r"EMP-[0-9a-f]{8}", seen.employee_id) and seen.identity_masked
    assert re.fullmatch(r"CARD-[0-9a-f]{8}", seen.card_id)
    # T00000 and T00007 belong to the same employee E0: the same pseudonym, others differ
    store.open_cases(make_alerts(1, start=7))
    queue = store.list_cases(reviewer).set_index("case_id")
    assert queue.loc[case_id_for("T00007"), "employee_id"] == seen.employee_id
    assert queue.loc[case_id_for("T00001"), "employee_id"] != seen.employee_id
    assert "E0" not in set(queue["employee_id"]) and "K0" not in set(queue["card_id"])

    # a second store instance on the same database (another dashboard session) shows the same pseudonym
    with CaseStore(store_url, clock=clock) as again:
        assert again.get_case(again.actor("kim", "reviewer"), case_id).employee_id == seen.employee_id

    # the history shows pseudonyms too, including the pipeline's open event
    opened = store.history(reviewer, case_id).iloc[0]["after"]
    assert opened["employee_id"] == seen.employee_id and opened["card_id"] == seen.card_id

    assert store.get_case(lead, case_id).employee_id == "E0"
    store.escalate(lead, case_id, "고액 반복 사용")
    lifted = store.get_case(reviewer, case_id)
    assert (lifted.employee_id, lifted.card_id, lifted.identity_masked) == ("E0", "K0", False)
    assert store.history(reviewer, case_id).iloc[0]["after"]["employee_id"] == "E0"
    # escalating one case does not reveal the same person on other cases
    assert store.get_case(reviewer, case_id_for("T00007")).employee_id == seen.employee_id


def test_pseudonym_key_differs_between_stores(tmp_path: Path, clock: Clock) -> None:
    names = []
    for name in ("a", "b"):
        with CaseStore(f"sqlite:///{tmp_path / name / 'c.sqlite'}", clock=clock) as store:
            store.create().open_cases(make_alerts(1))
            names.append(store.get_case(store.actor("kim", "reviewer"), case_id_for("T00000")).employee_id)
    assert names[0] != names[1]
