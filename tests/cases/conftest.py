"""Fixtures for the case store: a real SQLite file per test, or PostgreSQL when CARDWATCH_TEST_PG_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine

from orchestration.cases import Actor, CaseStore

PG_ENV = "CARDWATCH_TEST_PG_URL"


class Clock:
    """A clock the test moves by hand, so durations are exact."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.moment += timedelta(days=days, hours=hours)


def make_alerts(n: int, start: int = 0, day: date = date(2026, 3, 1)) -> pd.DataFrame:
    """n alerts on distinct transactions T{start}..; employee E{i % 7}, card K{i % 7}."""
    ids = range(start, start + n)
    return pd.DataFrame(
        {
            "transaction_id": [f"T{i:05d}" for i in ids],
            "employee_id": [f"E{i % 7}" for i in ids],
            "card_id": [f"K{i % 7}" for i in ids],
            "amount": [10_000.0 * (1 + i % 30) for i in ids],
            "score": [round((i % 100) / 100, 2) for i in ids],
            "reasons": [["r04_late_night"] if i % 2 else ["r01_restricted_merchant", "model"] for i in ids],
            "alert_date": [day + timedelta(days=i % 5) for i in ids],
        }
    )


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("case_events", "threshold_changes", "cases", "case_store_meta"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    engine.dispose()


BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on a SQLite file, and again on PostgreSQL when CARDWATCH_TEST_PG_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'cases.sqlite'}"
    url = os.environ[PG_ENV]
    _reset_postgres(url)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[CaseStore]:
    with CaseStore(store_url, clock=clock) as opened:
        yield opened.create()


@pytest.fixture
def reviewer(store: CaseStore) -> Actor:
    return store.actor("kim", "reviewer")


@pytest.fixture
def other_reviewer(store: CaseStore) -> Actor:
    return store.actor("choi", "reviewer")


@pytest.fixture
def lead(store: CaseStore) -> Actor:
    return store.actor("lee", "lead")


@pytest.fixture
def auditor(store: CaseStore) -> Actor:
    return store.actor("park", "auditor")
