"""Two writers at once: a stale version is refused, nothing is lost, and parallel work all lands."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from orchestration.cases import Actor, CaseStore, ConcurrentUpdateError
from orchestration.cases.handoff import case_id_for
from orchestration.cases.schema import case_events, cases

from .conftest import Clock, make_alerts
from .workers import decide_all


def _count(store: CaseStore, query) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_stale_version_from_a_second_store_is_refused(store_url: str, clock: Clock) -> None:
    first = CaseStore(store_url, clock=clock).create()
    second = CaseStore(store_url, clock=clock)
    try:
        first.open_cases(make_alerts(1))
        case_id = case_id_for("T00000")
        kim, choi, lead = (
            first.actor("kim", "reviewer"),
            second.actor("choi", "reviewer"),
            first.actor("lee", "lead"),
        )
        first.assign(lead, case_id, "kim")
        first.request_explanation(kim, case_id)
        first.record_explanation(kim, case_id, "business_meal", "회의 식대")

        # both screens load the case at the same version
        seen_by_kim = first.get_case(kim, case_id).version
        seen_by_lead = second.get_case(second.actor("lee", "lead"), case_id).version
        assert seen_by_kim == seen_by_lead

        clock.advance(hours=1)
        first.decide(kim, case_id, "confirmed", 10_000, expected_version=seen_by_kim)
        with pytest.raises(ConcurrentUpdateError) as error:
            second.decide(second.actor("lee", "lead"), case_id, "cleared", expected_version=seen_by_lead)
        message = str(error.value)
        assert (
            message == f"case {case_id} was changed by kim at 2026-03-02 01:00:00 UTC; reload and try again"
        )
        with pytest.raises(ConcurrentUpdateError):
            second.comment(choi, case_id, "late note", expected_version=seen_by_lead)

        case = second.get_case(second.actor("lee", "lead"), case_id)
        assert (case.decision, case.recovered_amount, case.version) == (
            "confirmed",
            10_000.0,
            seen_by_kim + 1,
        )
        history = second.history(second.actor("lee", "lead"), case_id)
        assert list(history["action"]).count("decide") == 1
        assert history.iloc[-1]["actor"] == "kim"
    finally:
        first.dispose()
        second.dispose()


def test_racing_on_one_case_exactly_one_wins(store: CaseStore, lead: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")
    store.assign(lead, case_id, "kim")
    version = store.get_case(lead, case_id).version
    barrier = threading.Barrier(8)

    def attempt(i: int) -> str:
        with CaseStore(store.url) as mine:
            actor = mine.actor(f"lead{i}", "lead")
            barrier.wait()
            try:
                mine.decide(actor, case_id, "cleared", note=f"lead{i}", expected_version=version)
            except ConcurrentUpdateError:
                return "refused"
            return "won"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count("won") == 1 and results.count("refused") == 7
    decides = store.history(lead, case_id).query("action == 'decide'")
    assert len(decides) == 1
    assert store.get_case(lead, case_id).version == version + 1


def test_concurrent_comments_without_a_pinned_version_all_land(store: CaseStore, lead: Actor) -> None:
    store.open_cases(make_alerts(1))
    case_id = case_id_for("T00000")

    def write(i: int) -> None:
        with CaseStore(store.url) as mine:
            actor = mine.actor(f"lead{i % 2}", "lead")
            for n in range(25):
                mine.comment(actor, case_id, f"{i}-{n}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    history = store.history(lead, case_id)
    assert len(history) == 1 + 100
    assert sorted(history["version"]) == list(range(1, 102))
    assert store.get_case(lead, case_id).version == 101


def _prepare(store: CaseStore, n: int, lead: Actor) -> list[str]:
    store.open_cases(make_alerts(n))
    ids = [case_id_for(f"T{i:05d}") for i in range(n)]
    for i, case_id in enumerate(ids):
        reviewer = "kim" if i % 2 == 0 else "choi"
        store.assign(lead, case_id, reviewer)
        store.request_explanation(lead, case_id)
        store.record_explanation(lead, case_id, "other", "설명")
    return ids


def _assert_all_decided(store: CaseStore, ids: list[str]) -> None:
    assert _count(store, select(func.count()).select_from(cases).where(cases.c.status == "decided")) == len(
        ids
    )
    decide_events = select(func.count()).select_from(case_events).where(case_events.c.action == "decide")
    assert _count(store, decide_events) == len(ids)
    assert _count(store, select(func.count()).select_from(case_events)) == len(ids) * 5
    assert _count(
        store,
        select(func.count(func.distinct(case_events.c.case_id))).where(case_events.c.action == "decide"),
    ) == len(ids)
    with store.engine.connect() as conn:
        order = list(
            conn.execute(
                select(case_events.c.actor)
                .where(case_events.c.action == "decide")
                .order_by(case_events.c.event_id)
            ).scalars()
        )
    switches = sum(1 for a, b in pairwise(order) if a != b)
    assert switches > 1, "the two writers did not overlap"


def test_two_processes_record_200_decisions_at_once(store: CaseStore, lead: Actor) -> None:
    ids = _prepare(store, 200, lead)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=decide_all, args=(store.url, name, part, start))
        for name, part in (("kim", ids[0::2]), ("choi", ids[1::2]))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0]
    _assert_all_decided(store, ids)


def test_two_threads_record_200_decisions_at_once(store: CaseStore, lead: Actor) -> None:
    ids = _prepare(store, 200, lead)
    start = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(decide_all, store.url, name, part, start)
            for name, part in (("kim", ids[0::2]), ("choi", ids[1::2]))
        ]
        assert [job.result(timeout=120) for job in jobs] == [100, 100]
    _assert_all_decided(store, ids)
