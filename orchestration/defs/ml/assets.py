"""Detection: train (challenger + promotion gate) when due, score each day with the champion, decide alerts."""

from datetime import date

import dagster as dg
import duckdb

from orchestration.config import pipeline_config
from orchestration.defs.partitions import daily_partitions, single_run_backfill
from orchestration.defs.resources import CardwatchResource
from orchestration.locking import warehouse_lock

DETECTION_KEYS = {
    "champion_model": dg.AssetKey(["ml", "champion_model"]),
    "scores": dg.AssetKey(["marts", "fct_scores"]),
    "alerts": dg.AssetKey(["marts", "fct_alerts"]),
    "decisions": dg.AssetKey(["monitoring", "model_decisions"]),
    "drift": dg.AssetKey(["monitoring", "feature_drift_daily"]),
}
UPSTREAM = [
    dg.AssetKey(["features", "fct_transaction_features"]),
    dg.AssetKey(["marts", "fct_rule_hits"]),
    dg.AssetKey(["staging", "stg_casework__case_outcomes"]),
    dg.AssetKey(["staging", "stg_casework__legacy_alerts"]),
]


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    window = context.partition_time_window
    first = window.start.date()
    last = window.end.date().fromordinal(window.end.date().toordinal() - 1)
    return first, last


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DETECTION_KEYS["champion_model"],
            deps=UPSTREAM,
            group_name="ml",
            description="The registered champion (MLflow alias) after this run's retraining and promotion gate.",
        ),
        dg.AssetSpec(
            DETECTION_KEYS["scores"],
            deps=UPSTREAM,
            group_name="ml",
            description="One row per transaction and day scored: hybrid score, components, reasons.",
        ),
        dg.AssetSpec(
            DETECTION_KEYS["alerts"],
            deps=UPSTREAM,
            group_name="ml",
            description="The day's alerts: hard violations, ranked grey zone up to capacity, exploration sample.",
        ),
        dg.AssetSpec(
            DETECTION_KEYS["decisions"],
            deps=UPSTREAM,
            group_name="monitoring",
            description="Every training, promotion and refusal with its metrics.",
        ),
        dg.AssetSpec(
            DETECTION_KEYS["drift"],
            deps=UPSTREAM,
            group_name="monitoring",
            description="Population stability index of key features per day against the champion's training data.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
)
def detection(context: dg.AssetExecutionContext, cardwatch: CardwatchResource):
    """Retrain when scheduled or drifting, score the partition's days, decide their alerts."""
    from ml.registry import ModelRegistry  # the model stack loads while dbt runs (defs/dbt/assets.py)
    from orchestration.scoring import run_detection

    paths = cardwatch.paths()
    first, last = partition_days(context)
    registry = ModelRegistry(paths.registry)
    with warehouse_lock(paths.home, wait_seconds=600):
        con = duckdb.connect(str(paths.warehouse))
        try:
            summary = run_detection(con, registry, first, last, pipeline_config()["retraining"])
        finally:
            con.close()
    context.log.info(
        f"detection {first}..{last}: {summary['scored']} scored, {summary['rescored_on_claim']} earlier ones "
        f"scored again on their claim's arrival, {summary['alerts']} alerts"
    )
    common = {"first_day": first.isoformat(), "last_day": last.isoformat()}
    yield dg.MaterializeResult(
        asset_key=DETECTION_KEYS["champion_model"],
        metadata={
            **common,
            "champion_version": str(summary["champion"]),
            "retrained": len(summary["retrained"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=DETECTION_KEYS["scores"], metadata={**common, "rows": summary["scored"]}
    )
    yield dg.MaterializeResult(
        asset_key=DETECTION_KEYS["alerts"],
        metadata={
            **common,
            "alerts": summary["alerts"],
            "rescored_on_claim": summary["rescored_on_claim"],
            **{f"route_{k}": v for k, v in summary["by_route"].items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=DETECTION_KEYS["decisions"],
        metadata={"trainings": dg.MetadataValue.json(summary["retrained"])},
    )
    yield dg.MaterializeResult(asset_key=DETECTION_KEYS["drift"], metadata=common)
