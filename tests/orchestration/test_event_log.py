"""Cardwatch's Dagster instance stores run events through one pooled engine, and they read back."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from orchestration.event_log import CardwatchEventLogStorage
from orchestration.runner import prepare_dagster_home
from orchestration.settings import Paths


@dg.op
def _count(context) -> int:
    context.log.info("counted")
    return 3


@dg.job
def _tiny():
    _count()


def test_runs_store_their_events_in_the_cardwatch_storage(tmp_path, monkeypatch):
    # prepare_dagster_home sets these; monkeypatch puts back what was there before the test
    for name in ("DAGSTER_HOME", "CARDWATCH_HOME", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"):
        monkeypatch.setenv(name, "")
    paths = Paths.from_env(tmp_path / "home").ensure()
    prepare_dagster_home(paths)
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, CardwatchEventLogStorage)
        first = _tiny.execute_in_process(instance=instance)
        second = _tiny.execute_in_process(instance=instance)
        assert first.success and second.success
        for result in (first, second):
            types = [
                entry.dagster_event_type
                for entry in storage.get_logs_for_run(result.run_id)
                if entry.is_dagster_event
            ]
            assert dg.DagsterEventType.RUN_SUCCESS in types
            assert dg.DagsterEventType.STEP_OUTPUT in types
        # one engine for the storage's life, with WAL and normal syncs on its connections
        assert storage._engine is storage._engine
        with storage._connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1
    assert (paths.dagster_home / "event_log" / "event_log.db").exists()
