"""The pipeline runs while the dashboard serves and reviewers record decisions: no error anywhere, nothing lost.

A small simulated company is run for one day first, so the store holds open cases and the dashboard has a
published snapshot. Then, all at once:

- `cardwatch run --backfill` (a subprocess) re-runs that day and runs the next: it reads the store to
  export decided cases, hands the first day's alerts off again, opens the next day's cases and swaps in a
  new snapshot;
- a reviewer script works cases through the CaseStore API (assign, 소명 요청, 소명 접수, decide), now and
  then with two people racing on the same case at the same version;
- the real dashboard server (`streamlit run`) answers HTTP, and this process renders the cases and overview
  pages with AppTest against the same $CARDWATCH_HOME, over and over;
- a reader opens the published snapshot in a tight loop, the way the dashboard does, across the swap.

Afterwards every action the script recorded is in the store and, once, in the audit trail; every race had
one winner and a clear conflict error for the loser; the re-handoff reset no decided case.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards import data, i18n
from dashboards.cli import APP, streamlit_command
from orchestration.cases import Actor, Case, CaseStore, ConcurrentUpdateError
from orchestration.cases.lifecycle import OPEN_STATUSES
from orchestration.cases.roles import PIPELINE_ACTOR
from orchestration.settings import Paths

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("orchestration")]

FIRST_DAY = date(2025, 2, 20)
NEXT_DAY = date(2025, 2, 21)
MIN_ACTIONS = 48  # several dozen reviewer actions, whatever the speed of the machine
PAUSE = 0.4  # seconds between a reviewer's actions, so the work spreads over the whole run
RUN_TIMEOUT = 900
CONFLICT = re.compile(
    r"^case C-[0-9a-f]{16} was changed by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; reload and try again$"
)
CATEGORIES = ("business_meal", "client_entertainment", "business_trip", "personal_use_admitted")
DECISIONS = ("confirmed", "partial", "cleared")
TRACKED = ("status", "assignee", "decision")  # the fields whose before → after chain is replayed


def now() -> datetime:
    return datetime.now(UTC)


# -- the pipeline and the dashboard server ------------------------------------------------------------


def cardwatch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("cardwatch")), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", "replace")


@contextmanager
def dashboard_server(env: dict[str, str], workdir: Path) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """`streamlit run` on a free localhost port (started at once; see wait_until_healthy)."""
    port = free_port()
    log = workdir / "streamlit.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            streamlit_command("127.0.0.1", port), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir
        )
    try:
        yield server, f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


def wait_until_healthy(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if get(f"{url}/_stcore/health")[0] == 200:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def render(path: str) -> AppTest:
    """One AppTest render of a page, as the lead, in English (as tests/dashboards/conftest.py does)."""
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["lang"] = "en"
    app.session_state["role"] = "lead"
    app.run()
    app.switch_page(path)
    return app.run()


def exceptions(app: AppTest) -> list[str]:
    return [element.message for element in app.exception]


# -- a reader of the published snapshot ---------------------------------------------------------------


class SnapshotReader(threading.Thread):
    """Reads the published snapshot again and again: through the dashboard's cached attachment, and by
    opening the file afresh each time (what a new dashboard session does right after a swap)."""

    def __init__(self) -> None:
        super().__init__(name="snapshot-reader", daemon=True)
        self.finish = threading.Event()
        self.reads = 0
        self.inodes: list[int] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.finish.is_set():
            try:
                snapshot = data.current_snapshot()
                assert snapshot is not None, "no snapshot published"
                cached = data._query(snapshot, "select count(*) as n from marts.fct_alerts")["n"][0]
                fresh = duckdb.connect(snapshot.path, read_only=True)
                try:
                    alerts = fresh.execute("select count(*) from marts.fct_alerts").fetchone()[0]
                    fresh.execute("select max(published_at) from meta.published").fetchone()
                finally:
                    fresh.close()
                assert cached > 0 and alerts > 0, "an empty alerts table"
                self.reads += 1
                if not self.inodes or self.inodes[-1] != snapshot.inode:
                    self.inodes.append(snapshot.inode)
            except Exception:  # every failure is reported by the test
                self.failures.append(traceback.format_exc(limit=4))
            time.sleep(0.05)


# -- the reviewer script ------------------------------------------------------------------------------


@dataclass
class Done:
    """One action the script recorded: the event it must have produced."""

    case_id: str
    action: str
    actor: str
    role: str
    version: int
    started: datetime
    finished: datetime
    expect: dict[str, Any]  # fields the event's `after` must hold


@dataclass
class Race:
    case_id: str
    action: str
    version: int
    winner: str
    loser: str
    error: ConcurrentUpdateError


class Reviewers(threading.Thread):
    """Reviewers and a lead working cases through the store until the pipeline has finished."""

    def __init__(self, url: str, pipeline_done: threading.Event) -> None:
        super().__init__(name="reviewers", daemon=True)
        self.url = url
        self.pipeline_done = pipeline_done
        self.halt = threading.Event()  # the test gave up: stop at once
        self.done: list[Done] = []
        self.races: list[Race] = []
        self.errors: list[str] = []
        self.worked: list[str] = []

    def run(self) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            # two stores, like two dashboard sessions: racers act through different connections
            with CaseStore(self.url) as first, CaseStore(self.url) as second:
                self.stores = (first, second)
                self.lead = first.actor("lead.lee", "lead")
                self.reviewers = (
                    first.actor("reviewer.kim", "reviewer"),
                    first.actor("reviewer.choi", "reviewer"),
                )
                while time.monotonic() < deadline and not self.halt.is_set():
                    if self.pipeline_done.is_set() and len(self.done) >= MIN_ACTIONS:
                        return
                    queue = first.list_cases(self.lead, status="new", sort="score")
                    fresh = [case_id for case_id in queue["case_id"] if case_id not in self.worked]
                    if not fresh:
                        if self.pipeline_done.is_set():
                            return
                        time.sleep(0.5)  # wait for the pipeline's next hand-off
                        continue
                    self.worked.append(fresh[0])
                    self.work(fresh[0], len(self.worked) - 1)
                if not self.halt.is_set():
                    self.errors.append("the reviewer script ran out of time")
        except Exception:  # reported by the test
            self.errors.append(traceback.format_exc())

    def act(self, actor: Actor, case_id: str, action: str, call: Callable[[], Case], expect: dict) -> Case:
        started = now()
        case = call()
        self.done.append(Done(case_id, action, actor.name, actor.role, case.version, started, now(), expect))
        time.sleep(PAUSE)
        return case

    def race(
        self,
        case_id: str,
        action: str,
        contenders: list[tuple[Actor, Callable[[CaseStore, int], Case], dict]],
    ) -> Actor:
        """Both contenders act on the version they both read, at the same moment; exactly one may win."""
        version = self.stores[0].get_case(self.lead, case_id).version
        start = threading.Barrier(len(contenders))
        outcomes: list[Any] = [None] * len(contenders)

        def attempt(k: int) -> None:
            _actor, call, _expect = contenders[k]
            start.wait(60)
            started = now()
            try:
                outcomes[k] = (call(self.stores[k], version), started, now())
            except Exception as error:  # the loser's ConcurrentUpdateError, or anything else: reported
                outcomes[k] = error

        threads = [threading.Thread(target=attempt, args=(k,)) for k in range(len(contenders))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        won = [k for k, outcome in enumerate(outcomes) if isinstance(outcome, tuple)]
        lost = [k for k, outcome in enumerate(outcomes) if isinstance(outcome, ConcurrentUpdateError)]
        if len(won) != 1 or len(lost) != len(contenders) - 1:
            raise AssertionError(f"race on {case_id} ({action}) at version {version}: {outcomes}")
        winner, (case, started, finished) = contenders[won[0]][0], outcomes[won[0]]
        expect = contenders[won[0]][2]
        self.done.append(
            Done(case_id, action, winner.name, winner.role, case.version, started, finished, expect)
        )
        for k in lost:
            self.races.append(Race(case_id, action, version, winner.name, contenders[k][0].name, outcomes[k]))
        time.sleep(PAUSE)
        return winner

    def work(self, case_id: str, i: int) -> None:
        """The whole review of one case; every fourth case has a race on assignment, every fourth a race
        on the decision."""
        store, lead = self.stores[0], self.lead
        kim, choi = self.reviewers
        reviewer = self.reviewers[i % 2]
        if i % 4 == 1:  # two reviewers take the same new case at once
            reviewer = self.race(
                case_id,
                "assign",
                [
                    (
                        who,
                        lambda mine, v, who=who: mine.assign(who, case_id, expected_version=v),
                        {"assignee": who.name, "status": "assigned"},
                    )
                    for who in (kim, choi)
                ],
            )
        else:
            self.act(
                lead,
                case_id,
                "assign",
                lambda: store.assign(lead, case_id, reviewer.name),
                {"assignee": reviewer.name, "status": "assigned"},
            )
        self.act(
            reviewer,
            case_id,
            "request_explanation",
            lambda: store.request_explanation(reviewer, case_id),
            {"status": "explanation_requested"},
        )
        category, text = CATEGORIES[i % len(CATEGORIES)], f"소명 {i}: 거래 사유 설명"
        self.act(
            reviewer,
            case_id,
            "record_explanation",
            lambda: store.record_explanation(reviewer, case_id, category, text),
            {"status": "explanation_received", "category": category, "text": text},
        )
        amount = abs(store.get_case(lead, case_id).amount)
        decision = DECISIONS[i % len(DECISIONS)]
        recovered = {"confirmed": amount, "partial": round(amount / 2, 2), "cleared": 0.0}[decision]

        def decide(who: Actor, choice: str, paid: float) -> Callable[[CaseStore, int], Case]:
            given = paid if choice == "partial" else None
            return lambda mine, v: mine.decide(
                who, case_id, choice, given, note=f"{who.name}", expected_version=v
            )

        if i % 4 == 3:  # the reviewer and the lead decide the same case at once, differently
            other = "cleared" if decision != "cleared" else "confirmed"
            paid = {"confirmed": amount, "cleared": 0.0}[other]
            self.race(
                case_id,
                "decide",
                [
                    (
                        reviewer,
                        decide(reviewer, decision, recovered),
                        {"status": "decided", "decision": decision, "recovered_amount": recovered},
                    ),
                    (
                        lead,
                        decide(lead, other, paid),
                        {"status": "decided", "decision": other, "recovered_amount": paid},
                    ),
                ],
            )
        else:
            version = store.get_case(reviewer, case_id).version
            self.act(
                reviewer,
                case_id,
                "decide",
                lambda: decide(reviewer, decision, recovered)(store, version),
                {"status": "decided", "decision": decision, "recovered_amount": recovered},
            )


# -- the test -----------------------------------------------------------------------------------------


def test_pipeline_dashboard_and_reviewers_at_once(company_home: Path, tmp_path: Path) -> None:
    paths = Paths.from_env()
    env = dict(os.environ, CARDWATCH_HOME=str(paths.home), PYTHONUNBUFFERED="1")
    env.pop("CARDWATCH_PSEUDONYM_KEY", None)
    clear_caches()
    with dashboard_server(env, tmp_path) as (server, url, server_log):
        # the company's first day, while the server starts
        setup = cardwatch(["run", "--date", FIRST_DAY.isoformat()], env, tmp_path / "first_day.log")
        assert setup.wait(timeout=RUN_TIMEOUT) == 0, (tmp_path / "first_day.log").read_text()[-3000:]
        wait_until_healthy(server, url, server_log)

        store = CaseStore(paths.case_store_url)
        lead = store.actor("lead.lee", "lead")
        first_cases = store.list_cases(lead)
        assert len(first_cases) >= 12 and set(first_cases["status"]) == {"new"}
        assert set(first_cases["alert_date"]) == {FIRST_DAY}
        first_inode = paths.snapshot.stat().st_ino

        pipeline_done = threading.Event()
        reviewers = Reviewers(paths.case_store_url, pipeline_done)
        reader = SnapshotReader()
        reader.start()
        reviewers.start()
        backfill_log = tmp_path / "backfill.log"
        run_started = now()
        pipeline = cardwatch(
            ["run", "--backfill", "--start", FIRST_DAY.isoformat(), "--end", NEXT_DAY.isoformat()],
            env,
            backfill_log,
        )
        http_checks, http_failures, renders, render_failures = 0, [], 0, []
        pages = ("app_pages/cases.py", "app_pages/overview.py")
        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while (pipeline.poll() is None or reviewers.is_alive()) and time.monotonic() < deadline:
                if pipeline.poll() is not None:
                    pipeline_done.set()
                for address in (f"{url}/_stcore/health", url, f"{url}/cases"):
                    try:
                        status, body = get(address)
                        http_checks += 1
                        if status != 200 or (address.endswith("health") and body.strip() != "ok"):
                            http_failures.append(f"{address}: {status} {body[:200]}")
                    except OSError as error:
                        http_failures.append(f"{address}: {error}")
                path = pages[renders % len(pages)]
                try:
                    problems = exceptions(render(path))
                except Exception:  # reported below
                    problems = [traceback.format_exc(limit=4)]
                renders += 1
                render_failures += [f"{path}: {problem}" for problem in problems]
                time.sleep(0.5)
            pipeline_done.set()
            assert pipeline.poll() is not None, "the pipeline run did not finish in time"
            reviewers.join(60)
            assert not reviewers.is_alive(), "the reviewer script did not finish in time"
        finally:
            pipeline_done.set()
            reviewers.halt.set()
            reader.finish.set()
            reader.join(30)
            stop(pipeline)

        # -- the pipeline ----------------------------------------------------------------------------
        log = backfill_log.read_text()
        assert pipeline.returncode == 0, log[-3000:]
        assert "succeeded" in log, log[-3000:]
        assert paths.snapshot.stat().st_ino != first_inode, "no new snapshot was published"

        # -- the dashboard ---------------------------------------------------------------------------
        assert not http_failures, "\n".join(http_failures[:10])
        assert not render_failures, "\n".join(render_failures[:5])
        assert renders >= 4 and http_checks >= 12, (renders, http_checks)
        assert not reader.failures, "\n".join(reader.failures[:3])
        assert len(reader.inodes) >= 2 and reader.inodes[0] == first_inode, (
            f"the reader did not see the swap: {reader.inodes}"
        )
        assert server.poll() is None, "the dashboard server stopped"
        assert get(f"{url}/_stcore/health") == (200, "ok")
        server_output = server_log.read_text()
        assert "Traceback" not in server_output, server_output[-3000:]

        # -- the reviewer script ---------------------------------------------------------------------
        assert not reviewers.errors, "\n".join(reviewers.errors)
        done = reviewers.done
        assert len(done) >= MIN_ACTIONS, f"only {len(done)} actions"
        assert {entry.action for entry in done} == {
            "assign",
            "request_explanation",
            "record_explanation",
            "decide",
        }
        assert {race.action for race in reviewers.races} == {"assign", "decide"}
        for race in reviewers.races:
            assert race.winner != race.loser
            assert CONFLICT.match(str(race.error)), str(race.error)
            assert race.error.case_id == race.case_id and race.error.changed_by == race.winner
            assert race.error.version == race.version + 1

        # every action is in the audit trail, once, with who, when and before -> after; none lost, no extra
        trail = store.audit_trail(lead)
        by_script = trail[trail["actor"] != PIPELINE_ACTOR]
        assert sorted(
            map(tuple, by_script[["case_id", "version", "action", "actor", "role"]].values.tolist())
        ) == sorted((entry.case_id, entry.version, entry.action, entry.actor, entry.role) for entry in done)
        events = {(row.case_id, row.version): row for row in trail.itertuples()}
        slack = timedelta(seconds=1)
        for entry in done:
            event = events[(entry.case_id, entry.version)]
            assert entry.started - slack <= event.at <= entry.finished + slack, (entry, event.at)
            assert event.before is not None and "status" in event.before, (entry, event.before)
            assert {key: event.after.get(key) for key in entry.expect} == entry.expect, (entry, event.after)

        # the store holds the last state of every case the script worked, reached through an unbroken chain
        cases = store.list_cases(lead).set_index("case_id")
        for case_id in reviewers.worked:
            history = trail[trail["case_id"] == case_id].sort_values("version")
            assert list(history["version"]) == list(range(1, len(history) + 1)), history
            assert list(history["action"][:1]) == ["open"] and history["actor"].iloc[0] == PIPELINE_ACTOR
            assert (history["action"] == "open").sum() == 1, f"{case_id} was opened twice"
            state = {"status": "new", "assignee": None, "decision": None}
            for event in history.iloc[1:].itertuples():
                before = {key: value for key, value in (event.before or {}).items() if key in TRACKED}
                assert before == {key: state[key] for key in before}, (case_id, event.version, before, state)
                state.update({key: value for key, value in (event.after or {}).items() if key in TRACKED})
            final = cases.loc[case_id]
            assert {key: final[key] for key in TRACKED} == state, case_id
            assert final["version"] == len(history)
            last = [entry for entry in done if entry.case_id == case_id][-1]
            assert final["version"] == last.version
            if last.action == "decide":
                assert final["recovered_amount"] == pytest.approx(last.expect["recovered_amount"])

        # the pipeline opened the next day's cases while the script worked; the first day's alerts were
        # handed off again after the script had decided some of them, and no decided case was reset
        handoff = cases[cases["alert_date"] == NEXT_DAY]["created_at"]
        assert len(handoff) > 0, "the run opened no case for the next day"
        handed_off_at = handoff.min()
        assert run_started < handed_off_at
        assert min(entry.started for entry in done) < handed_off_at < max(entry.finished for entry in done), (
            "the script's writes did not span the pipeline's hand-off"
        )
        decided_before = {
            entry.case_id for entry in done if entry.action == "decide" and entry.finished < handed_off_at
        }
        snapshot = duckdb.connect(str(paths.snapshot), read_only=True)
        try:
            realerted = {
                row[0]
                for row in snapshot.execute(
                    "select transaction_id from marts.fct_alerts where alert_date = ?", [FIRST_DAY]
                ).fetchall()
            }
        finally:
            snapshot.close()
        rehanded = [
            case_id for case_id in decided_before if cases.loc[case_id, "transaction_id"] in realerted
        ]
        assert rehanded, "no decided case was handed off again"
        assert all(cases.loc[case_id, "status"] == "decided" for case_id in rehanded)

        # decided cases leave the store as outcomes; the copy the run exported never contradicts the store
        outcomes = store.outcomes().set_index("transaction_id")
        decided = cases[cases["status"] == "decided"]
        assert set(decided["transaction_id"]) <= set(outcomes.index)
        assert all(
            outcomes.loc[row.transaction_id, "decision"] == row.decision for row in decided.itertuples()
        )
        warehouse = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            exported = warehouse.execute(
                "select transaction_id, decision from raw.case_store_outcomes"
            ).fetchall()
        finally:
            warehouse.close()
        by_transaction = decided.set_index("transaction_id")["decision"]
        assert all(by_transaction.get(tid, decision) == decision for tid, decision in exported)

        # after the run the dashboard shows the new snapshot and the store as they are now
        clear_caches()
        app = render("app_pages/cases.py")
        assert not exceptions(app)
        shown = [element.value for element in app.metric if element.label == "Cases shown"]
        assert shown == [i18n.number(len(store.list_cases(lead, status=list(OPEN_STATUSES))))]
        assert not exceptions(render("app_pages/overview.py"))
        store.dispose()
    clear_caches()
