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


def test_dagster_ui_finds_this_environments_dbt(tmp_path, monkeypatch):
    """`cardwatch dagster` puts this environment's bin folder on PATH before it becomes `dagster dev`:
    the code server and dagster-dbt's project preparation call `dbt` by name."""
    import os
    import sys
    from pathlib import Path

    from click.testing import CliRunner

    from orchestration import commands

    for name in ("DAGSTER_HOME", "CARDWATCH_HOME", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    launched: list[tuple[str, list[str], str]] = []
    monkeypatch.setattr(
        commands.os, "execv", lambda exe, argv: launched.append((exe, argv, os.environ["PATH"]))
    )
    result = CliRunner().invoke(commands.dagster, ["--home", str(tmp_path / "home"), "--port", "3999"])
    assert result.exit_code == 0, result.output
    ((exe, argv, path),) = launched
    bin_dir = str(Path(sys.executable).parent)
    assert exe == str(Path(bin_dir) / "dagster")
    assert argv[1:4] == ["dev", "-m", "orchestration.definitions"]
    assert path.split(os.pathsep)[0] == bin_dir
    assert (Path(bin_dir) / "dbt").exists()
