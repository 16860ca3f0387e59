"""The daily job end to end through Dagster, on a small simulated company."""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ml.explain import load_parameters
from orchestration.runner import run_days
from orchestration.settings import Paths

pytestmark = pytest.mark.slow

DAY = date(2025, 2, 20)


def alerts_and_cases(paths: Paths) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect(str(paths.snapshot), read_only=True)
    try:
        alerts = con.execute(
            "SELECT transaction_id, alert_date, route, rank, round(score, 9) FROM marts.fct_alerts ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    import sqlite3

    store = sqlite3.connect(paths.home / "cases.sqlite")
    try:
        cases = store.execute("SELECT transaction_id, status FROM cases ORDER BY transaction_id").fetchall()
    finally:
        store.close()
    return alerts, cases


def lock_is_held(path: Path) -> bool:
    if not path.exists():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_cases_name_what_raised_them(paths: Paths) -> None:
    """A case's alerted_by names the rules and the route, or the exploration sample alone (a random pick)."""
    import json
    import sqlite3

    from ml.labels import alert_source

    con = duckdb.connect(str(paths.snapshot), read_only=True)
    try:
        routes = dict(con.execute("SELECT transaction_id, route FROM marts.fct_alerts").fetchall())
    finally:
        con.close()
    store = sqlite3.connect(paths.home / "cases.sqlite")
    try:
        raised = {t: json.loads(a) for t, a in store.execute("SELECT transaction_id, alerted_by FROM cases")}
    finally:
        store.close()
    randoms = set(load_parameters("labels")["random_sources"])
    for transaction_id, sources in raised.items():
        route = routes[transaction_id]
        if route == "exploration":
            assert sources == ["exploration"] and alert_source(sources[0]) in randoms
        else:
            assert sources[-1] == f"cardwatch:{route}", sources
            assert not {alert_source(s) for s in sources} & randoms


def test_daily_run_end_to_end_twice_gives_the_same_alerts_and_cases(company_home: Path) -> None:
    paths = Paths.from_env()
    first = run_days(paths, DAY)
    assert first.success, first.failed_steps
    alerts, cases = alerts_and_cases(paths)
    assert alerts, "the day raised no alert"
    assert {a[1] for a in alerts} == {DAY}
    assert sorted(t for t, _ in cases) == sorted({a[0] for a in alerts})
    con = duckdb.connect(str(paths.snapshot), read_only=True)
    try:
        decisions = con.execute("SELECT action FROM monitoring.model_decisions").fetchall()
        scored_days = con.execute("SELECT DISTINCT transacted_date FROM marts.fct_scores").fetchall()
    finally:
        con.close()
    assert ("register",) in decisions and ("promote",) in decisions
    assert scored_days == [(DAY,)]
    assert_cases_name_what_raised_them(paths)

    second = run_days(paths, DAY)
    assert second.success, second.failed_steps
    assert alerts_and_cases(paths) == (alerts, cases)


def test_killed_run_leaves_the_snapshot_unchanged_and_the_next_run_recovers(company_home: Path) -> None:
    paths = Paths.from_env()
    assert run_days(paths, DAY).success
    before = digest(paths.snapshot)

    cardwatch = Path(sys.executable).with_name("cardwatch")
    env = dict(os.environ, CARDWATCH_HOME=str(paths.home))
    proc = subprocess.Popen(
        [str(cardwatch), "run", "--date", "2025-02-21"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    # wait until the run holds the warehouse lock (it is writing), then kill the whole process group
    deadline = time.monotonic() + 600
    while (
        time.monotonic() < deadline
        and proc.poll() is None
        and not lock_is_held(paths.home / "warehouse.lock")
    ):
        time.sleep(0.2)
    time.sleep(2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)

    assert digest(paths.snapshot) == before
    con = duckdb.connect(str(paths.snapshot), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.fct_alerts").fetchall()[0][0] > 0
    finally:
        con.close()
    recovered = run_days(paths, date(2025, 2, 21))
    assert recovered.success, recovered.failed_steps
    assert digest(paths.snapshot) != before
