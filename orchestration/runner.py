"""Run the daily Dagster job in-process for one day or a range (a backfill as one run)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from orchestration.settings import Paths

DAGSTER_YAML = """\
# Dagster instance for Cardwatch, rewritten by `cardwatch` before each run.
# One writer at a time is enforced by $CARDWATCH_HOME/warehouse.lock, an OS file lock that is
# released when its process dies; Dagster pool limits are not used because a run killed
# in-process would keep its pool slot and block every later run.
telemetry:
  enabled: false
# All run events in one SQLite file (the default keeps one file per run plus an index, and writes
# every event twice), through one pooled engine with normal WAL syncs (orchestration/event_log.py).
event_log_storage:
  module: orchestration.event_log
  class: CardwatchEventLogStorage
  config:
    base_dir: {event_log_dir}
concurrency:
  runs:
    max_concurrent_runs: 1  # the daemon launches one daily run at a time
"""


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    partitions: str
    failed_steps: list[str]


def prepare_dagster_home(paths: Paths) -> None:
    """Point Dagster at $CARDWATCH_HOME/dagster with the project's instance settings."""
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    (paths.dagster_home / "dagster.yaml").write_text(
        DAGSTER_YAML.format(event_log_dir=paths.dagster_home / "event_log"), encoding="utf-8"
    )
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    # A range run (a backfill) records one planned materialization per partitioned asset for the
    # whole range instead of one per asset and day (a year: 6 events instead of 2,190). The cost, as
    # Dagster documents it: if such a run fails, its days show as missing, not failed, in the UI.
    os.environ["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] = "1"
    os.environ["CARDWATCH_HOME"] = str(paths.home)


def run_days(paths: Paths, start: date, end: date | None = None) -> RunOutcome:
    """Materialize the daily job for ``start`` (or the range start..end in a single run)."""
    prepare_dagster_home(paths)
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("cardwatch_daily")
    instance = dg.DagsterInstance.get()
    end = end or start
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if start == end:
        result = job.execute_in_process(
            instance=instance, partition_key=start.isoformat(), raise_on_error=False
        )
        label = start.isoformat()
    else:
        tags = {
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        }
        result = job.execute_in_process(run_config=quiet, instance=instance, tags=tags, raise_on_error=False)
        label = f"{start.isoformat()}..{end.isoformat()}"
    failed = [event.step_key or "" for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    return RunOutcome(run_id=result.run_id, success=result.success, partitions=label, failed_steps=failed)
