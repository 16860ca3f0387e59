"""The company's day: daily partitions in local time (Asia/Seoul by default)."""

from __future__ import annotations

import dagster as dg

from orchestration.config import pipeline_config

_settings = pipeline_config()["partitions"]

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings["start_date"], timezone=_settings["timezone"], end_offset=1
)
# A backfill of any range runs as one run, not one per day.
single_run_backfill = dg.BackfillPolicy.single_run()
