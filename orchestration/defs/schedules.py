"""The daily job, its 06:00 schedule and a sensor on the landing folder."""

import dagster as dg

from orchestration.config import pipeline_config
from orchestration.defs.partitions import daily_partitions
from orchestration.settings import Paths

_config = pipeline_config()

daily_job = dg.define_asset_job(
    "cardwatch_daily",
    selection=dg.AssetSelection.all(),
    description="Ingest, rebuild rules and features, score, alert, hand off cases, publish.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=_config["schedule"]["hour"],
    minute_of_hour=_config["schedule"]["minute"],
)


@dg.sensor(job=daily_job, minimum_interval_seconds=_config["sensor"]["interval_seconds"])
def landing_sensor(context: dg.SensorEvaluationContext):
    """Start the day's run when new landing files appear (by name and modification time)."""
    landing = Paths.from_env().landing
    files = sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    if not files:
        return dg.SkipReason(f"no landing files under {landing}")
    newest = max(p.stat().st_mtime for p in files)
    cursor = float(context.cursor or 0)
    if newest <= cursor:
        return dg.SkipReason("no new landing files")
    context.update_cursor(str(newest))
    partition = daily_partitions.get_last_partition_key()
    return dg.RunRequest(run_key=f"landing-{newest}", partition_key=partition)
