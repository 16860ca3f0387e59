"""The audit trail is append-only: no API or SQL statement can rewrite or remove a decision."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from orchestration.cases import Actor, CaseStore, ConcurrentUpdateError
from orchestration.cases.handoff import case_id_for
from orchestration.cases.schema import case_events, cases, threshold_changes

from .conftest import Clock, make_alerts


def _decided(store: CaseStore, reviewer: Actor) -> str:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(reviewer, case_id)
    store.request_explanation(reviewer, case_id)
    store.decide(reviewer, case_id, "confirmed", 10_000, note="영수증 없음")
    return case_id


def test_a_decision_is_never_lost(
    store_url: str, store: CaseStore, reviewer: Actor, lead: Actor, clock: Clock
) -> None:
    case_id = _decided(store, reviewer)
    stale = store.get_case(lead, case_id).version - 1
    with pytest.raises(ConcurrentUpdateError):
        store.decide(lead, case_id, "cleared", expected_version=stale)
    store.reopen(lead, case_id, "소명 재검토")
    store.decide(lead, case_id, "cleared")

    with CaseStore(store_url, clock=clock) as fresh:  # read back through a new connection
        decisions = fresh.history(lead, case_id).query("action == 'decide'")
    assert [(row["actor"], row["after"]["decision"]) for _, row in decisions.iterrows()] == [
        ("kim", "confirmed"),
        ("lee", "cleared"),
    ]
    assert decisions.iloc[0]["note"] == "영수증 없음"
    reopen = store.history(lead, case_id).query("action == 'reopen'").iloc[0]
    assert reopen["before"]["decision"] == "confirmed" and reopen["after"]["decision"] is None


@pytest.mark.parametrize(
    "statement",
    [
        update(case_events).values(note="edited"),
        delete(case_events),
        update(threshold_changes).values(reason="edited"),
        delete(threshold_changes),
        delete(cases),
    ],
    ids=["update-event", "delete-event", "update-threshold", "delete-threshold", "delete-case"],
)
def test_the_database_refuses_to_rewrite_history(
    store: CaseStore, reviewer: Actor, lead: Actor, statement
) -> None:
    _decided(store, reviewer)
    store.propose_threshold(lead, "daily_review_capacity", 50, "인력 변동")
    before = len(store.audit_trail(lead)), len(store.threshold_changes(lead))
    with pytest.raises(DBAPIError, match=r"append-only|never deleted"), store.engine.begin() as conn:
        conn.execute(statement)
    assert (len(store.audit_trail(lead)), len(store.threshold_changes(lead))) == before


def test_the_api_offers_no_way_to_edit_or_delete_events() -> None:
    public = {name for name in dir(CaseStore) if not name.startswith("_")}
    assert not {
        name for name in public if any(word in name for word in ("delete", "remove", "edit", "purge"))
    }


def test_create_is_idempotent_and_keeps_data(
    store_url: str, store: CaseStore, reviewer: Actor, clock: Clock
) -> None:
    case_id = _decided(store, reviewer)
    pseudonym = store.get_case(reviewer, case_id).employee_id
    store.create()
    with CaseStore(store_url, clock=clock) as second:
        second.create()
        assert second.get_case(reviewer, case_id).decision == "confirmed"
        assert second.get_case(reviewer, case_id).employee_id == pseudonym
        assert len(second.history(reviewer, case_id)) == 4


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(store: CaseStore) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only settings")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_default_url_lives_under_cardwatch_home(home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
    with CaseStore() as store:
        store.create()
        assert store.url == f"sqlite:///{home.resolve() / 'cases.sqlite'}"
        assert (home / "cases.sqlite").exists()


def test_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a SQLite file"):
        CaseStore("sqlite://")
