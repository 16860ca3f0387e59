"""Dagster's run-event storage for Cardwatch: one SQLite file, one pooled engine, WAL with normal syncs.

Dagster's consolidated SQLite storage builds a new SQLAlchemy engine and opens a new connection for every
event it writes, and SQLite's default ``synchronous=FULL`` syncs the write-ahead log at every commit. A
daily run writes about 750 events (one per dbt model, test and step), which cost seconds of the run's
main thread. This storage keeps one engine with a small pool and sets ``synchronous=NORMAL`` on each
connection: in WAL mode the database stays consistent after a crash or a power cut, and only the last
events before a power cut may be lost. The run's bookkeeping is what lives here; cases and decisions are
in the case store, and published results in the snapshot.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS


class CardwatchEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """``ConsolidatedSqliteEventLogStorage`` with a reused engine (see the module docstring)."""

    @cached_property
    def _engine(self) -> sa.Engine:
        engine = sa.create_engine(
            self._conn_string,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine

    @contextmanager
    def _connect(self):
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()
        super().dispose()
