"""Cardwatch's Dagster definitions: this module only merges the areas under defs/."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from orchestration.defs.cases.assets import case_handoff, case_store_outcomes
from orchestration.defs.dbt.assets import CardwatchDbtCliResource, cardwatch_dbt, dbt_project
from orchestration.defs.ingest.assets import landing_sources
from orchestration.defs.ml.assets import detection
from orchestration.defs.monitoring.assets import monitoring_marts
from orchestration.defs.publish.assets import published_snapshot
from orchestration.defs.resources import CardwatchResource
from orchestration.defs.schedules import daily_job, daily_schedule, landing_sensor

defs = dg.Definitions(
    assets=[
        landing_sources,
        case_store_outcomes,
        cardwatch_dbt,
        detection,
        case_handoff,
        monitoring_marts,
        published_snapshot,
    ],
    jobs=[daily_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources={
        "cardwatch": CardwatchResource(),
        "dbt": CardwatchDbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    },
)
